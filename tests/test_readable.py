"""Subtitles a viewer can read (SPEC "Subtitles people can read"): on both engines, every cue
follows the job's style preset, words are kept, and the JSON says how well the rules were met.

The rules are checked here from the SRT file a user takes home, independently of the quality
report the job writes (which is checked against them).
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import srt

from .gemini_stub import GeminiStub
from .helpers import DATA, make_app, upload, wait_for_status

END = {"finished", "failed", "cancelled"}
NETFLIX = {"chars": 42, "lines": 2, "min_s": 5 / 6, "max_s": 7.0, "cps": 20.0, "gap": 0.083}
BBC = {**NETFLIX, "chars": 37, "cps": 15.0}
ARTICLES = {"a", "an", "the"}

RECALL_FLOOR = 0.75
"""Least word recall of the local engine's subtitles on the story clip. Measured: 0.826 before
cue shaping (6 s chunks, segments without word timestamps), and 0.817 to 0.826 with shaping on
two CPUs of this machine's kind: the int8 model decodes a few words differently on another
processor, so the floor sits well under both, yet a lost cue (5 to 15 of the 235 words) on top of
that fails."""


def speak(text_file: Path, voice: str, dest: Path, speed: int = 140) -> Path:
    """espeak-ng reads `text_file`; 16 kHz mono WAV with a second of silence on both sides."""
    raw = dest.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), "-f",
                    str(text_file)], check=True)  # fmt: skip
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-af",
                    "adelay=1000,apad=pad_dur=1", "-ac", "1", "-ar", "16000", str(dest)],
                   check=True)  # fmt: skip
    raw.unlink()
    return dest


@pytest.fixture(scope="session")
def story(tmp_path_factory) -> Path:
    """tests/data/story.txt spoken by espeak-ng: 93 s of English the model has never seen."""
    return speak(DATA / "story.txt", "en-us", tmp_path_factory.mktemp("story") / "story.wav")


@pytest.fixture(scope="module")
def story_start(story, tmp_path_factory) -> Path:
    """The story's first 40 s: enough cues to judge a style by, in half the engine's time."""
    path = tmp_path_factory.mktemp("story-start") / "story-start.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(story), "-t", "40", "-c", "copy",
                    str(path)], check=True)  # fmt: skip
    return path


def words(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return re.findall(r"[a-z0-9']+", text.lower())


def recall(expected: list[str], got: list[str]) -> float:
    """Share of the expected words found in the same order."""
    matcher = difflib.SequenceMatcher(a=expected, b=got, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(expected)


def broken_rules(cues: list[srt.Subtitle], rules: dict = NETFLIX) -> list[set[str]]:
    """For each cue of an SRT file, the style rules it breaks (as a viewer would notice them)."""
    found = []
    for cue, after in zip(cues, [*cues[1:], None], strict=True):
        lines = cue.content.split("\n")
        duration = (cue.end - cue.start).total_seconds()
        broken = set()
        if any(len(line) > rules["chars"] for line in lines):
            broken.add("line_length")
        if len(lines) > rules["lines"]:
            broken.add("lines")
        if duration < rules["min_s"] - 0.002:
            broken.add("min_duration")
        if duration > rules["max_s"] + 0.002:
            broken.add("max_duration")
        if len(" ".join(lines)) / duration > rules["cps"] + 0.05:
            broken.add("reading_speed")
        if after is not None and (after.start - cue.end).total_seconds() < rules["gap"] - 0.002:
            broken.add("gap")
        found.append(broken)
    return found


def assert_mostly_within_rules(cues: list[srt.Subtitle], rules: dict = NETFLIX) -> None:
    """At least 95 % of the cues break no rule (the rest are listed if not)."""
    broken = broken_rules(cues, rules)
    within = sum(1 for b in broken if not b)
    assert within >= 0.95 * len(cues), [
        (c.content, b) for c, b in zip(cues, broken, strict=True) if b
    ]


def output(client, job: dict, suffix: str) -> str:
    """The text of the job's output ending in `suffix`."""
    name = next(o["url"] for o in job["outputs"] if o["name"].endswith(suffix))
    return client.get(name).get_data(as_text=True)


