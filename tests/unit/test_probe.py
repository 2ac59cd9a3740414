"""jobs/media/probe.py: what `ffmpeg -i` said, read as a demuxer and streams; which demuxers an
upload
may be read with; the arguments every ffmpeg run opens a stored file with."""

import pytest

from jobs.errors import MediaTooLong, NotMedia, UnsupportedMedia, without_paths
from jobs.media import probe

MP4 = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/tmp/up/0':
  Metadata:
    major_brand     : isom
  Duration: 00:00:17.60, start: 0.000000, bitrate: 35 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p, 160x120, 1 kb/s
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 16000 Hz, mono, fltp, 32 kb/s
At least one output file must be specified
"""

MKV = """Input #0, matroska,webm, from 'file:/tmp/up/1':
  Duration: 01:02:03.50, start: 0.000000, bitrate: 100 kb/s
  Stream #0:0: Audio: opus, 48000 Hz, stereo, fltp (default)
"""

HLS_REFUSED = """[hls @ 0x55c2dc2b9900] Format not on whitelist 'mov,matroska,mp3'
file:/tmp/up/0: Invalid argument
"""

PNG_REFUSED = """[png_pipe @ 0x5581] Format not on whitelist 'mov,matroska,mp3'
file:/tmp/up/0: Invalid argument
"""

HLS_OPENED = """Input #0, hls, from 'file:/tmp/up/0':
  Duration: 00:00:02.00, start: 0.000000, bitrate: 0 kb/s
  Stream #0:0: Audio: mp3, 44100 Hz, mono, fltp, 64 kb/s
