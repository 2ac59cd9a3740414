"""Cue shaping: timed words or timed segments become subtitles a viewer can read.

Pure: no I/O, no Redis. A style preset (Netflix, BBC, vertical video) sets the rules: characters
a line, lines, how long a cue may stay, reading speed, and the gap between cues. Cue boundaries
are chosen for a whole file at once by dynamic programming over its words, preferring breaks a
reader expects (sentence end, then clause mark, then a pause, then before a conjunction or
preposition) and never breaking after an article or inside a number. Lines inside a cue are
broken by the same preferences and balanced. Then each cue is timed: it starts and ends on its
words, and is held into the following silence when it would otherwise be too short or too fast
to read, never overlapping the next cue or passing the end of the media.

Segments without word times (Gemini's answers) are cut into tokens whose times are shared out
by text length across the segment, and go through the same path.

Speakers (segments with a `speaker`): a change of speaker is a natural cue break, a line never
holds two speakers, and a cue holds at most two, one a line, as the style allows
(`Style.dual`): Netflix puts a hyphen at the start of each line of such a cue (none when one
person speaks); BBC starts a new cue for a new speaker unless both lines are very short.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

# --- presets -------------------------------------------------------------------------------


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


# --- what goes in and what comes out ------------------------------------------------------------


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


# --- language knowledge -----------------------------------------------------------------------

SENTENCE_END = re.compile(r"[.!?…。！？؟]+[\"'”’»）)\]」』]*$")
CLAUSE_END = re.compile(r"([,;:、，；：،؛]|[–—-])[\"'”’»）)\]」』]*$")
ABBREVIATIONS = frozenset(
    "mr. mrs. ms. dr. prof. st. sr. jr. vs. etc. e.g. i.e. u.s. u.k. no. mt. approx.".split()
)
"""Tokens ending in a full stop that do not end a sentence."""
INITIAL = re.compile(r"^[A-Z]\.$")

ARTICLES = {
    "en": "a an the this that these those my your his her its our their",
    "es": "el la los las un una unos unas mi mis tu tus su sus",
    "fr": "le la les un une des du au aux mon ma mes ton ta tes son sa ses",
    "de": "der die das den dem des ein eine einen einem einer eines mein meine dein deine sein "
    "seine ihr ihre",
}
"""Words a line or cue never ends on: the noun they announce belongs with them."""
ARTICLES_OF = {lang: frozenset(words.split()) for lang, words in ARTICLES.items()}

CONJUNCTIONS = {
    "en": "and but or nor so yet because although though while when where which who whom whose "
    "that if unless until since after before as than to of in on at for with from by about "
    "into over under through between without during against",
    "es": "y e o u pero porque que cuando donde si de en con para por a sin sobre entre",
    "fr": "et ou mais car donc que qui quand si de à en dans pour avec sans sur par entre",
    "de": "und oder aber denn weil dass wenn als ob mit von zu in auf für aus bei nach über",
    "fa": "و که اما یا با از به در برای تا چون اگر",
    "ar": "و أو لكن لأن أن إذا في من إلى على مع عن",
}
"""Words a reader expects a new line or cue to start with."""
CONJUNCTIONS_OF = {lang: frozenset(words.split()) for lang, words in CONJUNCTIONS.items()}

UNITS = frozenset("% ‰ km m cm mm kg g mg l ml s ms min h am pm a.m. p.m. °c °f".split())
"""What stays on the line of the number before it."""
CURRENCY = frozenset("$ € £ ¥ ₹".split())

NO_LINE_START = frozenset(
    "、。，．・：；？！）」』】〕ー〜ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
"""Japanese and Chinese characters that never begin a line (kinsoku)."""
NO_LINE_END = frozenset("（「『【〔")
"""...and those that never end one."""

EDGE_PUNCTUATION = "\"'“”‘’«»()[]{}¿¡"
WORDLIKE = re.compile(r"\w")
"""Text with something to read in it (not only punctuation)."""
LONE_STOP = re.compile(r"[.,!?;:…。、！？]+")
"""Punctuation that belongs to the word before it when an engine times it on its own."""

# --- costs (dimensionless; what the dynamic programme minimises) ----------------------------------

BREAK_SENTENCE, BREAK_CLAUSE, BREAK_PAUSE, BREAK_CONJUNCTION, BREAK_PLAIN = 0.0, 1.5, 3.0, 4.5, 9.0
"""Cost of ending a cue (or a line) after a token, by what follows it."""
FORBIDDEN = 60.0
"""After an article, inside a number: only when nothing else fits."""
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
PAUSE_S, INNER_PAUSE_S = 0.5, 1.0
"""A gap between words this long is a pause (a good break); this long inside a cue, a bad one."""
SPOKEN_PAUSE_S, SHOWN_EARLY = 0.25, 6.0
"""A cue holding words said after a pause of SPOKEN_PAUSE_S that follows a sentence or clause
end (or after any pause of PAUSE_S) costs SHOWN_EARLY: those words would be on screen before
they are said, which is what viewers notice first ("subtitles appear early")."""
JOIN_WITHIN_S = 1.0
"""Segments that do not end a sentence are joined to a next one starting this soon."""
SLOW_CPS, SPEAKING_CPS = 4.0, 15.0
"""A segment slower than SLOW_CPS has unknown word times: its text is laid out from its start
at SPEAKING_CPS instead of being spread over the whole segment."""
LAST_CUE_MIN = 0.05
"""A cue starting this close to the end of the media (or after it) is dropped."""
MIN_VISIBLE = 0.1
"""The least a cue is on screen; cue starts are never closer than this plus the gap."""
DUAL = 20.0
"""Layout cost of a cue two people share (weighed by LINE_WEIGHT): worth it for a short
exchange that would otherwise flash by in two cues too short to read, not otherwise."""
OVERFLOW = 1000.0
"""Cost of a cue over the line or duration limits: only when words come too densely (many at
one instant) for any cue that keeps them to end sooner."""


@dataclass
class _Token:
    """A unit that is never split: a word, or a character of Chinese or Japanese."""

    text: str
    start: float
    end: float
    space: bool  # a space before it, when it does not start a line
    word: Word | None = None
    last_of_segment: bool = False
    speaker: str = ""


def _bare(text: str) -> str:
    """A token without surrounding punctuation, lower-cased (for word lists)."""
    return text.strip(EDGE_PUNCTUATION).lower()


def _is_number(text: str) -> bool:
    """True for tokens such as 12, 1,000, 3.5 or 2019."""
    return bool(re.fullmatch(r"[\d.,]*\d", text.strip(EDGE_PUNCTUATION)))


def _break_cost(a: _Token, b: _Token, language: str) -> float:
    """The cost of a cue or line ending after `a` with `b` next."""
    if a.speaker != b.speaker:
        return BREAK_SENTENCE  # someone else speaks: the most natural break there is
    text = a.text
    if not b.space and language in UNSPACED:
        if b.text in NO_LINE_START or text in NO_LINE_END:
            return FORBIDDEN
    if text[-1:].isdigit() and b.text[:1].isdigit():
        return FORBIDDEN  # "12 345", "1 000"
    if _is_number(text) and _bare(b.text) in UNITS or text in CURRENCY:
        return FORBIDDEN  # "5 km", "$ 5"
    if SENTENCE_END.search(text) and not (
        _bare(text) in ABBREVIATIONS or _bare(text) + "." in ABBREVIATIONS or INITIAL.match(text)
    ):
        return BREAK_SENTENCE
    if CLAUSE_END.search(text) or b.text in ("–", "—"):
        return BREAK_CLAUSE
    if _bare(text) in ARTICLES_OF.get(language, ()):
        return FORBIDDEN
    if b.start - a.end >= PAUSE_S:
        return BREAK_PAUSE
    if _bare(b.text) in CONJUNCTIONS_OF.get(language, ()):
        return BREAK_CONJUNCTION
    return BREAK_PLAIN


def _shown_early(a: _Token, b: _Token, break_after_a: float) -> bool:
    """True when `b`, said after `a`, would show too early in a cue that starts before it."""
    pause = b.start - a.end
    return pause >= PAUSE_S or (pause >= SPOKEN_PAUSE_S and break_after_a <= BREAK_CLAUSE)


def _line_cost(top: int, bottom: int, after: float, width: int) -> float:
    """The cost of a two-line cue: where the line breaks (the break cost after the top line),
    then balance; a bottom line a little longer than the top is the norm, and a line under
    LOPSIDED_RATIO of the other looks like a mistake however good its break."""
    cost = 2 * after + 12 * abs(top - bottom) / width + (0.5 if top > bottom else 0.0)
    return cost + (LOPSIDED if min(top, bottom) < LOPSIDED_RATIO * max(top, bottom) else 0.0)


def dual_width(style: Style, width: int) -> int:
    """The widest line (dash included) of a cue two people share under `style`."""
    return width if style.dual == "dash" else int(width * SHORT_SHARE)


def _line(tokens: list[_Token]) -> str:
    """Tokens as one line of text."""
    return "".join((" " if t.space and i else "") + t.text for i, t in enumerate(tokens))


def _width(tokens: list[_Token]) -> int:
    """Characters of `tokens` on one line."""
    return sum(len(t.text) + (1 if t.space and i else 0) for i, t in enumerate(tokens))


# --- tokens -----------------------------------------------------------------------------------


def _tokenize(text: str, language: str) -> list[tuple[str, bool]]:
    """Split text into (token, space before it) pairs: words, or CJK characters."""
    text = unicodedata.normalize("NFC", text)
    if language not in UNSPACED:
        return [(part, True) for part in text.split()]
    found, space = [], False
    for part in re.findall(r"[A-Za-z0-9]+(?:[.,'’-][A-Za-z0-9]+)*|\s+|.", text):
        if part.isspace():
            space = True
            continue
        found.append((part, space))
        space = False
    return found


def _word_tokens(words: list[Word], language: str, media_end: float) -> list[_Token]:
    """Timed words, sorted and cleaned: monotonic starts, ends after starts, nothing empty."""
    tokens: list[_Token] = []
    ordered = sorted(words, key=lambda w: (w.start, w.end))
    for word in ordered:
        text = unicodedata.normalize("NFC", word.text.strip())
        if not text or word.start >= media_end - LAST_CUE_MIN:
            continue
        if LONE_STOP.fullmatch(text):  # a lone "." that Whisper timed as a word of its own
            if tokens and tokens[-1].text[-1:] not in text:
                tokens[-1].text += text
            continue
        start = max(0.0, word.start, tokens[-1].start if tokens else 0.0)
        end = min(max(word.end, start), media_end)
        space = language not in UNSPACED or word.text[:1].isspace()
        tokens.append(_Token(text, start, end, space, word))
    return tokens


def _segment_tokens(segment: dict, language: str) -> list[_Token]:
    """A segment's text as tokens, its time shared out by their length (see SLOW_CPS)."""
    pieces = _tokenize(segment["text"], language)
    if not pieces:
        return []
    widths = [len(text) + (1 if space and i else 0) for i, (text, space) in enumerate(pieces)]
    total = sum(widths)
    start, end = segment["start"], segment["end"]
    if total / max(end - start, 1e-6) < SLOW_CPS:
        end = min(end, start + total / SPEAKING_CPS)
    tokens, done = [], 0
    for (text, space), width in zip(pieces, widths, strict=True):
        t0 = start + (end - start) * done / total
        done += width
        tokens.append(_Token(text, t0, start + (end - start) * done / total, space,
                             speaker=segment.get("speaker") or ""))  # fmt: skip
    return tokens


