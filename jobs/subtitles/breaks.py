"""Where text may break into cues and lines, and what each break costs: sentence and clause
ends, pauses, conjunctions, never after an article or inside a number, per language; text
and timed words cut into the tokens the shaper places."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .cues import Word
from .styles import UNSPACED

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


BREAK_SENTENCE, BREAK_CLAUSE, BREAK_PAUSE, BREAK_CONJUNCTION, BREAK_PLAIN = 0.0, 1.5, 3.0, 4.5, 9.0
"""Cost of ending a cue (or a line) after a token, by what follows it."""


FORBIDDEN = 60.0
"""After an article, inside a number: only when nothing else fits."""


PAUSE_S, INNER_PAUSE_S = 0.5, 1.0
"""A gap between words this long is a pause (a good break); this long inside a cue, a bad one."""


SLOW_CPS, SPEAKING_CPS = 4.0, 15.0
"""A segment slower than SLOW_CPS has unknown word times: its text is laid out from its start
at SPEAKING_CPS instead of being spread over the whole segment."""


LAST_CUE_MIN = 0.05
"""A cue starting this close to the end of the media (or after it) is dropped."""


@dataclass
class Token:
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


def break_cost(a: Token, b: Token, language: str) -> float:
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


def text_tokens(text: str, language: str) -> list[tuple[str, bool]]:
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


def word_tokens(words: list[Word], language: str, media_end: float) -> list[Token]:
    """Timed words, sorted and cleaned: monotonic starts, ends after starts, nothing empty."""
    tokens: list[Token] = []
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
        tokens.append(Token(text, start, end, space, word))
    return tokens


def segment_tokens(segment: dict, language: str) -> list[Token]:
    """A segment's text as tokens, its time shared out by their length (see SLOW_CPS)."""
    pieces = text_tokens(segment["text"], language)
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
        tokens.append(Token(text, t0, start + (end - start) * done / total, space,
                             speaker=segment.get("speaker") or ""))  # fmt: skip
    return tokens
