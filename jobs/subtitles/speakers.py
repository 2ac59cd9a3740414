"""Who speaks: speaker names as an engine gives them, cleaned, and made consistent across the
chunks of one file.

Pure: no I/O. Gemini labels each segment of a chunk with a speaker ("S1", "S2"… or a name the
speech says, "Anna"). Chunks are heard separately, often at the same time (GEMINI_CONCURRENCY),
so one person may be "S2" in one chunk and "S1" or "Marco" in the next. `reconcile` maps every
chunk's labels onto one set of file speakers, chunk by chunk in order, by these rules (the
first that applies wins, and no file speaker is given to two labels of one chunk):

1. a name ("Anna", not "S3") already known in the file is that speaker;
2. a label the chunk's prompt listed (it was told the previous chunk's speakers, see
   `prompt_lines`) is whoever that label was in the previous chunk;
3. the chunk's first speaker, when speech runs across the border (the previous chunk's last
   segment ends, and this one's first starts, within BORDER_S of the cut), is the previous
   chunk's last speaker: if the chunk was told nothing (it ran before its previous chunk was
   done), or uses none of the labels it was told (it renamed them), or that speaker is a name;
4. such a chunk (told nothing, or using none of what it was told) pairs its other labels
   with the previous chunk's speakers, the latest to speak first; any chunk does so with a
   name not known yet (the model learnt the name of someone it had labelled);
5. anything else is a new speaker (a chunk that kept the labels it was told and adds one has
   heard someone new).

A name replaces a generic label ("S2" becomes "Marco" in every chunk, earlier ones included)
when a chunk's name lands on a speaker known only by a label. Labels are numbered again at the
end in order of first appearance, so the file reads S1, S2… from its start.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_NAME_CHARS = 40
"""The longest speaker name kept (a longer one from an engine is cut; the editor refuses it)."""

BORDER_S = 1.5
"""Speech this close to a chunk's cut on both sides is taken to run across it."""

PROMPT_SPEAKERS = 6
"""The most speakers a chunk's prompt names (the latest to speak): the request's size stays
bounded (jobs/spend/pricing.py counts it) however many people a recording has."""

LABEL = re.compile(r"^(?:S|SPEAKER[ _-]?)?(\d{1,3}|[A-Z])$", re.IGNORECASE)
"""A generic label ("S2", "Speaker B", "A", "SPEAKER_01"): the engine could not tell a name.
Generic labels are numbered again (S1, S2…); only names are kept as the engine said them."""

MARKUP = re.compile(r"<[^>]*>|\{[^}]*\}")
"""HTML-like tags and ASS override blocks."""


def clean_name(raw) -> str:
    """A speaker name as an engine gave it, made safe to show: tags and control characters
    gone, spaces collapsed, at most MAX_NAME_CHARS characters ("" when nothing is left)."""
    if not isinstance(raw, str):
        return ""
    text = MARKUP.sub("", unicodedata.normalize("NFC", raw))
    text = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    text = " ".join(text.replace("<", "").replace(">", "").split())
    if re.fullmatch(r"s\d+", text):
        text = text.upper()  # "s2" and "S2" are one label
    return text[:MAX_NAME_CHARS].strip()


def problem(name) -> str | None:
    """Why a person's speaker name cannot be kept (None: it can): not text, markup, control
    characters, or longer than MAX_NAME_CHARS."""
    if not isinstance(name, str):
        return "a speaker must be a name (text)"
    if len(name) > MAX_NAME_CHARS:
        return f"a speaker name has at most {MAX_NAME_CHARS} characters"
    if MARKUP.search(name) or any(c in name for c in "<>{}"):
        return "a speaker name cannot hold tags or braces"
    if any(unicodedata.category(c)[0] == "C" for c in name):
        return "a speaker name cannot hold control characters or line breaks"
    return None


def is_label(name: str) -> bool:
    """True for a generic label such as "S2" or "Speaker B" (not a name)."""
    return bool(LABEL.match(name))


@dataclass(frozen=True)
class ChunkSpeakers:
    """One chunk as reconciling sees it: its segments' (start, end, speaker) in seconds from
    the chunk's start, its length, and the labels its prompt listed (`given`)."""

    segments: tuple[tuple[float, float, str], ...]
    duration: float
    given: tuple[str, ...] = ()

    def order(self) -> list[str]:
        """The chunk's labels in order of first appearance."""
        return list(dict.fromkeys(s for _, _, s in self.segments if s))

    def last(self) -> str | None:
        """The label of the chunk's last labelled segment."""
        return next((s for _, _, s in reversed(self.segments) if s), None)


