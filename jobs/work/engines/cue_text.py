"""The text translation of subtitle cues, as every text engine does it (Gemini and the LLM):
the batches, what is said, how an answer is read, and the rounds that ask again for what an
answer left out. No I/O here: an engine's `ask` makes the (retried, billed) request.

A cue is (index, text). A request carries an instruction (`cues_prompt`: the target language
and the session's glossary), the cues as one JSON array (`cues_part`) and, when there are any,
cues around them for meaning (`context_part`); the answer is {"cues": [{index, text}]}."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from ...errors import JobFailed
from ...life.session import glossary_lines
from ...spend.pricing import TEXT_BATCH_CHARS
from ...subtitles.languages import name_of
from . import Translated

CUES_SCHEMA = {
    "type": "OBJECT",
    "required": ["cues"],
    "properties": {
        "cues": {
            "type": "ARRAY",
            "items": {"type": "OBJECT", "required": ["index", "text"],
                      "properties": {"index": {"type": "INTEGER"}, "text": {"type": "STRING"}},
                      "propertyOrdering": ["index", "text"]},
        }
    },
}  # fmt: skip
"""The answer of a text translation call in Gemini's schema dialect: one translated text per
cue index (API.md). The LLM's standard JSON Schema of it: llm_protocol.CUES_JSON_SCHEMA."""

CUES_INSTRUCTION = (
    "You translate subtitles. You get cues as a JSON array of {index, text}; answer with "
    "exactly one cue per index you were given, the same indexes, each with its own "
    "translation. Answer only with JSON that follows the response schema."
)

BATCH_CHARS = TEXT_BATCH_CHARS

MERGE_RATIO = 1.8
"""A cue whose translation is this many times longer (relative to its source) than the
answer's usual is suspected of holding its missing neighbour's text too."""

CONTEXT_CUES = 3
"""Cues before a batch sent along as context (not to translate)."""

WHO = {"gemini": "Gemini", "llm": "The LLM"}
"""How a failure names each text engine to people."""


def batches(cues: list[tuple[int, str]], max_chars: int = BATCH_CHARS,
            max_cues: int = 100) -> list[list[tuple[int, str]]]:  # fmt: skip
    """Consecutive runs of (index, text) of at most `max_cues` cues and `max_chars` characters
    (a longer cue goes alone)."""
    found: list[list[tuple[int, str]]] = []
    size = 0
    for cue in cues:
        if not found or len(found[-1]) >= max_cues or size + len(cue[1]) > max_chars:
            found.append([])
            size = 0
        found[-1].append(cue)
        size += len(cue[1])
    return [batch for batch in found if batch]


def cues_prompt(target_language: str, count: int, glossary: list[dict] | None = None,
                again: bool = False) -> str:  # fmt: skip
    """The instruction part of a text translation call of `count` cues."""
    name = name_of(target_language)
    lines = [
        f"Translate these {count} subtitle cues.",
        f"Target language: {name} ({target_language}).",
        "Keep each cue's line breaks (\\n) where the target language allows it, and keep its "
        "formatting tags (<i>, </i>, <b>, {\\...}) around the same words. Keep music notes (♪), "
        "asterisks and symbols. Translate each cue on its own: never move words between cues, "
        "never merge or split cues, never leave one out.",
    ]
    if again:
        lines.append("These cues were missing from an earlier answer; the context shows the "
                     "cues around them.")  # fmt: skip
    return "\n".join(lines + glossary_lines(glossary or []))


def cues_part(cues: list[tuple[int, str]]) -> str:
    """The cues to translate: a JSON array of {index, text}, on one line (JSON escapes every
    line break inside a text)."""
    return json.dumps([{"index": i, "text": t} for i, t in cues], ensure_ascii=False)


def context_part(cues: list[tuple[int, str]]) -> str:
    """Cues around the ones to translate, for meaning only."""
    around = json.dumps([{"index": i, "text": t} for i, t in cues], ensure_ascii=False)
    return f"Context only, do not translate or answer these: {around}"


