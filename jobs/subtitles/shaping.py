"""Cue shaping: timed words or timed segments become cues a viewer can read.

Pure: no I/O. Cue boundaries are chosen for a whole file at once by dynamic programming over
its tokens (jobs/subtitles/breaks.py says what each break costs); lines inside a cue are
broken by the same preferences and balanced. Then each cue is timed: it starts and ends on its
words, and is held into the following silence when it would otherwise be too short or too fast
to read, never overlapping the next cue or passing the end of the media.

Segments without word times (Gemini's answers) are cut into tokens whose times are shared out
by text length across the segment, and go through the same path.

Speakers: a change of speaker is a natural cue break, a line never holds two speakers, and a
cue holds at most two, one a line, as the style allows (`Style.dual`).
"""

from __future__ import annotations

import math
import unicodedata

from .breaks import (
    BREAK_CLAUSE,
    BREAK_SENTENCE,
    FORBIDDEN,
    INNER_PAUSE_S,
    LAST_CUE_MIN,
    PAUSE_S,
    SENTENCE_END,
    Token,
    break_cost,
    segment_tokens,
    text_tokens,
    word_tokens,
)
from .cues import Cue, Word
from .styles import DASH, UNSPACED, Style, dual_width, line_width, reading_speed

CUE_COST = 1.5
"""Every cue costs this much: fewer, fuller cues unless a break point is worth it. (Tuned with
the break costs on a spoken story: every cue then ends at a sentence or clause end.)"""


LOPSIDED, LOPSIDED_RATIO = 8.0, 0.5
"""Cost of two lines of which the shorter is under this share of the longer."""


LINE_WEIGHT = 0.15
"""How much a cue's best line break (see _line_cost) weighs in choosing the cues."""


TOO_FAST = 40.0
"""Cost of a cue that cannot be shown long enough to read, scaled by how much time is missing."""


INNER_PAUSE = 4.0
"""Cost of a silence of INNER_PAUSE_S or more inside a cue (text on screen while nobody talks)."""


STRADDLE = 3.0
"""Cost, per side, of a cue that holds a sentence end and also part of another sentence that
it does not complete ("…at dawn. The boat" | "rocked…"). (Idea from a colleague's version.)"""


INNER_SEGMENT = 3.0
"""Cost of a cue spanning two of an engine's segments (each already a sentence, or clause, with
its own time): merged, the later one would show before it is spoken."""


SPOKEN_PAUSE_S, SHOWN_EARLY = 0.25, 6.0
"""A cue holding words said after a pause of SPOKEN_PAUSE_S that follows a sentence or clause
end (or after any pause of PAUSE_S) costs SHOWN_EARLY: those words would be on screen before
they are said, which is what viewers notice first ("subtitles appear early")."""


JOIN_WITHIN_S = 1.0
"""Segments that do not end a sentence are joined to a next one starting this soon."""


MIN_VISIBLE = 0.1
"""The least a cue is on screen; cue starts are never closer than this plus the gap."""


LATE_S = 0.12
"""How much later than its words a cue may appear (three frames, well inside the 200 ms a
viewer takes as on time) so that the cue before it can stay up for the style's least duration
instead of flashing by between two close sentences."""


DUAL = 20.0
"""Layout cost of a cue two people share (weighed by LINE_WEIGHT): worth it for a short
exchange that would otherwise flash by in two cues too short to read, not otherwise."""


OVERFLOW = 1000.0
"""Cost of a cue over the line or duration limits: only when words come too densely (many at
one instant) for any cue that keeps them to end sooner."""


def _shown_early(a: Token, b: Token, break_after_a: float) -> bool:
    """True when `b`, said after `a`, would show too early in a cue that starts before it."""
    pause = b.start - a.end
    return pause >= PAUSE_S or (pause >= SPOKEN_PAUSE_S and break_after_a <= BREAK_CLAUSE)


def _line_cost(top: int, bottom: int, after: float, width: int) -> float:
    """The cost of a two-line cue: where the line breaks (the break cost after the top line),
    then balance; a bottom line a little longer than the top is the norm, and a line under
    LOPSIDED_RATIO of the other looks like a mistake however good its break."""
    cost = 2 * after + 12 * abs(top - bottom) / width + (0.5 if top > bottom else 0.0)
    return cost + (LOPSIDED if min(top, bottom) < LOPSIDED_RATIO * max(top, bottom) else 0.0)


