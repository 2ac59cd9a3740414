"""Reading a text translation answer (cue_text.parse_cues): what is trusted and what is
asked again; how cues are batched; what a glossary may hold."""

from __future__ import annotations

import json

import pytest

from jobs.errors import BadRequest
from jobs.life.session import checked_glossary, glossary_lines
from jobs.work.engines.cue_text import batches, cues_part, parse_cues

ASKED = {1: "Hello there.", 2: "How are you?", 3: "Fine, thanks.", 4: "Good."}


def answer(*pairs) -> str:
    return json.dumps({"cues": [{"index": i, "text": t} for i, t in pairs]})


def test_a_complete_answer_is_trusted():
    found = parse_cues(answer(*((i, f"<{t}>") for i, t in ASKED.items())), ASKED)
    assert found == {i: f"<{t}>" for i, t in ASKED.items()}


def test_forgotten_repeated_invented_and_empty_cues_are_not_trusted():
    found = parse_cues(answer((1, "Hallo."), (2, "Wie?"), (2, "Wie geht's?"), (3, " "),
                              (9, "Erfunden.")), ASKED)  # fmt: skip
    assert found == {1: "Hallo."}  # 2 repeated, 3 empty, 4 forgotten, 9 never asked


def test_a_neighbour_that_swallowed_a_missing_cue_is_asked_again():
    merged = answer((1, "Hallo."), (2, "Wie geht es dir? Gut, danke, wirklich gut."),
                    (4, "Gut."))  # fmt: skip
    assert parse_cues(merged, ASKED) == {1: "Hallo.", 4: "Gut."}
    plain = answer((1, "Hallo."), (2, "Wie geht's?"), (4, "Gut."))
    assert parse_cues(plain, ASKED) == {1: "Hallo.", 2: "Wie geht's?", 4: "Gut."}


def test_an_unreadable_answer_is_none():
    for text in ("", "{", '{"segments": []}', "[1, 2]", None):
        assert parse_cues(text, ASKED) is None


def test_batches_keep_order_and_bounds():
    cues = [(i, "x" * 100) for i in range(25)]
    found = batches(cues, max_chars=1000, max_cues=8)
    assert [len(b) for b in found] == [8, 8, 8, 1]
    assert [len(b) for b in batches(cues, max_chars=450, max_cues=8)] == [4, 4, 4, 4, 4, 4, 1]
    assert [c for b in found for c in b] == cues
    assert all(sum(len(t) for _, t in b) <= 1000 for b in found)
    assert batches([(0, "y" * 5000)], max_chars=100) == [[(0, "y" * 5000)]]


def test_the_cues_part_is_a_json_array_of_index_and_text():
    assert json.loads(cues_part([(3, "a\nb")])) == [{"index": 3, "text": "a\nb"}]


def test_a_glossary_is_checked_and_sent_as_lines():
    entries = checked_glossary({"glossary": [{"term": " Subcue ", "translation": "Subcue"},
                                             {"term": "grant", "note": "money"}]})  # fmt: skip
    assert entries == [{"term": "Subcue", "translation": "Subcue", "note": ""},
                       {"term": "grant", "translation": "", "note": "money"}]  # fmt: skip
    assert glossary_lines(entries)[1:] == ["- Subcue → Subcue", "- grant → grant (money)"]
    for bad in ([{"term": ""}], [{"term": "a"}, {"term": "A"}], [{"term": "x" * 101}],
                [{"term": "a", "colour": "red"}], "terms", [{"term": 3}],
                [{"term": str(n)} for n in range(201)]):  # fmt: skip
        with pytest.raises(BadRequest) as caught:
            checked_glossary(bad)
        assert caught.value.code == "bad_glossary"
