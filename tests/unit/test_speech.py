"""Speech regions from the detector's per-frame probabilities (jobs/media/speech.py
regions_from)."""

import numpy as np

from jobs.media.speech import FRAME_S, Region, regions_from


def frames(*runs: tuple[float, float]) -> np.ndarray:
    """Probabilities from (seconds, probability) runs."""
    return np.concatenate([np.full(round(s / FRAME_S), p, dtype=np.float32) for s, p in runs])


def test_a_region_starts_and_ends_on_its_frames():
    found = regions_from(frames((1.0, 0.05), (2.0, 0.9), (1.0, 0.05)))
    assert len(found) == 1
    assert abs(found[0].start - 1.0) <= FRAME_S and abs(found[0].end - 3.0) <= FRAME_S


def test_a_short_pause_does_not_end_a_region_but_a_long_one_does():
    short = regions_from(frames((1, 0.0), (1, 0.9), (0.1, 0.1), (1, 0.9), (1, 0.0)))
    long = regions_from(frames((1, 0.0), (1, 0.9), (0.6, 0.1), (1, 0.9), (1, 0.0)))
    assert len(short) == 1 and len(long) == 2


def test_probabilities_between_the_thresholds_keep_speech_going_but_do_not_start_it():
    assert regions_from(frames((1, 0.0), (2, 0.4), (1, 0.0))) == []
    found = regions_from(frames((1, 0.0), (1, 0.9), (1, 0.4), (1, 0.0)))
    assert len(found) == 1 and abs(found[0].end - 3.0) <= FRAME_S


def test_a_click_is_not_speech_and_offsets_are_added():
    assert regions_from(frames((1, 0.0), (0.064, 0.99), (1, 0.0))) == []
    found = regions_from(frames((1, 0.9)), offset_s=30.0)
    assert found == [Region(30.0, round(30.0 + round(1 / FRAME_S) * FRAME_S, 3))]


def test_scoring_in_windows_finds_the_regions_one_window_does(tmp_path, monkeypatch):
    """The committed speech clip four times over (70 s, seven windows): its phrases start
    where they do when the whole file is scored at once, to a frame or two."""
    import wave

    from jobs.media import speech
    from tests.helpers import DATA

    with wave.open(str(DATA / "speech.wav")) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    looped = tmp_path / "looped.wav"
    with wave.open(str(looped), "wb") as w:
        w.setparams(params)
        w.writeframes(frames * 4)
    windowed = speech.detect(looped)
    monkeypatch.setattr(speech, "WINDOW_S", 1000.0)
    whole = speech.detect(looped)
    assert len(whole) >= 8
    assert len(windowed) >= len(whole) - 2  # one window may split a phrase at a short pause
    for region in windowed:
        assert min(abs(region.start - r.start) for r in whole) <= 2 * FRAME_S, region