def test_local_engine_cues_follow_netflix_rules_and_keep_the_words(client, worker, story):
    """93 s of speech on the local engine: ≥ 95 % of cues within every Netflix rule, as many
    words as before, cues cut between words (never after an article), and the report agrees."""
    response = upload(client, story, engine="local")
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["params"]["style"] == "netflix"
    job = wait_for_status(client, response.get_json()["id"], END, timeout=240)
    assert job["status"] == "finished", job["error"]
    assert job["warnings"] == []

    cues = list(srt.parse(output(client, job, ".srt")))
    assert_mostly_within_rules(cues)
    assert all(len(c.content.split("\n")) <= 2 for c in cues)
    for cue in cues:
        assert words(cue.content)[-1] not in ARTICLES, cue.content

    heard = words(" ".join(c.content for c in cues))
    assert recall(words((DATA / "story.txt").read_text()), heard) >= RECALL_FLOOR

    document = json.loads(output(client, job, ".json"))
    assert document["style"] == "netflix"
    quality = document["quality"]
    assert quality["cues"] == len(cues) and quality["within_rules"] >= 0.95 * len(cues)
    assert [s["text"] for s in document["segments"]] == [c.content for c in cues]
    for segment in document["segments"]:  # cues start and end on the words they show
        times = segment["words"]
        assert times and segment["start"] == pytest.approx(times[0]["start"], abs=0.01)
        assert segment["end"] >= times[-1]["end"] - 0.2
        assert all(0 <= w["probability"] <= 1 for w in times)
    (summary,) = job["quality"]
    assert summary["cues"] == len(cues) and summary["summary"].startswith(f"{len(cues)} cues")


def test_the_bbc_style_gives_narrower_lines_and_an_honest_report(client, worker, story_start):
    """style=bbc: every line within 37 characters and ≥ 95 % of cues within BBC's other rules.
    Its 15 characters a second is slower than espeak-ng's speech, so some cues cannot be read
    at that speed without dropping words: the report says how many, as a viewer would count."""
    job = upload(client, story_start, engine="local", style="bbc").get_json()
    job = wait_for_status(client, job["id"], END, timeout=240)
    assert job["status"] == "finished", job["error"]
    assert job["params"]["style"] == "bbc" and job["quality"][0]["style"] == "bbc"
    cues = list(srt.parse(output(client, job, ".srt")))
    assert all(len(line) <= 37 for c in cues for line in c.content.split("\n"))
    broken = broken_rules(cues, BBC)
    assert sum(1 for b in broken if not b - {"reading_speed"}) >= 0.95 * len(cues)
    too_fast = sum(1 for b in broken if "reading_speed" in b)
    assert abs(job["quality"][0]["breaks"]["reading_speed"] - too_fast) <= 1
    if too_fast:
        assert "too fast to read" in job["quality"][0]["summary"]


LONG_ANSWERS = [
    "The harbour was quiet before dawn. A small fishing boat rocked gently against the wooden "
    "pier, and the water slapped softly at its sides. Maria had worked on this coast for twenty "
    "years.",
    "Her father had built the boat in 1987, with money he had saved for almost a decade. Every "
    "plank had been cut and fitted by hand. She checked the nets, the ropes and the engine.",
    "The radio said the wind would rise after ten o'clock, so there was no time to waste. At half "
    "past five, her brother arrived with two cups of coffee. They did not talk much.",
    "When the sun climbed over the hills, the boat was far from the shore. The sea was calm and "
    "the sky was clear. The first catch of the day was better than they had hoped.",
    "By noon they were back in the harbour, tired but happy. They sold fresh fish to the "
    "restaurants along the old market street. Then Maria walked home through the narrow streets.",
]
"""Gemini at its worst: three sentences (about 190 characters) per 14 s segment."""