def read_json(text: str | None):
    """A model's answer as JSON, or None when it is none: not JSON, or nested deeper than
    Python's JSON reader goes (a model repeating "[" thousands of times is no bug of ours)."""
    try:
        return json.loads(text or "")
    except (ValueError, RecursionError):
        return None


def parse_cues(text: str | None, asked: dict[int, str]) -> dict[int, str] | None:
    """The translations an answer can be trusted for, by index; None when it is unreadable.

    Not trusted: an index that was not asked (invented), one that comes more than once
    (repeated: which is right?), an empty text, and a neighbour of a missing cue whose
    translation is far longer than the answer's usual (it likely swallowed the missing one:
    merged). The caller asks again for whatever is not in the result.
    """
    data = read_json(text)
    items = data.get("cues") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    seen: dict[int, list[str]] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        index, said = item.get("index"), item.get("text")
        if isinstance(index, bool) or not isinstance(index, int) or not isinstance(said, str):
            continue
        seen.setdefault(index, []).append(said.strip())
    trusted = {i: texts[0] for i, texts in seen.items()
               if i in asked and len(texts) == 1 and texts[0]}  # fmt: skip
    missing = [i for i in asked if i not in trusted]
    if missing and trusted:
        ratios = sorted(len(t) / max(1, len(asked[i])) for i, t in trusted.items())
        usual = ratios[len(ratios) // 2]
        for i in missing:
            for neighbour in (i - 1, i + 1):
                said = trusted.get(neighbour)
                if said is not None and (len(said) / max(1, len(asked[neighbour]))
                                         > MERGE_RATIO * usual):  # fmt: skip
                    del trusted[neighbour]
    return trusted


Ask = Callable[[list[str], list[tuple[int, str]]], Awaitable[dict[int, str]]]
"""One (retried, billed) request of an engine: the texts to send (instruction, cues, context)
and the cues they ask for -> the translations its answer can be trusted for (parse_cues)."""


def round_texts(todo: list[tuple[int, str]], around: list[tuple[int, str]], language: str,
                glossary: list[dict], again: bool) -> list[str]:  # fmt: skip
    """What one request says: the instruction, the cues to translate, and the context if any."""
    texts = [cues_prompt(language, len(todo), list(glossary), again), cues_part(todo)]
    return texts + [context_part(around)] if around else texts


async def in_rounds(cues: list[tuple[int, str]], context: list[tuple[int, str]],
                    glossary: list[dict], language: str, ask: Ask, max_reasks: int,
                    who: str) -> Translated:  # fmt: skip
    """Translate `cues`, every index answered: what an answer leaves out, repeats, invents or
    seems to have merged is asked again, those cues only, with their neighbours as context
    (`max_reasks` times); then JobFailed `<who>_bad_answer`. Times are never touched: only
    texts come back. Returns the translations and the indexes that had to be asked again."""
    asked, done, again = dict(cues), {}, set()
    for round_no in range(1 + max_reasks):
        todo = [(i, t) for i, t in cues if i not in done]
        if not todo:
            return done, again
        around = context
        if round_no:  # each missing cue's neighbours, translated or not, for meaning
            again.update(i for i, _ in todo)
            near = {j for i, _ in todo for j in (i - 1, i + 1)} - {i for i, _ in todo}
            around = [(j, asked[j]) for j in sorted(near) if j in asked]
        found = await ask(round_texts(todo, around, language, glossary, round_no > 0), todo)
        done.update(found)
        if len(found) < len(todo):
            logging.getLogger(f"subcue.{who}").warning(
                "engine=%s event=cues_missing asked=%d answered=%d round=%d", who, len(todo),
                len(found), round_no + 1)  # fmt: skip
    missing = len(cues) - len(done)
    if missing:
        raise JobFailed(f"{WHO.get(who, who)} left {missing} of {len(cues)} cues untranslated "
                        f"after {max_reasks + 1} answers; retry the job later.",
                        code=f"{who}_bad_answer")  # fmt: skip
    return done, again
