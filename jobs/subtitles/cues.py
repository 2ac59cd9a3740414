"""The cue model: a word as an engine timed it, and a cue (its time, its lines, the source
text it translates, its speakers). What makes cues of words is jobs/subtitles/shaping.py."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    """A word as an engine timed it (Whisper's carry a leading space)."""

    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass(frozen=True)
class Cue:
    """One subtitle: its time, its lines, the words as spoken, and the timed words it shows."""

    start: float
    end: float
    lines: tuple[str, ...]
    source_text: str = ""
    words: tuple[Word, ...] = ()
    speakers: tuple[str, ...] = ()
    """Who speaks: () when the engine cannot tell, one name, or one per line (two people
    sharing a cue, each line starting with DASH; more only for speech too dense to part)."""

    @property
    def text(self) -> str:
        """The lines as a subtitle file writes them."""
        return "\n".join(self.lines)

    @property
    def speaker(self) -> str:
        """The cue's (first) speaker, "" when not known."""
        return self.speakers[0] if self.speakers else ""

    def line_speakers(self) -> tuple[str, ...]:
        """Each line's speaker ("" for every line when not known)."""
        if len(self.speakers) == len(self.lines) > 1:
            return self.speakers
        return (self.speaker,) * len(self.lines)
