"""Re-timing a subtitle file to its media's speech (jobs/media/sync.py): offset, drift, splits."""

import random

from jobs.media.speech import Region
from jobs.media.sync import fit

rng = random.Random(25)
SPEECH, at = [], 1.0
for _ in range(40):
    length = rng.uniform(0.5, 3.5)
    SPEECH.append(Region(round(at, 3), round(at + length, 3)))
    at += length + rng.uniform(0.35, 2.5)
DURATION = at + 2
CUES = [(r.start, r.end + 0.4) for r in SPEECH]
"""Forty sentences of speech, and cues for them held 0.4 s into the silence after each."""


def on_time(times) -> float:
    """Share of cues starting within 200 ms of their speech."""
    return sum(abs(s - r.start) <= 0.2 for (s, _), r in zip(times, SPEECH, strict=True)) / 40


def test_a_file_two_and_a_half_seconds_late_is_moved_back():
    found = fit([(s + 2.5, e + 2.5) for s, e in CUES], SPEECH, DURATION)
    assert on_time(found.times) == 1.0
    report = found.report()
    assert abs(report.pop("offset_s") + 2.5) <= 0.05
    assert report == {"drift": "none", "splits": 0, "cues_moved": 40}


def test_a_file_for_another_frame_rate_is_stretched():
    found = fit([(s * 25 / 23.976, e * 25 / 23.976) for s, e in CUES], SPEECH, DURATION)
    assert on_time(found.times) == 1.0 and found.drift == "25->23.976" and found.splits == 0


def test_a_file_cut_in_two_gets_one_split():
    half = len(CUES) // 2
    cut = [(s + 2, e + 2) for s, e in CUES[:half]] + [(s - 1.5, e - 1.5) for s, e in CUES[half:]]
    found = fit(cut, SPEECH, DURATION)
    assert on_time(found.times) >= 0.95 and found.splits == 1  # the cue at the cut may go astray


def test_a_file_on_time_stays_and_no_speech_means_no_fit():
    found = fit(CUES, SPEECH, DURATION)
    assert found.cues_moved == 0 and found.splits == 0
    assert fit(CUES, [], DURATION) is None
