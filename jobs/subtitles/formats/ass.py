"""The ASS document of a job's cues: an `.ass` output, and what a burn draws on the picture
(jobs/media/video.py). Sized to the picture: a font for the script, a solid outline and shadow
for any background, margins inside the safe area; each event named after its speakers."""

from __future__ import annotations

import pysubs2

from ..cues import Cue
from ..styles import Style

FONTS = {
    "fa": "Noto Sans Arabic", "ar": "Noto Sans Arabic", "ur": "Noto Sans Arabic",
    "hi": "Noto Sans Devanagari", "zh": "WenQuanYi Zen Hei", "ja": "WenQuanYi Zen Hei",
    "ko": "WenQuanYi Zen Hei",
}  # fmt: skip
"""A font that has the script's letters (fonts-noto-core, fonts-wqy-zenhei); others: Noto Sans.
fontconfig falls back for any glyph the font lacks."""

DEFAULT_FONT = "Noto Sans"

FONT_SHARE = {"landscape": 0.055, "portrait": 0.075}
"""Font size as a share of the picture's height (landscape) or width (portrait video, the
vertical preset's size: fewer, larger characters a line)."""


def document(shaped: list[Cue], style: Style, language: str, width: int,
             height: int) -> pysubs2.SSAFile:  # fmt: skip
    """The cues as an ASS document sized to the picture: a font for the script, a solid
    outline and shadow for any background, margins inside the safe area, and on portrait
    video the larger size of the vertical preset. Each event's Name is its speaker(s)."""
    portrait = height > width
    size = (width if portrait else height) * FONT_SHARE["portrait" if portrait else "landscape"]
    document = pysubs2.SSAFile()
    document.info.update({"PlayResX": str(width), "PlayResY": str(height),
                          "WrapStyle": "2", "ScaledBorderAndShadow": "yes"})  # fmt: skip
    document.styles["Default"] = pysubs2.SSAStyle(
        fontname=FONTS.get(language, DEFAULT_FONT), fontsize=round(size, 1),
        primarycolor=pysubs2.Color(255, 255, 255), outlinecolor=pysubs2.Color(0, 0, 0),
        backcolor=pysubs2.Color(0, 0, 0, 128), bold=False, outline=max(1.0, round(size / 16, 1)),
        shadow=max(0.5, round(size / 32, 1)), alignment=pysubs2.Alignment.BOTTOM_CENTER,
        marginl=round(width * 0.08), marginr=round(width * 0.08),
        marginv=round(height * (0.12 if portrait else 0.06)),
    )  # fmt: skip
    for cue in shaped:
        text = "\\N".join(line.replace("{", "(").replace("}", ")") for line in cue.lines)
        document.events.append(pysubs2.SSAEvent(start=round(cue.start * 1000),
                                                end=round(cue.end * 1000), text=text,
                                                name=ass_name(cue.speakers)))  # fmt: skip
    return document


def ass_name(speakers: tuple[str, ...]) -> str:
    """An event's Name field: the cue's speakers joined by " / " (a comma ends the field)."""
    return " / ".join(" ".join(name.replace(",", " ").split()) for name in speakers)
