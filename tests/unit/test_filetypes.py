"""web/filetypes.py: a stored file's type comes from what it holds, never from its name."""

from web.filetypes import UNKNOWN, inline, of_media, of_output, of_upload

WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00"
WEBM = b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\xf7\x81\x01B\xf2\x81\x04B\xf3\x81\x08B\x82\x84webm"


def test_media_is_typed_by_its_container_signature():
    """Each container by its first bytes; a picture makes it video."""
    assert of_media(WAV, has_video=False) == "audio/wav"
    assert of_media(MP4, has_video=True) == "video/mp4"
    assert of_media(MP4, has_video=False) == "audio/mp4"
    assert of_media(WEBM, has_video=True) == "video/webm"
    assert of_media(b"\x1aE\xdf\xa3\x01matroska", has_video=True) == "video/x-matroska"
    assert of_media(b"OggS\x00\x02", has_video=False) == "audio/ogg"
    assert of_media(b"fLaC\x00\x00", has_video=False) == "audio/flac"
    assert of_media(b"ID3\x04\x00", has_video=False) == "audio/mpeg"
    assert of_media(b"\xff\xfb\x90\x00", has_video=False) == "audio/mpeg"
    assert of_media(b"\xff\xf1\x50\x80", has_video=False) == "audio/aac"


def test_anything_else_is_unknown_and_never_shown_in_place():
    """HTML, SVG, a playlist or nothing at all: octet-stream, an attachment."""
    for head in (b"<!doctype html><script>", b"<svg onload=alert(1)>", b"#EXTM3U\n", b""):
        assert of_media(head, has_video=False) == UNKNOWN
    assert not inline(UNKNOWN) and not inline("text/html") and not inline("application/json")
    assert inline("audio/wav") and inline("video/mp4") and inline("text/vtt")


def test_an_upload_named_html_holding_a_wav_is_a_wav():
    """The name plays no part: subtitles by the format they were parsed as."""
    assert of_upload({"name": "x.html", "has_video": False}, WAV + b"<script>") == "audio/wav"
    assert of_upload({"name": "x.svg", "kind": "subtitles", "format": "vtt"}, b"") == "text/vtt"


def test_outputs_are_typed_by_the_suffix_subcue_gave_them():
    """A job's outputs; an unknown suffix is downloaded."""
    assert of_output("talk.en.srt") == "application/x-subrip"
    assert of_output("talk.html.en.vtt") == "text/vtt"
    assert of_output("talk.subtitled.mkv") == "video/x-matroska"
    assert of_output("analysis.json") == "application/json"
    assert of_output("talk.html") == UNKNOWN