"""


def test_the_demuxer_is_the_first_name_ffmpeg_gives_its_input():
    """`mov,mp4,m4a,...` reads as mov, `matroska,webm` as matroska; no Input line, none."""
    assert probe.demuxer_of(MP4) == "mov"
    assert probe.demuxer_of(MKV) == "matroska"
    assert probe.demuxer_of(HLS_REFUSED) == ""


def test_an_accepted_container_probes_with_its_demuxer_streams_and_duration():
    """The demuxer is kept with what the probe found."""
    found = probe.parse_probe(MP4)
    assert found == probe.Probe(duration_s=17.6, has_audio=True, has_video=True,
                                picture=(160, 120), demuxer="mov")  # fmt: skip
    assert probe.parse_probe(MKV).demuxer == "matroska"
    assert probe.parse_probe(MKV).duration_s == pytest.approx(3723.5)


@pytest.mark.parametrize(("said", "refusal"), [
    (HLS_REFUSED, UnsupportedMedia),  # a playlist: says why
    (HLS_OPENED, UnsupportedMedia),  # an ffmpeg that did not honour the whitelist
    (PNG_REFUSED, NotMedia),  # a picture is simply not media
    ("file:/tmp/up/0: Invalid data found when processing input\n", NotMedia),
])  # fmt: skip
def test_anything_but_an_accepted_container_is_refused(said, refusal):
    """Refused demuxers and unknown data are 415; playlists with their own code."""
    with pytest.raises(refusal) as refused:
        probe.parse_probe(said)
    assert refused.value.status == 415
    assert (refused.value.code == "unsupported_media") == (refusal is UnsupportedMedia)
    assert "/tmp" not in refused.value.message


@pytest.mark.parametrize("head", [
    b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n", b"\xef\xbb\xbf#EXTM3U\n", b"\n\n  #EXTM3U\n",
    b"#EXTINF:10,\n/srv/a.mp3\n", b"ffconcat version 1.0\nfile /etc/x.mp3\n",
    b'<?xml version="1.0"?><MPD', b"[playlist]\nFile1=/srv/a.mp3\n",
])  # fmt: skip
def test_playlists_are_known_by_their_first_bytes(head):
    """HLS, ffconcat, DASH and PLS, with or without a byte order mark or blank lines."""
    assert probe.looks_like_playlist(head)


@pytest.mark.parametrize("head", [b"ID3\x04\x00", b"RIFF\x24\x00\x00\x00WAVE", b"\x1aE\xdf\xa3",
                                  b"\x00\x00\x00\x20ftypisom", b"fLaC", b"OggS"])  # fmt: skip
def test_media_is_not_taken_for_a_playlist(head):
    """MP3, WAV, Matroska, MP4, FLAC and Ogg headers pass."""
    assert not probe.looks_like_playlist(head)


def test_a_stored_file_is_opened_with_its_demuxer_alone_and_only_from_the_disk():
    """`-f` forces the probed demuxer, the whitelist allows no other (so nothing nested can
    be a playlist), only the file protocol, and the path as a file: URL."""
    args = probe.input_args("input-0.m3u8", "mp3")
    assert args[:4] == ["-f", "mp3", "-format_whitelist", "mp3"]
    assert args[-4:-2] == ["-protocol_whitelist", "file"]
    assert args[-2] == "-i" and args[-1].startswith("file:/")
    assert args[-1].endswith("/input-0.m3u8")


def test_mov_is_opened_without_following_its_data_references():
    """mp4 and mov may point at other files (`dref`); ffmpeg is told not to follow them."""
    args = probe.input_args("/tmp/x/input-0.mp4", "mov")
    assert args[args.index("-enable_drefs") + 1] == "0"
    assert "-enable_drefs" not in probe.input_args("/tmp/x/input-0.mkv", "matroska")


def test_a_probe_allows_only_the_accepted_demuxers():
    """Without a demuxer, the whitelist is the allow-list (playlists are not on it)."""
    args = probe.input_args("/tmp/x/0")
    allowed = args[args.index("-format_whitelist") + 1].split(",")
    assert set(allowed) == set(probe.ACCEPTED_DEMUXERS)
    assert not {"hls", "concat", "dash", "image2"} & set(allowed)
    assert "-f" not in args


@pytest.mark.parametrize("demuxer", ["hls", "concat", "image2", "lavfi", "mov,hls"])
def test_a_demuxer_not_accepted_is_never_forced(demuxer):
    """A record naming another demuxer (an old or tampered one) opens nothing."""
    with pytest.raises(UnsupportedMedia):
        probe.input_args("/tmp/x/0", demuxer)


def test_media_over_the_limit_is_refused_naming_it():
    """MAX_MEDIA_MINUTES: the refusal says how long the media is and what the limit is."""
    probe.check_length(240 * 60, 240)
    with pytest.raises(MediaTooLong) as refused:
        probe.check_length(32768, 240)  # the 1 Hz WAV's 9 hours
    assert refused.value.code == "media_too_long"
    assert "546.1 minutes" in refused.value.message and "240 minutes" in refused.value.message


def test_decoding_may_run_a_little_past_the_probe_and_never_past_the_limit():
    """An estimated duration gets slack; the limit is the limit."""
    assert probe.decode_limit(60, 240) == 150
    assert probe.decode_limit(14_000, 240) == 14_400
    assert probe.wav_bytes(10) == probe.WAV_HEADER_BYTES + 320_000


@pytest.mark.parametrize(("said", "shown"), [
    ("file:/srv/var/tmp/jobs/x/input-0.mp4: corrupt input packet in stream 1",
     "input-0.mp4: corrupt input packet in stream 1"),
    ("Error opening output /tmp/subcue/jobs/r_0/abc/out/talk.en.srt: Invalid data",
     "Error opening output talk.en.srt: Invalid data"),
    ("No such file or directory: '/home/app/var/storage/s/a.wav'",
     "No such file or directory: 'a.wav'"),
    ("The Gemini API said: see https://ai.google.dev/gemini-api/docs/quota",
     "The Gemini API said: see https://ai.google.dev/gemini-api/docs/quota"),
    ("3/4 of the cues, a/b", "3/4 of the cues, a/b"),
])  # fmt: skip
def test_messages_users_see_carry_no_server_path(said, shown):
    """Absolute paths shrink to their last part; URLs and fractions stay."""
    assert without_paths(said) == shown
    assert probe.last_line(f"noise\n{said}\n") == shown[:200]
