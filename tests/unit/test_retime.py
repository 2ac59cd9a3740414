"""Times moved onto speech (jobs/media/retime.py): Whisper's words snapped to speech edges, Gemini's
segments fitted as a chunk for shift and stretch, then placed on the speech they overlap."""

import random

from jobs.media.retime import segments_on_speech, without_repeats, words_on_speech
from jobs.media.speech import Region
from jobs.subtitles.cues import Word

SPEECH = [Region(1.0, 3.2), Region(3.9, 6.0), Region(8.5, 9.1), Region(10.0, 14.5),
          Region(15.2, 17.0), Region(19.4, 22.8), Region(23.3, 26.0)]  # fmt: skip
"""Seven sentences' speech in a 30 s chunk, gaps of 0.5 to 2.4 s."""


def test_a_first_word_starting_in_the_silence_before_is_snapped_to_its_onset():
    words = [Word(0.4, 1.5, " The"), Word(1.5, 3.1, " harbour"), Word(3.95, 6.0, " Nobody")]
    found = words_on_speech(words, SPEECH[:2])
    assert [w.start for w in found] == [1.0, 1.5, 3.95]  # 50 ms off is left alone


def test_a_last_word_held_past_its_offset_ends_on_it_and_words_over_no_speech_go():
    words = [Word(1.0, 2.0, " Yes"), Word(2.0, 4.0, " indeed"), Word(7.0, 7.5, " Thanks")]
    found = words_on_speech(words, [Region(1.0, 3.2)])
    assert [w.text for w in found] == [" Yes", " indeed"]
    assert found[-1].end == 3.2


def test_words_are_left_alone_without_speech_regions():
    words = [Word(0.4, 1.5, " The")]
    assert words_on_speech(words, []) == words


def test_a_line_repeated_back_to_back_is_dropped_once_said():
    said = [{"source_text": "Thank you."}, {"source_text": "thank you"},
            {"source_text": "Goodbye."}, {"source_text": "Thank you."}]  # fmt: skip
    assert [s["source_text"] for s in without_repeats(said)] == [
        "Thank you.", "Goodbye.", "Thank you."]  # fmt: skip


def perturbed(regions, shift, stretch, origin=0.0):
    """Segments for `regions` as an audio model answers them: shifted, stretched, in halves."""

    def off(t):
        return round((origin + (t - origin) * stretch + shift) * 2) / 2

    return [{"start": off(r.start), "end": off(r.end), "text": f"s{k}", "source_text": f"s{k}"}
            for k, r in enumerate(regions)]  # fmt: skip


def test_a_chunk_shifted_stretched_and_rounded_lands_on_its_speech():
    rng = random.Random(5)
    hits = total = 0
    for _ in range(20):
        shift, stretch = rng.uniform(-1.5, 1.5), 1 + rng.uniform(-0.03, 0.03)
        answer = perturbed(SPEECH, shift, stretch)
        fitted, unsure = segments_on_speech(answer, SPEECH, 0.0, (0.0, 30.0))
        assert [s["text"] for s in fitted] == [s["text"] for s in answer]  # only times move
        assert unsure == []
        hits += sum(abs(s["start"] - r.start) <= 0.2 for s, r in zip(fitted, SPEECH, strict=True))
        total += len(SPEECH)
    assert hits / total >= 0.95


def test_a_segment_over_no_speech_keeps_its_time_and_is_reported():
    answer = perturbed(SPEECH, 0.5, 1.0) + [{"start": 28.0, "end": 29.5, "text": "invented"}]
    fitted, unsure = segments_on_speech(answer, SPEECH, 0.0, (0.0, 30.0))
    assert unsure == [len(SPEECH)]
    assert 27.0 <= fitted[-1]["start"] <= 29.0


def test_without_speech_nothing_moves():
    answer = perturbed(SPEECH, 0.5, 1.0)
    assert segments_on_speech(answer, [], 0.0, (0.0, 30.0)) == (answer, [])
