"""Subtitle files in and out: SRT, WebVTT and ASS/SSA read and written with pysubs2.

A subtitle file is translated cue for cue: the output has exactly the input's cues at exactly
their times, only their text changes. What the model sees of a cue is its text with line breaks
as "\\n" and the formatting a viewer sees as simple tags (<i>…</i>, <b>, <u>, <s>); an ASS
cue's leading override block ({\\an8}, positions) is kept aside and put back, other inline
override blocks travel as they are. No Redis, no network: the pipeline does the I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pysubs2

from ...errors import BadRequest
from ..languages import LANGUAGES

FORMATS = {".srt": "srt", ".vtt": "vtt", ".ass": "ass", ".ssa": "ssa"}
"""File extension -> pysubs2 format name of the subtitle files Subcue translates."""

MAX_CUES = 20_000
"""More cues than any film or series episode has: a guard against a mistaken upload. Counted
while the timing lines are scanned, so a file with a million cues is refused at the 20,001st,
before pysubs2 parses anything."""

MAX_BYTES = 5 * 1024 * 1024
"""The largest subtitle file accepted: 20,000 cues of two full lines take about 2 MB. Checked
on the upload's size before a byte of it is decoded."""

SRT_TIMING = re.compile(
    r"^\s*\d{1,3}:\d{1,2}:\d{1,2}[,.]\d{1,3}\s*-->\s*\d{1,3}:\d{1,2}:\d{1,2}[,.]\d{1,3}"
)
VTT_TIMING = re.compile(r"^\s*(\d+:)?\d{2}:\d{2}\.\d{3}\s+-->\s+(\d+:)?\d{2}:\d{2}\.\d{3}(\s|$)")
EXAMPLE_TIMING = {"srt": "00:00:01,000 --> 00:00:02,500", "vtt": "00:00:01.000 --> 00:00:02.500"}
ASS_DIALOGUE = re.compile(r"^\s*Dialogue\s*:", re.IGNORECASE)
ASS_TIME = re.compile(r"^\d+:\d{1,2}:\d{1,2}[.:]\d{1,3}$")
LEADING_BLOCK = re.compile(r"^(\{[^{}]*\})+")
SIMPLE_TAG = re.compile(r"\{\\([ibus])([01])\}")
HTML_TAG = re.compile(r"<(/?)([ibus])>")
DRAWING = re.compile(r"\{[^{}]*\\p[1-9]")


class BrokenSubtitles(BadRequest):
    """A subtitle file Subcue cannot read faithfully (400, with the line where it broke)."""

    code = "bad_subtitles"

    def __init__(self, message: str, line: int | None = None, code: str | None = None,
                 status: int | None = None):  # fmt: skip
        super().__init__(message, code=code or self.code, status=status)
        self.line, self.where = line, {"line": line} if line else {}


@dataclass(frozen=True)
class SubCue:
    """One cue of an input file: its times (ms), the text the model sees, and what is kept
    aside (`lead`, an ASS cue's leading override block). `translate` is False for a cue with
    nothing to translate (empty, a drawing)."""

    index: int
    start_ms: int
    end_ms: int
    text: str
    lead: str = ""
    translate: bool = True


@dataclass
class SubtitleFile:
    """A parsed input: its format, pysubs2's document (styles and all), and its cues."""

    format: str
    document: pysubs2.SSAFile
    cues: list[SubCue]

    @property
    def duration_s(self) -> float:
        """Where the last cue ends."""
        return max((c.end_ms for c in self.cues), default=0) / 1000


def format_of(name: str) -> str | None:
    """The subtitle format a file name says (None: not a subtitle file)."""
    return FORMATS.get(Path(name).suffix.lower())


def check_size(size: int, name: str = "the file") -> None:
    """BrokenSubtitles (413 `too_large`) for a subtitle file over MAX_BYTES."""
    if size > MAX_BYTES:
        raise BrokenSubtitles(f"{name} is larger than {MAX_BYTES // (1024 * 1024)} MB; no "
                              "subtitle file needs that much.", code="too_large",
                              status=413)  # fmt: skip


