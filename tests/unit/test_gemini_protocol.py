"""jobs/work/engines/gemini_protocol.py: prompts, answer validation, prices, error bodies."""

import json

from google.genai import errors

from jobs.work.engines.gemini_protocol import (
    parse_analysis,
    parse_segments,
    prompt,
    quota_failure,
    retry_delay,
)


def answer(*segments) -> str:
    """A JSON answer with these segments."""
    return json.dumps({"segments": list(segments)})


def test_a_good_answer_is_kept_ordered_and_clamped():
    """Segments sorted, times clamped to the clip, text stripped."""
    text = answer(
        {"start": 4.0, "end": 9.0, "source_text": " b ", "text": " B "},
        {"start": -1.0, "end": 2.0, "source_text": "a", "text": "A"},
    )
    assert parse_segments(text, duration=6.0) == [
        {"start": 0.0, "end": 2.0, "source_text": "a", "text": "A"},
        {"start": 4.0, "end": 6.0, "source_text": "b", "text": "B"},
    ]


def test_overlapping_segments_yield_to_the_earlier_one():
    """A hallucinated overlap: the later segment starts where the earlier ends."""
    text = answer(
        {"start": 0.0, "end": 3.0, "source_text": "", "text": "One"},
        {"start": 2.0, "end": 5.0, "source_text": "", "text": "Two"},
    )
    assert [(s["start"], s["end"]) for s in parse_segments(text, 6.0)] == [(0.0, 3.0), (3.0, 5.0)]


def test_unreadable_answers_are_none_so_they_are_asked_again():
    """Cut-off JSON, a wrong shape, or segments that are all malformed: worth a retry."""
    assert parse_segments('{"segments": [{"start": 0', 5.0) is None
    assert parse_segments('["not", "an", "object"]', 5.0) is None
    assert parse_segments(answer({"start": "zero", "end": 1, "text": "x"}), 5.0) is None
    assert parse_segments(None, 5.0) is None


def test_an_empty_answer_is_empty_not_unreadable():
    """No speech is a legitimate answer."""
    assert parse_segments('{"segments": []}', 5.0) == []


def test_the_prompt_names_the_language_the_clip_length_and_carries_context():
    """The stand-in (and Gemini) read the target language and the previous chunk's text."""
    text = prompt("fa", 12.5, context="earlier words")
    assert "Target language: Persian (fa)." in text and "12.50 seconds" in text
    assert "Previous chunk text: earlier words" in text
    assert "Previous chunk text" not in prompt("fa", 12.5)


def api_error(code: int, body: dict) -> errors.APIError:
    """An error as google-genai raises it for an HTTP answer."""
    return errors.ClientError(code, body)


def test_a_429_says_how_long_to_wait_and_whether_the_quota_is_gone():
    """RetryInfo's delay is read; a per-day quota violation fails the job as quota_exhausted."""
    rpc = "type.googleapis.com/google.rpc."
    busy = api_error(429, {"error": {"code": 429, "message": "busy", "status": "X", "details": [
        {"@type": rpc + "RetryInfo", "retryDelay": "1.5s"}]}})  # fmt: skip
    assert retry_delay(busy) == 1.5 and quota_failure(busy, 1.5, "m") is None
    daily = api_error(
        429,
        {
            "error": {
                "code": 429,
                "message": "quota",
                "status": "X",
                "details": [
                    {
                        "@type": rpc + "QuotaFailure",
                        "violations": [{"quotaId": "RequestsPerDayPerModel"}],
                    }
                ],
            }
        },
    )
    assert quota_failure(daily, retry_delay(daily), "m").code == "quota_exhausted"
    assert quota_failure(busy, 900.0, "m").code == "quota_exhausted"


def test_an_analysis_answer_is_validated():
    """Moments are clamped and sorted; an answer without a summary is unreadable."""
    text = json.dumps({"language": "en", "summary": " Fine. ", "topics": ["a", 3],
                       "moments": [{"time": 99, "description": "late"},
                                   {"time": 1, "description": "early"}]})  # fmt: skip
    found = parse_analysis(text, duration=10.0)
    assert found["summary"] == "Fine." and found["topics"] == ["a"]
    assert [m["time"] for m in found["moments"]] == [1, 10.0]
    assert parse_analysis('{"topics": []}', 10.0) is None


def test_speakers_are_kept_cleaned_and_optional():
    """A segment's speaker is kept, its markup stripped and its length cut; a segment without
    one (or with an empty one) is still valid and carries none."""
    text = answer(
        {"start": 0.0, "end": 1.0, "speaker": "<b>Anna</b>", "source_text": "", "text": "Hi."},
        {"start": 1.0, "end": 2.0, "speaker": "S" + "9" * 80, "source_text": "", "text": "Yo."},
        {"start": 2.0, "end": 3.0, "source_text": "", "text": "Hm."},
        {"start": 3.0, "end": 4.0, "speaker": 7, "source_text": "", "text": "Ok."},
    )
    found = parse_segments(text, 6.0)
    assert [s.get("speaker") for s in found] == ["Anna", "S" + "9" * 39, None, None]


def test_the_prompt_asks_for_speakers_and_names_the_previous_ones():
    """Every chunk is asked who speaks; one after a finished chunk is told its speakers."""
    plain = prompt("de", 30.0)
    assert "speaker:" in plain and "S1, S2" in plain
    told = prompt("de", 30.0, speakers=["Speakers heard in the previous clip: S1, Anna."])
    assert "previous clip: S1, Anna." in told


def test_an_analysis_says_who_speaks_how_long_and_in_which_moment():
    """Speakers cleaned, their time clamped to the recording, their share of all speech; each
    moment's speakers kept; an analysis without speakers is still valid."""
    text = json.dumps({
        "language": "en", "summary": "Two people talk.", "topics": [],
        "moments": [{"time": 3, "description": "Anna asks.", "speakers": ["<i>Anna</i>", "S2"]},
                    {"time": 1, "description": "Quiet."}],
        "speakers": [{"speaker": "S2", "seconds": 10}, {"speaker": "Anna", "seconds": 30},
                     {"speaker": "Anna", "seconds": 5}, {"speaker": "Bob", "seconds": "x"},
                     {"speaker": "Eve", "seconds": 900}],
    })  # fmt: skip
    found = parse_analysis(text, duration=60.0)
    assert found["speakers"] == [
        {"speaker": "Eve", "seconds": 60.0, "share": 0.571},
        {"speaker": "Anna", "seconds": 35.0, "share": 0.333},
        {"speaker": "S2", "seconds": 10.0, "share": 0.095},
    ]
    assert found["moments"] == [{"time": 1, "description": "Quiet."},
                                {"time": 3, "description": "Anna asks.",
                                 "speakers": ["Anna", "S2"]}]  # fmt: skip
    plain = parse_analysis(json.dumps({"summary": "Nobody.", "moments": []}), 60.0)
    assert plain["speakers"] == []
