"""jobs/media/audio.py: cutting audio into chunks at quiet points."""

import wave

import numpy as np
import pytest

from jobs.media.audio import AudioSegment, duration_of, plan_chunks, quietest_point, read_chunk

RATE = 16000


def write_wav(path, samples: np.ndarray):
    """16 kHz mono 16-bit."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes((samples.clip(-1, 1) * 32767).astype("<i2").tobytes())
    return path


def noise(seconds: float, quiet_at: list[float] = ()) -> np.ndarray:
    """Loud noise with 0.3 s of silence centred on each time in `quiet_at`."""
    samples = np.random.default_rng(1).normal(0, 0.3, int(seconds * RATE))
    for t in quiet_at:
        samples[int((t - 0.15) * RATE) : int((t + 0.15) * RATE)] = 0
    return samples


def test_cuts_move_to_the_quiet_point_just_before_the_target(tmp_path):
    """Silence at 27 s and 55 s, target 30 s: chunks end there, never after the target."""
    path = write_wav(tmp_path / "a.wav", noise(70, quiet_at=[27.0, 55.0]))
    chunks = plan_chunks(path, 30.0)
    assert [round(c.end, 1) for c in chunks[:-1]] == [27.0, 55.0]
    assert all(c.duration <= 30.0 for c in chunks)
    assert chunks[-1].end == pytest.approx(70.0) and chunks[0].start == 0.0
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_short_audio_is_one_chunk(tmp_path):
    """Less than a chunk: one chunk covering it all."""
    path = write_wav(tmp_path / "b.wav", noise(4.0))
    (chunk,) = plan_chunks(path, 30.0)
    assert (chunk.start, chunk.end) == (0.0, 4.0) and duration_of(path) == 4.0


def test_reading_a_chunk_reads_only_its_stretch(tmp_path):
    """The chunk's audio lasts its duration."""
    path = write_wav(tmp_path / "c.wav", noise(10.0))
    (chunk,) = plan_chunks(path, 30.0)
    assert len(read_chunk(path, chunk)) == 10_000


def test_the_quietest_point_is_the_middle_of_the_silence():
    """Noise with silence from 0.6 to 0.9 s: the quietest window's centre is inside it."""
    samples = noise(1.5, quiet_at=[0.75])
    segment = AudioSegment(data=(samples.clip(-1, 1) * 32767).astype("<i2").tobytes(),
                           sample_width=2, frame_rate=RATE, channels=1)  # fmt: skip
    assert 0.6 <= quietest_point(segment) <= 0.9