def _line(tokens: list[Token]) -> str:
    """Tokens as one line of text."""
    return "".join((" " if t.space and i else "") + t.text for i, t in enumerate(tokens))


def _width(tokens: list[Token]) -> int:
    """Characters of `tokens` on one line."""
    return sum(len(t.text) + (1 if t.space and i else 0) for i, t in enumerate(tokens))


def _choose_cues(tokens: list[Token], style: Style, language: str,
                 media_end: float) -> list[tuple[int, int]]:  # fmt: skip
    """Cue boundaries (token index ranges) minimising the total cost, by dynamic programming.

    A cue is possible when its text fits `max_lines` lines and its words span at most
    `max_duration` (a single token always is). Costs: the break after each cue, CUE_COST per
    cue, TOO_FAST for text that cannot be shown long enough, INNER_PAUSE for silences inside.
    """
    n = len(tokens)
    width, cps = line_width(style, language), reading_speed(style, language)
    breaks = [break_cost(tokens[i], tokens[i + 1], language) for i in range(n - 1)] + [0.0]
    prefix = [0]
    for token in tokens:
        prefix.append(prefix[-1] + len(token.text) + (1 if token.space else 0))

    def chars(i: int, j: int) -> int:  # tokens[i:j] on one line
        return prefix[j] - prefix[i] - (1 if tokens[i].space else 0)

    best = [math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if best[i] == math.inf:
            continue
        first_line_end = i + 1  # the most tokens from i that fit one line
        while first_line_end < n and chars(i, first_line_end + 1) <= width:
            first_line_end += 1
        pauses, ended, inner_sentence_end = 0.0, False, False
        opens_sentence = i == 0 or breaks[i - 1] == BREAK_SENTENCE
        change, mixed = None, False  # where a second speaker starts; speakers the style
        for j in range(i + 1, n + 1):  # cannot lay out (a third, or two where it forbids it)
            token = tokens[j - 1]
            if j - 1 > i and token.speaker != tokens[j - 2].speaker:
                if change is not None or style.dual == "never" or style.max_lines < 2:
                    mixed = True
                change = j - 1 if change is None else change
            widest = dual_width(style, width)
            if change is not None and max(chars(i, change), chars(change, j)) + len(DASH) > widest:
                mixed = True  # a line each, dashed, does not fit
            if mixed and ended:
                break  # longer cues only mix more; only when nothing else can end (OVERFLOW)
            if j - 1 > i and breaks[j - 2] == BREAK_SENTENCE:
                inner_sentence_end = True
            if j - 1 > i and token.start - tokens[j - 2].end >= INNER_PAUSE_S:
                pauses += INNER_PAUSE
            if j - 1 > i and _shown_early(tokens[j - 2], token, breaks[j - 2]):
                pauses += SHOWN_EARLY
            if j - 1 > i and tokens[j - 2].last_of_segment:
                pauses += INNER_SEGMENT
            span = token.end - tokens[i].start
            # Too long to show, a word wider than a line among others (it stands alone), or
            # more than two lines: such a cue is only taken when no other can end (OVERFLOW).
            over = mixed or (j - 1 > i and (span > style.max_duration
                                             or len(token.text) > width))  # fmt: skip
            layout = DUAL if change is not None else 0.0
            if not over and chars(i, j) > width and j - 1 > i and change is None:
                layout = min(
                    (_line_cost(chars(i, k), chars(k, j), breaks[k - 1], width)
                     for k in range(first_line_end, i, -1) if chars(k, j) <= width),
                    default=math.inf,
                )  # fmt: skip
                if layout == math.inf or style.max_lines < 2:
                    over, layout = True, 0.0
            if over and ended:
                break  # longer cues only get worse
            if j < n and tokens[j].start < tokens[i].start + style.min_gap + MIN_VISIBLE:
                continue  # the next cue would start before this one could be seen
            limit = tokens[j].start - style.min_gap if j < n else media_end
            shown = max(min(tokens[i].start + style.max_duration, limit), token.end)
            shown -= tokens[i].start
            need = max(chars(i, j) / cps, style.min_duration)
            slow = TOO_FAST * max(0.0, need - shown) / need
            cost = best[i] + CUE_COST + breaks[j - 1] + slow + pauses + LINE_WEIGHT * layout
            cost += OVERFLOW if over else 0.0
            if inner_sentence_end:  # a sentence ends inside: the cue should not cut another
                cost += STRADDLE * ((not opens_sentence) + (breaks[j - 1] != BREAK_SENTENCE))
            if cost < best[j]:
                best[j], back[j] = cost, i
            ended = True
            if over:
                break
    ranges, j = [], n
    while j > 0:
        ranges.append((back[j], j))
        j = back[j]
    return ranges[::-1]


def _layout(tokens: list[Token], width: int, max_lines: int,
            language: str) -> tuple[str, ...]:  # fmt: skip
    """The lines of one cue: one if it fits, else the best balanced break, else greedy lines."""
    if _width(tokens) <= width or len(tokens) == 1:
        return (_line(tokens),)
    best, best_k = math.inf, None
    for k in range(1, len(tokens)):
        top, bottom = _width(tokens[:k]), _width(tokens[k:])
        if top > width or bottom > width:
            continue
        cost = _line_cost(top, bottom, break_cost(tokens[k - 1], tokens[k], language), width)
        if cost < best:
            best, best_k = cost, k
    if best_k is not None and max_lines >= 2:
        return (_line(tokens[:best_k]), _line(tokens[best_k:]))
    # Only for text that no two lines hold: fill lines greedily with groups of tokens that must
    # stay together (a number and its unit, an article and its noun).
    groups = [[tokens[0]]]
    for a, b in zip(tokens, tokens[1:], strict=False):
        if break_cost(a, b, language) >= FORBIDDEN:
            groups[-1].append(b)
        else:
            groups.append([b])
    lines, current = [], []
    for group in groups:
        if current and _width(current + group) > width:
            lines.append(_line(current))
            current = []
        current += group
    return (*lines, _line(current))


def _timed(cues: list[Cue], style: Style, language: str, media_end: float) -> list[Cue]:
    """Hold cues long enough to read, keep the gap, never overlap, never pass the media's end.
    A cue squeezed under the least duration by the next one pushes that one up to LATE_S later."""
    cps = reading_speed(style, language)
    timed, earliest = [], 0.0
    for index, cue in enumerate(cues):
        start = max(round(cue.start, 3), earliest)
        if start >= media_end - LAST_CUE_MIN:
            break
        after = cues[index + 1].start if index + 1 < len(cues) else None
        limit = min(start + style.max_duration, media_end)
        if after is not None:
            room = after - style.min_gap
            if room - start < style.min_duration:  # squeezed: the next may come LATE_S later
                room = min(start + style.min_duration, room + LATE_S)
            limit = min(limit, room)
        need = max(style.min_duration, len(cue.text.replace("\n", " ")) / cps)
        end = max(cue.end, math.ceil((start + need) * 1000) / 1000)
        end = min(end, limit)
        if end <= start:  # the next cue starts within the gap: keep the cue, lose the gap
            end = min(after if after is not None else media_end, media_end)
            end = max(end, start + 0.001)
        timed.append(Cue(start, round(end, 3), cue.lines, cue.source_text, cue.words,
                         cue.speakers))  # fmt: skip
        earliest = round(end + style.min_gap, 3)
    return timed


def shape_words(words: list[Word], style: Style, language: str, media_end: float) -> list[Cue]:
    """Cues from timed words (Whisper): they start and end on speech and are cut between words."""
    tokens = word_tokens(words, language, media_end)
    ranges = _choose_cues(tokens, style, language, media_end)
    return _build(tokens, ranges, None, style, language, media_end)


def _joined(segments: list[dict], language: str) -> list[dict]:
    """Sorted, clamped segments, each that does not end a sentence joined to a close next one
    (a sentence that a chunk border cut is one again)."""
    cleaned = []
    for s in sorted(segments, key=lambda s: (float(s["start"]), float(s["end"]))):
        text = unicodedata.normalize("NFC", str(s.get("text") or "")).strip()
        if not text:
            continue
        start = max(0.0, float(s["start"]), cleaned[-1]["start"] if cleaned else 0.0)
        source = unicodedata.normalize("NFC", str(s.get("source_text") or "")).strip()
        cleaned.append({"start": start, "end": max(float(s["end"]), start), "text": text,
                        "source_text": source, "speaker": s.get("speaker") or ""})  # fmt: skip
    for before, after in zip(cleaned, cleaned[1:], strict=False):
        before["end"] = min(before["end"], after["start"])  # overlapping input: the later wins
    joined: list[dict] = []
    glue = "" if language in UNSPACED else " "
    for s in cleaned:
        last = joined[-1] if joined else None
        if (
            last
            and not SENTENCE_END.search(last["text"])
            and s["start"] - last["end"] <= (JOIN_WITHIN_S)
            and s["speaker"] == last["speaker"]
        ):
            last["text"] += glue + s["text"]
            last["source_text"] = " ".join(filter(None, (last["source_text"], s["source_text"])))
            last["end"] = max(last["end"], s["end"])
        else:
            joined.append(dict(s))
    return joined


def _share_source(source: str, owners: list[int], widths: list[int]) -> dict[int, str]:
    """Split a segment's spoken text among the cues that show its translation: each source word
    goes to the cue showing the target text at the same proportional place."""
    words = source.split()
    if not words or not owners:
        return {}
    total_target = sum(widths)
    bounds, done = [], 0
    for width in widths:
        done += width
        bounds.append(done / total_target)
    total = sum(len(w) + 1 for w in words)
    shared: dict[int, list[str]] = {}
    done, at = 0, 0
    for word in words:
        middle = (done + (len(word) + 1) / 2) / total
        done += len(word) + 1
        while at < len(bounds) - 1 and middle > bounds[at]:
            at += 1
        shared.setdefault(owners[at], []).append(word)
    return {cue: " ".join(parts) for cue, parts in shared.items()}


def shape_segments(segments: list[dict], style: Style, language: str,
                   media_end: float) -> list[Cue]:  # fmt: skip
    """Cues from timed segments (`start`, `end`, `text`, `source_text`): `text`, in the target
    script, is split where a reader expects and its time shared by length; `source_text` is
    shared among the resulting cues the same way."""
    joined = [s for s in _joined(segments, language) if s["start"] < media_end - LAST_CUE_MIN]
    tokens, spans = [], []
    for segment in joined:
        segment["end"] = min(segment["end"], media_end)
        found = segment_tokens(segment, language)
        if found:
            found[-1].last_of_segment = True
        spans.append((len(tokens), len(tokens) + len(found)))
        tokens += found
    if not tokens:
        return []
    ranges = _choose_cues(tokens, style, language, media_end)
    cue_of_token = [k for k, (i, j) in enumerate(ranges) for _ in range(i, j)]
    sources = [""] * len(ranges)
    for segment, (first, last) in zip(joined, spans, strict=True):
        owners = cue_of_token[first:last]
        widths = [len(t.text) + 1 for t in tokens[first:last]]
        for cue, text in _share_source(segment["source_text"], owners, widths).items():
            sources[cue] = " ".join(filter(None, (sources[cue], text)))
    return _build(tokens, ranges, sources, style, language, media_end)


def _build(tokens: list[Token], ranges: list[tuple[int, int]], sources: list[str] | None,
           style: Style, language: str, media_end: float) -> list[Cue]:  # fmt: skip
    """Cues for the chosen token ranges, laid out and timed; `sources[k]` is the k-th cue's
    spoken text (by default, its own text on one line)."""
    width = line_width(style, language)
    cues = []
    for k, (i, j) in enumerate(ranges):
        part = tokens[i:j]
        turns = [[part[0]]]  # each speaker's run of tokens
        for a, b in zip(part, part[1:], strict=False):
            if b.speaker != a.speaker:
                turns.append([])
            turns[-1].append(b)
        if len(turns) > 1:  # a line each, dashed (more than two: see OVERFLOW in _choose_cues)
            lines = tuple(DASH + _line(turn) for turn in turns)
            who = tuple(turn[0].speaker for turn in turns)
        else:
            lines = _layout(part, width, style.max_lines, language)
            who = (part[0].speaker,) if part[0].speaker else ()
        words = tuple(t.word for t in part if t.word is not None)
        source = sources[k] if sources is not None else " ".join(lines)
        cues.append(Cue(part[0].start, part[-1].end, lines, source, words, who))
    return _timed(cues, style, language, media_end)


def wrap(text: str, style: Style, language: str) -> tuple[str, ...]:
    """`text` as the lines of one cue under `style` (one line when it fits)."""
    pieces = text_tokens(text, language)
    tokens = [Token(t, 0.0, 0.0, space) for t, space in pieces]
    if not tokens:
        return ()
    return _layout(tokens, line_width(style, language), style.max_lines, language)