# --- choosing cues ----------------------------------------------------------------------------


def _choose_cues(tokens: list[_Token], style: Style, language: str,
                 media_end: float) -> list[tuple[int, int]]:  # fmt: skip
    """Cue boundaries (token index ranges) minimising the total cost, by dynamic programming.

    A cue is possible when its text fits `max_lines` lines and its words span at most
    `max_duration` (a single token always is). Costs: the break after each cue, CUE_COST per
    cue, TOO_FAST for text that cannot be shown long enough, INNER_PAUSE for silences inside.
    """
    n = len(tokens)
    width, cps = line_width(style, language), reading_speed(style, language)
    breaks = [_break_cost(tokens[i], tokens[i + 1], language) for i in range(n - 1)] + [0.0]
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


def _layout(tokens: list[_Token], width: int, max_lines: int,
            language: str) -> tuple[str, ...]:  # fmt: skip
    """The lines of one cue: one if it fits, else the best balanced break, else greedy lines."""
    if _width(tokens) <= width or len(tokens) == 1:
        return (_line(tokens),)
    best, best_k = math.inf, None
    for k in range(1, len(tokens)):
        top, bottom = _width(tokens[:k]), _width(tokens[k:])
        if top > width or bottom > width:
            continue
        cost = _line_cost(top, bottom, _break_cost(tokens[k - 1], tokens[k], language), width)
        if cost < best:
            best, best_k = cost, k
    if best_k is not None and max_lines >= 2:
        return (_line(tokens[:best_k]), _line(tokens[best_k:]))
    # Only for text that no two lines hold: fill lines greedily with groups of tokens that must
    # stay together (a number and its unit, an article and its noun).
    groups = [[tokens[0]]]
    for a, b in zip(tokens, tokens[1:], strict=False):
        if _break_cost(a, b, language) >= FORBIDDEN:
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
    """Hold cues long enough to read, keep the gap, never overlap, never pass the media's end."""
    cps = reading_speed(style, language)
    timed = []
    for index, cue in enumerate(cues):
        start = round(cue.start, 3)
        if start >= media_end - LAST_CUE_MIN:
            break
        after = cues[index + 1].start if index + 1 < len(cues) else None
        limit = min(start + style.max_duration, media_end)
        if after is not None:
            limit = min(limit, after - style.min_gap)
        need = max(style.min_duration, len(cue.text.replace("\n", " ")) / cps)
        end = max(cue.end, math.ceil((start + need) * 1000) / 1000)
        end = min(end, limit)
        if end <= start:  # the next cue starts within the gap: keep the cue, lose the gap
            end = min(after if after is not None else media_end, media_end)
            end = max(end, start + 0.001)
        timed.append(Cue(start, round(end, 3), cue.lines, cue.source_text, cue.words,
                         cue.speakers))  # fmt: skip
    return timed


def shape_words(words: list[Word], style: Style, language: str, media_end: float) -> list[Cue]:
    """Cues from timed words (Whisper): they start and end on speech and are cut between words."""
    tokens = _word_tokens(words, language, media_end)
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
        found = _segment_tokens(segment, language)
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


def _build(tokens: list[_Token], ranges: list[tuple[int, int]], sources: list[str] | None,
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
    pieces = _tokenize(text, language)
    tokens = [_Token(t, 0.0, 0.0, space) for t, space in pieces]
    if not tokens:
        return ()
    return _layout(tokens, line_width(style, language), style.max_lines, language)


# --- the quality report -----------------------------------------------------------------------


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
