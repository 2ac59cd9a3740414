"""jobs/work/engines/local.py: whether an English-only model heard English."""

from jobs.work.engines.local import clearly_english, sounds_foreign, sure_of_its_words


def signals(seconds: float, logprob: float, word_prob: float, fallback: float = 0.0) -> dict:
    """One chunk's (or probe's) signals, from averages."""
    words = int(seconds * 2.5)
    return {"seconds": seconds, "logprob": logprob * seconds, "fallback_s": fallback * seconds,
            "words": words, "word_prob": word_prob * words}  # fmt: skip


def test_confident_english_chunks_need_no_probe():
    """Measured on the story clip: log-probability -0.36, word probability 0.76."""
    assert clearly_english([signals(45, -0.36, 0.76), signals(46, -0.3, 0.8)])


def test_doubtful_chunks_ask_for_a_probe():
    """Noisy English (-0.67, 0.59) and Spanish with a prompt (-0.75, 0.59) look alike."""
    assert not clearly_english([signals(88, -0.67, 0.59)])
    assert not clearly_english([signals(13, -0.75, 0.59)])
    assert not clearly_english([signals(14, -0.4, 0.8, fallback=0.6)])


def test_loud_audio_in_which_whisper_heard_almost_nothing_asks_for_a_probe():
    """Spanish on tiny.en at 30 s windows is skipped as silence: loud, yet no speech heard."""
    assert not clearly_english([signals(0.5, -1.0, 0.4) | {"loud_s": 14.0}])
    assert clearly_english([signals(12, -0.3, 0.8) | {"loud_s": 14.0}])
    assert clearly_english([signals(0, 0, 0) | {"loud_s": 2.0}])


def test_too_little_speech_is_no_reason_to_doubt():
    """A second of garbled sound says nothing."""
    assert clearly_english([signals(1.3, -1.16, 0.48, fallback=1.0)])
    assert not sounds_foreign(signals(1.3, -1.16, 0.48, fallback=1.0))


def test_a_probe_that_needed_every_fallback_and_is_unsure_of_its_words_is_foreign():
    """Probes measured: German (1.0, 0.46), Persian (1.0, 0.28), Spanish (1.0, 0.37)."""
    assert sounds_foreign(signals(14, -1.05, 0.46, fallback=1.0))
    assert sounds_foreign(signals(9, -2.26, 0.28, fallback=1.0))
    assert sounds_foreign(signals(13, -1.57, 0.37, fallback=1.0))


def test_english_under_loud_noise_is_not_foreign():
    """Probes measured: noisy English decodes at temperature 0 (0.69 and 0.49 word prob.)."""
    assert not sounds_foreign(signals(28, -0.61, 0.69))
    assert not sounds_foreign(signals(28, -0.95, 0.49))


def test_a_probe_sure_of_its_words_needs_no_second_look():
    """Noisy English decodes with confident words; German's best decode does not."""
    assert sure_of_its_words(signals(28, -0.48, 0.83))
    assert not sure_of_its_words(signals(12, -0.88, 0.52))
    assert not sure_of_its_words(signals(1.0, -0.2, 0.95))  # too little to go on
