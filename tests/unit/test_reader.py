"""Subtitle files in and out (jobs/subtitles/formats/reader.py): what is refused and where, what
the model
sees
of a cue, and that writing back changes only the texts."""

from __future__ import annotations

import pysubs2
import pytest

from jobs.subtitles.formats import reader
from jobs.subtitles.formats.reader import BrokenSubtitles

SRT = (
    "1\n00:00:01,000 --> 00:00:02,500\n<i>Hello</i>\nworld\n\n2\n00:00:03,000 --> 00:00:04,000\n♪\n"
)
ASS_HEAD = (
    "[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
    "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)


@pytest.mark.parametrize(
    ("text", "fmt", "line"),
    [
        ("1\n00:00:01,000 --> 00:00:02,000\nA\n\n2\n00:00:03 --> 00:00:04\nB\n", "srt", 6),
        ("1\n00:00:01.000 -> 00:00:02.000\nA\n", "srt", 2),
        ("Just some text\n", "srt", 1),
        ("00:00:01.000 --> 00:00:02.000\nA\n", "vtt", 1),  # no WEBVTT header
        ("WEBVTT\n\ncue-1\n00:01.000 -> 00:02.000\nA\n", "vtt", 3),
        (ASS_HEAD + "Dialogue: 0,0:00:01.00,soon,Default,,0,0,0,,Hi\n", "ass", 6),
    ],
)
def test_a_cue_without_a_valid_timing_line_is_refused_with_its_line(text, fmt, line):
    with pytest.raises(BrokenSubtitles) as caught:
        reader.read(text, fmt, "x")
    assert caught.value.line == line
    assert caught.value.to_dict()["line"] == line and f"line {line}" in caught.value.message


def test_a_file_without_cues_is_refused():
    for text, fmt in (("WEBVTT\n\nNOTE nothing\n", "vtt"), ("", "srt"), (ASS_HEAD, "ass")):
        with pytest.raises(BrokenSubtitles):
            reader.read(text, fmt)


def test_a_blank_line_inside_a_cue_s_text_is_not_a_broken_cue():
    text = ("1\n00:00:01,000 --> 00:00:02,000\nFirst part\n\nsecond part\n\n"
            "2\n00:00:03,000 --> 00:00:04,000\nB\n")  # fmt: skip
    assert len(reader.read(text, "srt").cues) == 2


def test_what_the_model_sees_of_srt_and_ass_cues():
    parsed = reader.read(SRT, "srt")
    assert [(c.start_ms, c.end_ms, c.text) for c in parsed.cues] == [
        (1000, 2500, "<i>Hello</i>\nworld"), (3000, 4000, "♪")]  # fmt: skip
    ass = reader.read(ASS_HEAD + "\n".join([
        r"Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\an8}Top\Nline",
        r"Dialogue: 0,0:00:02.00,0:00:03.00,Default,,0,0,0,,Say {\i1}this{\i0}",
        r"Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\p1}m 0 0 l 100 0 100 100{\p0}",
        r"Dialogue: 0,0:00:04.00,0:00:05.00,Default,,0,0,0,,{\i1}",
    ]), "ass")  # fmt: skip
    assert [(c.text, c.lead, c.translate) for c in ass.cues] == [
        ("Top\nline", r"{\an8}", True), ("Say <i>this</i>", "", True),
        (r"{\p1}m 0 0 l 100 0 100 100{\p0}", "", False), ("<i>", "", False)]  # fmt: skip
    assert reader.restore(ass.cues[0], "Oben\nZeile", "ass") == r"{\an8}Oben\NZeile"
    assert reader.restore(ass.cues[1], "Sag <i>das</i>", "ass") == r"Sag {\i1}das{\i0}"


def test_writing_changes_the_texts_and_nothing_else(tmp_path):
    parsed = reader.read(SRT, "srt")
    paths = reader.write(parsed, {0: "<i>Hallo</i>\nWelt"}, tmp_path, "x.de", ["srt", "vtt"])
    assert [p.name for p in paths] == ["x.de.srt", "x.de.vtt"]
    out = pysubs2.load(str(paths[0]), keep_html_tags=True)
    assert [(e.start, e.end, e.text) for e in out] == [
        (1000, 2500, "<i>Hallo</i>\\NWelt"), (3000, 4000, "♪")]  # fmt: skip
    assert paths[1].read_text().startswith("WEBVTT")


def test_names_carry_the_language_players_look_for():
    assert reader.stem_and_language("Film.en.srt") == ("Film", "en")
    assert reader.stem_and_language("Film.final.srt") == ("Film.final", None)
    assert reader.format_of("a.ASS") == "ass" and reader.format_of("a.mp4") is None


def test_old_encodings_are_read():
    assert reader.decode("Café".encode("cp1252")) == "Café"
    assert reader.decode("\ufeffCafé".encode()) == "Café"
    assert reader.decode("Café".encode("utf-16")) == "Café"


def test_a_truncated_utf16_file_is_broken_subtitles_not_a_crash():
    data = "1\n00:00:01,000 --> 00:00:02,000\nHi\n".encode("utf-16")[:-1]
    with pytest.raises(BrokenSubtitles) as caught:
        reader.decode(data, "cut.srt")
    assert "cut.srt" in caught.value.message and "UTF-16" in caught.value.message
    lone = b"\xff\xfe" + "A".encode("utf-16-le") + b"\x00\xd8"  # a high surrogate, alone
    with pytest.raises(BrokenSubtitles):
        reader.decode(lone)


@pytest.mark.parametrize("fmt", ["srt", "vtt", "ass"])
def test_cues_over_the_limit_are_refused_by_the_scan_before_parsing(fmt, monkeypatch):
    monkeypatch.setattr(reader, "MAX_CUES", 3)
    parsed = []
    monkeypatch.setattr(pysubs2.SSAFile, "from_string", lambda *a, **k: parsed.append(1))
    if fmt == "ass":
        text = ASS_HEAD + "".join(f"Dialogue: 0,0:00:0{i}.00,0:00:0{i}.50,Default,,0,0,0,,Hi\n"
                                  for i in range(5))  # fmt: skip
    else:
        sep = "," if fmt == "srt" else "."
        head = "WEBVTT\n\n" if fmt == "vtt" else ""
        text = head + "".join(f"{i}\n00:00:0{i}{sep}000 --> 00:00:0{i}{sep}500\nHi\n\n"
                              for i in range(1, 6))  # fmt: skip
    with pytest.raises(BrokenSubtitles) as caught:
        reader.read(text, fmt, "many")
    assert caught.value.code == "too_many_cues" and "more than 3 cues" in caught.value.message
    assert parsed == []  # refused by the line scan: pysubs2 never ran


def test_a_subtitle_file_over_the_size_limit_is_413_too_large():
    reader.check_size(reader.MAX_BYTES, "ok.srt")
    with pytest.raises(BrokenSubtitles) as caught:
        reader.check_size(reader.MAX_BYTES + 1, "big.srt")
    assert (caught.value.status, caught.value.code) == (413, "too_large")
    assert "big.srt" in caught.value.message