@pytest.fixture
def long_answering_gemini(base_env, start_worker):
    """A worker whose stand-in answers 14 s segments of three sentences each (two per 28 s
    chunk), one call at a time so that the answers follow the audio's order."""
    with GeminiStub(api_key="test-key") as stub:
        env = {**base_env, "QUEUE_NAME": "subcue-readable", "GEMINI_API_KEY": "test-key",
               "GEMINI_BASE_URL": stub.url, "CHUNK_SECONDS": "28",
               "GEMINI_CONCURRENCY": "1"}  # fmt: skip
        start_worker(env)
        stub.segment_seconds = 14.0
        yield env, stub


def noise_with_gaps(path: Path, seconds: float, every: float) -> Path:
    """Loud noise with a 0.2 s gap at every multiple of `every`: the chunker cuts there, so
    every chunk lasts `every` seconds (the stand-in does not listen to the words anyway)."""
    rate = 16000
    samples = np.random.default_rng(7).normal(0, 0.2, int(seconds * rate)).clip(-1, 1)
    phase = np.mod(np.arange(samples.size) / rate, every)
    samples[(phase < 0.1) | (phase > every - 0.1)] = 0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


def test_gemini_long_segments_are_split_within_the_rules_and_lose_no_word(
    long_answering_gemini, tmp_path
):
    """Gemini answering 14 s, three-sentence segments: ≥ 95 % of cues within every rule, and
    every word of every answer in the subtitles, in order (text and spoken source alike)."""
    env, stub = long_answering_gemini
    stub.script = list(LONG_ANSWERS) * 2
    client = make_app(env).test_client()
    media = noise_with_gaps(tmp_path / "three-chunks.wav", 82.7, 28.0)
    job = upload(client, media, engine="gemini", target_language="en").get_json()
    job = wait_for_status(client, job["id"], END, timeout=120)
    assert job["status"] == "finished", job["error"]
    calls = stub.calls_snapshot()
    segments_sent = sum(-(-c["audio_seconds"] // 14) for c in calls)
    answered = [f"[en] {text}" for text in (LONG_ANSWERS * 2)[: int(segments_sent)]]

    cues = list(srt.parse(output(client, job, ".srt")))
    assert_mostly_within_rules(cues)
    assert words(" ".join(c.content for c in cues)) == words(" ".join(answered))

    document = json.loads(output(client, job, ".json"))
    assert words(" ".join(s["source_text"] for s in document["segments"])) == words(
        " ".join(a.removeprefix("[en] ") for a in answered)
    ), "the spoken words (source_text) are shared among the cues, none lost"


def test_non_english_speech_on_the_local_engine_finishes_with_a_warning(client, worker, tmp_path):
    """German on the English-only local engine: the job finishes, and says (job, JSON, page
    data) that the audio does not sound like English and that Gemini is the engine for it."""
    text = tmp_path / "de.txt"
    text.write_text(
        "Der Hafen war vor der Morgendämmerung still. Ein kleines Fischerboot schaukelte sanft "
        "am hölzernen Steg, und das Wasser schlug leise an seine Seiten. Maria arbeitete seit "
        "zwanzig Jahren an dieser Küste.",
        encoding="utf-8",
    )
    german = speak(text, "de", tmp_path / "german.wav", speed=150)
    job = upload(client, german, engine="local").get_json()
    job = wait_for_status(client, job["id"], END, timeout=120)
    assert job["status"] == "finished", job["error"]
    (warning,) = job["warnings"]
    assert warning["code"] == "not_english"
    assert "does not sound like English" in warning["message"] and "Gemini" in warning["message"]


def test_noisy_english_finishes_without_a_language_warning(client, worker, tmp_path):
    """Speech under steady noise is still English: no warning, and still subtitles."""
    noisy = tmp_path / "noisy.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(DATA / "speech.wav"), "-f", "lavfi", "-i",
         "anoisesrc=r=16000:a=0.08:d=18", "-filter_complex", "[0][1]amix=inputs=2:duration=first",
         "-ac", "1", "-ar", "16000", str(noisy)],
        check=True,
    )  # fmt: skip
    job = upload(client, noisy, engine="local").get_json()
    job = wait_for_status(client, job["id"], END, timeout=120)
    assert job["status"] == "finished", job["error"]
    assert job["warnings"] == []
    assert list(srt.parse(output(client, job, ".srt")))