def reconcile(chunks: list[ChunkSpeakers]) -> list[dict[str, str]]:
    """For each chunk, its labels -> the file's speaker names (see the module's rules)."""
    names: list[str] = []  # file speaker id -> its name (or generic label) so far
    maps: list[dict[str, int]] = []
    for k, chunk in enumerate(chunks):
        before = chunks[k - 1] if k else None
        previous = maps[-1] if maps else {}
        mapping: dict[str, int] = {}
        labels = chunk.order()

        def free(label: str, speaker: int | None, mapping: dict = mapping) -> bool:
            """Whether `label` may become `speaker`: neither is taken in this chunk yet."""
            return label not in mapping and speaker is not None and speaker not in mapping.values()

        for label in labels:  # 1: a known name
            found = next((i for i, n in enumerate(names) if n.casefold() == label.casefold()
                          and not is_label(label)), None)  # fmt: skip
            if free(label, found):
                mapping[label] = found
        for label in labels:  # 2: a label the prompt gave, as the previous chunk meant it
            if label in chunk.given and free(label, previous.get(label)):
                mapping[label] = previous[label]
        renamed = not any(label in chunk.given for label in labels)  # told nothing it used
        if labels and before is not None and _continues(before, chunk):  # 3: across the cut
            last = previous.get(before.last() or "")
            if (renamed or not is_label(labels[0])) and free(labels[0], last):
                mapping[labels[0]] = last
        if before is not None:  # 4: the previous chunk's speakers, latest first
            recent = list(dict.fromkeys(previous[s] for _, _, s in reversed(before.segments)
                                        if s in previous))  # fmt: skip
            for label in labels:
                pool = [i for i in recent if i not in mapping.values()]
                if label not in mapping and pool and (renamed or not is_label(label)):
                    mapping[label] = pool[0]
        for label in labels:  # 5: someone new
            if label not in mapping:
                mapping[label] = len(names)
                names.append(label)
        for label, speaker in mapping.items():  # a name for someone known by a label only
            taken = any(n.casefold() == label.casefold() for n in names)
            if not is_label(label) and is_label(names[speaker]) and not taken:
                names[speaker] = label
        maps.append(mapping)
    final = _numbered(names, maps)
    return [{label: final[speaker] for label, speaker in m.items()} for m in maps]


def _continues(before: ChunkSpeakers, chunk: ChunkSpeakers) -> bool:
    """Whether speech runs across the cut between two chunks."""
    ends = [e for _, e, s in before.segments if s]
    starts = [b for b, _, s in chunk.segments if s]
    return bool(ends and starts) and (ends[-1] >= before.duration - BORDER_S
                                      and starts[0] <= BORDER_S)  # fmt: skip


def _numbered(names: list[str], maps: list[dict[str, int]]) -> list[str]:
    """The final names: generic labels numbered S1, S2… in order of first appearance, names
    kept; a name used by two speakers stays (they are one person by name)."""
    final = list(names)
    n = 0
    for speaker in dict.fromkeys(i for m in maps for i in m.values()):
        if is_label(names[speaker]):
            n += 1
            final[speaker] = f"S{n}"
    return final


def relabelled(segments: list[dict], mapping: dict[str, str]) -> list[dict]:
    """A chunk's segments with their speakers mapped onto the file's (unlabelled ones kept)."""
    return [s | {"speaker": mapping[s["speaker"]]} if s.get("speaker") in mapping else s
            for s in segments]  # fmt: skip


def prompt_lines(segments: list[dict] | None) -> tuple[list[str], tuple[str, ...]]:
    """What a chunk's prompt says about the previous chunk's speakers (its answer's
    `segments`, None when it is not done yet), and the labels it lists (`given`)."""
    said = [s["speaker"] for s in segments or () if s.get("speaker")]
    kept = list(dict.fromkeys(reversed(said)))[:PROMPT_SPEAKERS]  # the latest to speak
    labels = [label for label in dict.fromkeys(said) if label in kept]
    if not labels:
        return [], ()
    last = next(s["speaker"] for s in reversed(segments) if s.get("speaker"))
    return [
        f"Speakers heard in the previous clip: {', '.join(labels)}; it ended with {last} "
        "speaking. Give the same people the same labels; a new person gets a new label."
    ], tuple(labels)


def speaking_time(segments: list[dict]) -> list[dict]:
    """Each speaker's speaking time in seconds and share of all labelled speech, the most
    talkative first."""
    seconds: dict[str, float] = {}
    for s in segments:
        if s.get("speaker"):
            seconds[s["speaker"]] = seconds.get(s["speaker"], 0.0) + max(0.0, s["end"] - s["start"])
    total = sum(seconds.values())
    return [{"speaker": name, "seconds": round(t, 3), "share": round(t / total, 3) if total else 0}
            for name, t in sorted(seconds.items(), key=lambda item: -item[1])]  # fmt: skip