def decode(data: bytes, name: str = "the file") -> str:
    """A subtitle file's text: UTF-8 (with or without BOM), UTF-16 with a BOM, else
    Windows-1252, the usual encoding of old SRT files (every byte decodes). A file with a
    UTF-16 byte-order mark that is cut short or holds a lone surrogate is BrokenSubtitles."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise BrokenSubtitles(f"{name} starts like UTF-16 text but is not valid UTF-16 "
                                  f"(byte {exc.start}: {exc.reason}); save it again as "
                                  "UTF-8.") from exc  # fmt: skip
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def stem_and_language(name: str) -> tuple[str, str | None]:
    """`movie.en.srt` -> ("movie", "en"): the stem without the language code players put
    there, and that code; ("movie", None) when the name carries none."""
    stem = Path(name).stem or "subtitles"
    base, dot, code = stem.rpartition(".")
    if dot and base and code.lower() in LANGUAGES:
        return base, code.lower()
    return stem, None


def belongs(subtitles_name: str, media_name: str) -> bool:
    """Whether a subtitle file goes with a media file, as players pair them: its name starts
    with the media's stem (`film.srt`, `film.en.srt` with `film.mp4`)."""
    return subtitles_name.lower().startswith(Path(media_name).stem.lower() + ".")


def read(text: str, fmt: str, name: str = "the file") -> SubtitleFile:
    """Parse a subtitle file's text; BrokenSubtitles (with a line number) when a cue has no
    valid timing line, there is no cue at all, or there are more than MAX_CUES (found by the
    line scan, before pysubs2 parses the file). Nothing is guessed: pysubs2 skips a block it
    cannot time, and a skipped cue would change the file's cue count."""
    text = text.lstrip("\ufeff")
    _check_timing(text, fmt, name)
    try:
        if fmt in ("srt", "vtt"):
            document = pysubs2.SSAFile.from_string(text, format_=fmt, keep_html_tags=True)
        else:
            document = pysubs2.SSAFile.from_string(text, format_=fmt)
    except (pysubs2.Pysubs2Error, ValueError, KeyError, IndexError) as exc:
        raise BrokenSubtitles(f"{name} could not be read as {fmt.upper()}: {exc}") from exc
    events = [e for e in document.events if not e.is_comment]
    if not events:
        raise BrokenSubtitles(f"{name} has no cues.")
    if len(events) > MAX_CUES:  # the scan counts what pysubs2 reads; this is a backstop
        raise BrokenSubtitles(f"{name} has {len(events)} cues; at most {MAX_CUES} are accepted.",
                              code="too_many_cues")  # fmt: skip
    cues = []
    for number, event in enumerate(events):
        if event.end < event.start:
            raise BrokenSubtitles(f"{name}: cue {number + 1} ends before it starts.")
        cues.append(_cue(number, event, fmt))
    return SubtitleFile(fmt, document, cues)


def _check_timing(text: str, fmt: str, name: str) -> None:
    """Every SRT/VTT block with text has a valid timing line; every ASS Dialogue line has
    valid times. BrokenSubtitles names the first line that breaks this."""
    lines = text.splitlines()
    if fmt == "ass" or fmt == "ssa":
        found = 0
        for number, line in enumerate(lines, start=1):
            if ASS_DIALOGUE.match(line):
                found += 1
                _check_count(found, name, number)
                fields = line.split(":", 1)[1].split(",", 9)
                if len(fields) < 10 or not all(ASS_TIME.match(f.strip()) for f in fields[1:3]):
                    raise BrokenSubtitles(f"{name}, line {number}: a Dialogue line without valid "
                                          "times (Layer, Start, End, …).", number)  # fmt: skip
        return
    timing = SRT_TIMING if fmt == "srt" else VTT_TIMING
    block: list[tuple[int, str]] = []
    found = 0

    def close() -> None:
        nonlocal found
        if not block:
            return
        first = block[0][1]
        if fmt == "vtt" and first.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            return
        if any(timing.match(line) for _, line in block[:3]):
            found += 1
            _check_count(found, name, block[0][0])
            return
        numbered = first.isdigit()  # an SRT cue number: its timing line must follow
        if found and not numbered and fmt == "srt":
            return  # a blank line inside a cue's text: the text goes on
        where, seen = block[1] if numbered and len(block) > 1 else block[0]
        example = EXAMPLE_TIMING[fmt]
        raise BrokenSubtitles(f"{name}, line {where}: expected a timing line such as {example}, "
                              f"found {seen[:60]!r}.", where)  # fmt: skip

    if fmt == "vtt" and not (lines and lines[0].startswith("WEBVTT")):
        raise BrokenSubtitles(f"{name}, line 1: a WebVTT file starts with WEBVTT.", 1)
    for number, line in enumerate(lines, start=1):
        if line.strip():
            block.append((number, line.strip()))
        else:
            close()
            block = []
    close()
    if not found:
        raise BrokenSubtitles(f"{name} has no cue with a valid timing line.", 1)


