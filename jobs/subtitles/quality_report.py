"""The quality report: which of the style's rules each cue breaks (line length, lines,
duration, reading speed, gap, overlap, the end of the media), counted per file, and the line
a page shows for it."""

from __future__ import annotations

from .cues import Cue
from .styles import RULES, Style, line_width, reading_speed


def broken_rules(cues: list[Cue], style: Style, language: str, media_end: float) -> list[set]:
    """The rules of `style` each cue breaks (by position)."""
    width, cps = line_width(style, language), reading_speed(style, language)
    found = []
    for index, cue in enumerate(cues):
        after = cues[index + 1] if index + 1 < len(cues) else None
        duration = cue.end - cue.start
        broken = {
            "line_length": any(len(line) > width for line in cue.lines),
            "lines": len(cue.lines) > style.max_lines,
            "min_duration": duration < style.min_duration - 0.001,
            "max_duration": duration > style.max_duration + 0.001,
            "reading_speed": duration <= 0
            or len(cue.text.replace("\n", " ")) / duration > cps + 0.01,
            "gap": after is not None and 0 <= after.start - cue.end < style.min_gap - 0.001,
            "overlap": after is not None and after.start < cue.end,
            "media_end": cue.end > media_end + 0.001,
        }
        found.append({rule for rule, hit in broken.items() if hit})
    return found


def check(cues: list[Cue], style: Style, language: str, media_end: float) -> dict:
    """How many cues break each rule of `style` (a cue may break several)."""
    per_cue = broken_rules(cues, style, language, media_end)
    breaks = {rule: sum(rule in broken for broken in per_cue) for rule in RULES}
    within = sum(not broken for broken in per_cue)
    return {"style": style.name, "cues": len(cues), "within_rules": within, "breaks": breaks}


RULE_WORDS = {
    "line_length": "with a line too long",
    "lines": "with too many lines",
    "min_duration": "too short",
    "max_duration": "too long",
    "reading_speed": "too fast to read",
    "gap": "too close to the next",
    "overlap": "overlapping the next",
    "media_end": "past the end of the media",
}
"""How `summary` names each broken rule."""


def summary(report: dict, style: Style) -> str:
    """One line for a person: "41 cues, all within Netflix rules", or what is broken how often."""
    count = report["cues"]
    if not count:
        return "No cues"
    cues = f"{count} cue{'s' if count != 1 else ''}"
    broken = [f"{n} {RULE_WORDS[rule]}" for rule, n in report["breaks"].items() if n]
    if not broken:
        return f"{cues}, {'all ' if count > 1 else ''}within {style.title} rules"
    return f"{cues}: {', '.join(broken)}"
