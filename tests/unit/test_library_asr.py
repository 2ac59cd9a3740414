"""jobs/library/asr.py: raw PCM made a WAV, answers in whisper-asr-webservice's formats, and
the key that makes a repeated request join its job."""

import io
import json
import wave

import pytest

from jobs.library.asr import dedupe_key, document, wav_header, wrap_pcm

FOUND = {"language": "en", "segments": [
    {"start": 0.5, "end": 2.25, "text": "The quick\nbrown fox."},
    {"start": 3.0, "end": 4.0, "text": "Tab\there."},
]}  # fmt: skip


def test_raw_pcm_becomes_a_wav_any_reader_accepts(tmp_path):
    """16 kHz mono 16-bit; an odd last byte (half a sample) is dropped."""
    pcm = bytes(range(256)) * 125 + b"\x01"  # 32,001 bytes: 16,000 samples and a half
    dest = tmp_path / "a.wav"
    assert wrap_pcm(io.BytesIO(pcm), dest, len(pcm)) == 32000
    with wave.open(str(dest)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert w.getnframes() == 16000 and w.readframes(16000) == pcm[:32000]


def test_a_short_upload_is_an_error_not_a_short_wav(tmp_path):
    """A stream that ends before its size is refused."""
    with pytest.raises(ValueError):
        wrap_pcm(io.BytesIO(b"\0" * 10), tmp_path / "a.wav", 100)


def test_the_header_refuses_what_32_bits_cannot_hold():
    """A WAV describes at most 4 GiB."""
    assert len(wav_header(0)) == 44
    with pytest.raises(ValueError):
        wav_header(2**32)


def test_txt_tsv_and_json_as_whisper_writes_them():
    """One line a segment; TSV in integer milliseconds with a header; JSON with the text."""
    assert document(FOUND, "txt") == "The quick brown fox.\nTab here.\n"
    assert document(FOUND, "tsv") == ("start\tend\ttext\n500\t2250\tThe quick brown fox.\n"
                                      "3000\t4000\tTab here.\n")  # fmt: skip
    body = json.loads(document(FOUND, "json"))
    assert body["language"] == "en" and body["text"] == "The quick brown fox. Tab here."
    assert [s["id"] for s in body["segments"]] == [0, 1]
    with pytest.raises(ValueError):
        document(FOUND, "srt")


def test_the_same_media_and_task_share_a_key():
    """A media path names the job whatever the audio's bytes; task and language separate."""
    one = dedupe_key("translate:transcribe", "en", "/tv/a.mkv", "d1")
    assert one == dedupe_key("translate:transcribe", "en", "/tv/a.mkv", "d2")
    assert one != dedupe_key("translate:translate", "en", "/tv/a.mkv", "d1")
    assert one != dedupe_key("translate:transcribe", "de", "/tv/a.mkv", "d1")
    assert dedupe_key("t", None, None, "d1") != dedupe_key("t", None, None, "d2")