def _check_count(found: int, name: str, line: int) -> None:
    """BrokenSubtitles as soon as the scan meets a cue over MAX_CUES."""
    if found > MAX_CUES:
        raise BrokenSubtitles(f"{name} has more than {MAX_CUES} cues (the cue at line {line} "
                              f"is number {found}); at most {MAX_CUES} are accepted.",
                              line, code="too_many_cues")  # fmt: skip


def _cue(index: int, event: pysubs2.SSAEvent, fmt: str) -> SubCue:
    """An event as the model sees it."""
    raw = event.text
    lead = ""
    if fmt in ("ass", "ssa"):
        if DRAWING.search(raw):
            return SubCue(index, event.start, event.end, raw, translate=False)
        match = LEADING_BLOCK.match(raw)
        if match and not SIMPLE_TAG.fullmatch(match.group(0)):
            lead, raw = match.group(0), raw[match.end():]  # fmt: skip
        raw = SIMPLE_TAG.sub(lambda m: f"<{'' if m.group(2) == '1' else '/'}{m.group(1)}>", raw)
    text = raw.replace("\\N", "\n").replace("\\n", "\n").replace("\\h", "\u00a0").strip()
    return SubCue(index, event.start, event.end, text, lead, translate=bool(_visible(text)))


def _visible(text: str) -> str:
    """The text without tags: what a viewer reads."""
    return re.sub(r"<[^>]*>|\{[^{}]*\}", "", text).strip()


def plain(text: str) -> str:
    """A cue's text as one plain line (no tags, no breaks): for context and checks."""
    return " ".join(_visible(text).split())


def restore(cue: SubCue, translation: str, fmt: str) -> str:
    """A translation back in the event text of `fmt`: the kept-aside lead in front, line
    breaks as \\N, and for ASS the simple tags as override blocks again."""
    text = translation.strip().replace("\r\n", "\n").replace("-->", "->")  # not a timing line
    if fmt in ("ass", "ssa"):
        text = HTML_TAG.sub(lambda m: "{\\" + m.group(2) + ("0" if m.group(1) else "1") + "}",
                            text)  # fmt: skip
        text = text.replace("\u00a0", "\\h")
    return cue.lead + text.replace("\n", "\\N")


def write(source: SubtitleFile, texts: dict[int, str], directory: Path, stem: str,
          formats: list[str]) -> list[Path]:  # fmt: skip
    """The input with each translated cue's text replaced (`texts`: cue index -> text as the
    model gave it), written once per format in `formats` as `<stem>.<ext>`. Times, styles and
    the cues with nothing to translate are the input's own."""
    document = source.document
    events = [e for e in document.events if not e.is_comment]
    translated = pysubs2.SSAFile()
    translated.info, translated.styles = dict(document.info), dict(document.styles)
    for event, cue in zip(events, source.cues, strict=True):
        copy = event.copy()
        if cue.index in texts:
            copy.text = restore(cue, texts[cue.index], source.format)
        translated.events.append(copy)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = directory / f"{stem}.{fmt}"
        keep = {"keep_ssa_tags": True} if source.format in ("srt", "vtt") and fmt != "ass" else {}
        translated.save(str(path), format_=fmt, encoding="utf-8", **keep)
        written.append(path)
    return written
