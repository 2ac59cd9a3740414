"""The styles a job's cues follow (Netflix, BBC, vertical video): characters a line, lines,
how long a cue may stay, reading speed, the gap between cues, and how two speakers share a
cue; the widths and speeds of Chinese, Japanese and Korean."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    """A subtitle style: the rules every cue follows."""

    name: str
    title: str
    max_chars: int
    max_lines: int
    min_duration: float
    max_duration: float
    max_cps: float
    min_gap: float
    dual: str = "dash"
    """Two speakers in one cue: "dash" (a line each, each starting "- "), "short" (the same,
    only when both lines are at most SHORT_SHARE of a line), "never"."""


TWO_FRAMES = 0.083
"""Two frames at 24 frames a second: the least a viewer needs to see that a cue changed."""


STYLES = {
    "netflix": Style("netflix", "Netflix", 42, 2, 5 / 6, 7.0, 20.0, TWO_FRAMES, "dash"),
    "bbc": Style("bbc", "BBC", 37, 2, 5 / 6, 7.0, 15.0, TWO_FRAMES, "short"),
    "vertical": Style("vertical", "vertical video", 32, 2, 1.0, 5.0, 20.0, TWO_FRAMES, "never"),
}
"""The presets a job may choose (`style`). BBC's 160–180 words a minute is about 15 characters
a second; vertical video (phones) has narrow lines and short cues, one speaker each."""


DASH = "- "
"""What starts each line of a cue two people speak (Netflix's dual-speaker rule)."""


SHORT_SHARE = 0.5
"""BBC: two speakers share a cue only when each one's line is at most this share of a line."""


DEFAULT_STYLE = "netflix"
"""The style of a job that names none."""


RULES = (
    "line_length",
    "lines",
    "min_duration",
    "max_duration",
    "reading_speed",
    "gap",
    "overlap",
    "media_end",
)
"""The rules `check` counts, in the order the report lists them."""


NETFLIX_CJK_WIDTH = {"zh": 16, "ja": 13, "ko": 16}
"""Characters a line in Netflix's Chinese, Japanese and Korean guides."""


NETFLIX_CJK_CPS = {"zh": 9.0, "ja": 4.0, "ko": 12.0}
"""Characters a second in Netflix's Chinese, Japanese and Korean guides (adult programmes)."""


UNSPACED = frozenset({"zh", "ja"})
"""Languages written without spaces between words: tokens are characters."""


def line_width(style: Style, language: str) -> int:
    """Characters a line for `language` under `style` (CJK from Netflix, scaled by the style)."""
    cjk = NETFLIX_CJK_WIDTH.get(language)
    return round(cjk * style.max_chars / STYLES["netflix"].max_chars) if cjk else style.max_chars


def reading_speed(style: Style, language: str) -> float:
    """Characters a second a viewer can read in `language` under `style`."""
    cjk = NETFLIX_CJK_CPS.get(language)
    return cjk * style.max_cps / STYLES["netflix"].max_cps if cjk else style.max_cps


def dual_width(style: Style, width: int) -> int:
    """The widest line (dash included) of a cue two people share under `style`."""
    return width if style.dual == "dash" else int(width * SHORT_SHARE)
