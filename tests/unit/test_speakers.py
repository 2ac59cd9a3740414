"""jobs/subtitles/speakers.py: speaker names cleaned, and made consistent across a file's chunks."""

from __future__ import annotations

from jobs.subtitles.speakers import (
    MAX_NAME_CHARS,
    ChunkSpeakers,
    clean_name,
    problem,
    prompt_lines,
    reconcile,
    relabelled,
    speaking_time,
)


def chunk(*speakers: str, duration: float = 10.0, given: tuple[str, ...] = ()) -> ChunkSpeakers:
    """A chunk whose segments share its time equally, spoken by `speakers` in turn."""
    step = duration / len(speakers)
    segments = tuple((k * step, (k + 1) * step, s) for k, s in enumerate(speakers))
    return ChunkSpeakers(segments, duration, given)


def test_names_from_an_engine_lose_tags_control_characters_and_excess_length():
    """What a model writes into a name is shown to people: it is cleaned, never trusted."""
    assert clean_name("<b>Anna</b>") == "Anna"
    assert clean_name("{\\an8}Marco\n") == "Marco"
    assert clean_name("  Dr.   Who\t") == "Dr. Who"
    assert clean_name("s2") == "S2"
    assert clean_name("x" * 100) == "x" * MAX_NAME_CHARS
    assert clean_name("<script>") == "" and clean_name(None) == "" and clean_name(3) == ""


def test_a_person_may_not_save_a_name_with_markup_or_over_the_limit():
    """The editor's checks: plain names pass, the rest is refused with a reason."""
    assert problem("Anna") is None and problem("S2") is None
    assert problem("a" * (MAX_NAME_CHARS + 1))
    assert problem("<i>Anna</i>") and problem("{\\b1}Anna") and problem("An\nna")
    assert problem(5)


def test_chunks_told_the_previous_speakers_keep_their_labels():
    """Rule 2: the prompt listed S1 and S2, so the chunk's S1 and S2 are the same people."""
    maps = reconcile([chunk("S1", "S2"), chunk("S2", "S1", given=("S1", "S2"))])
    assert maps == [{"S1": "S1", "S2": "S2"}, {"S2": "S2", "S1": "S1"}]


def test_a_chunk_heard_alone_is_matched_by_the_speech_across_its_border():
    """Rules 3 and 4: a chunk that ran at the same time as the one before numbered its
    speakers from its own start; its first speaker carries on the previous chunk's last, its
    other one is the previous chunk's other speaker."""
    maps = reconcile([chunk("S1", "S2", "S1", "S2"), chunk("S1", "S2", "S1")])
    assert maps[1] == {"S1": "S2", "S2": "S1"}


def test_other_labels_in_a_chunk_are_mapped_onto_the_files_speakers():
    """A chunk calling the two speakers "A" and "B" says nothing new: they are S1 and S2."""
    maps = reconcile([chunk("S1", "S2"), chunk("B", "A"), chunk("A", "B", given=("B", "A"))])
    assert maps[1] == {"B": "S2", "A": "S1"}
    assert maps[2] == {"A": "S1", "B": "S2"}  # chunk 2's B and A, as the prompt said
    # Told B and A, a chunk answers S1 and S2 instead: the same two people, renamed.
    maps = reconcile([chunk("S1", "S2"), chunk("B", "A"), chunk("S1", "S2", given=("B", "A"))])
    assert maps[2] == {"S1": "S1", "S2": "S2"}  # chunk 2 ended with A, which is S1


def test_a_name_renames_the_speaker_everywhere_and_is_matched_later():
    """Rules 1 and the renaming: the third chunk hears "Anna" where the others said S1; every
    chunk then says Anna, and a later chunk's Anna is the same person."""
    maps = reconcile([
        chunk("S1", "S2"),
        chunk("S2", "S1", given=("S1", "S2")),
        chunk("Anna", "S2", given=("S2", "S1")),
        chunk("S9", "Anna"),
    ])  # fmt: skip
    # Chunk 2 ended with S1: Anna carries on, so S1 was Anna all along; the one left unnamed
    # is the file's first (and only) generic speaker, S1.
    assert maps[0] == {"S1": "Anna", "S2": "S1"}
    assert maps[2] == {"Anna": "Anna", "S2": "S1"}
    assert maps[3]["Anna"] == "Anna"
    # Told S1 and S2, a chunk answers S2 and "Marco": Marco is the S1 it no longer names.
    maps = reconcile([chunk("S1", "S2", "S1"), chunk("S2", "Marco", given=("S1", "S2"))])
    assert maps[0] == {"S1": "Marco", "S2": "S1"} and maps[1] == {"S2": "S1", "Marco": "Marco"}


def test_a_new_voice_is_a_new_speaker_numbered_in_order_of_appearance():
    """Rule 5: a label the chunk was not told about, with the known speakers also present,
    is someone new; labels read S1, S2, S3 from the file's start."""
    maps = reconcile([chunk("S1"), chunk("S1", "S2", given=("S1",))])
    assert maps[1] == {"S1": "S1", "S2": "S2"}
    maps = reconcile([chunk("S4", "S7"), chunk("S7", "S4", "S9", given=("S4", "S7"))])
    assert maps[0] == {"S4": "S1", "S7": "S2"}
    assert maps[1] == {"S7": "S2", "S4": "S1", "S9": "S3"}


def test_answers_without_speakers_stay_without_speakers():
    """An engine that gives no speakers gets none invented."""
    assert reconcile([chunk(""), chunk("")]) == [{}, {}]
    segments = [{"start": 0, "end": 1, "text": "Hi."}]
    assert relabelled(segments, {}) == segments
    assert prompt_lines(segments) == ([], ())


def test_the_prompt_names_the_previous_speakers_and_who_spoke_last():
    """What a chunk is told: the previous chunk's labels, and the last one to speak."""
    lines, given = prompt_lines([{"speaker": "S1"}, {"speaker": "Anna"}, {"speaker": "S1"}])
    assert given == ("S1", "Anna")
    assert "S1, Anna" in lines[0] and "ended with S1" in lines[0]


def test_speaking_time_and_share_per_speaker():
    """Seconds each speaker talks, and their share of all labelled speech."""
    found = speaking_time([
        {"start": 0, "end": 3, "speaker": "Anna"}, {"start": 3, "end": 4, "speaker": "S2"},
        {"start": 4, "end": 5}, {"start": 5, "end": 6, "speaker": "Anna"},
    ])  # fmt: skip
    assert found == [{"speaker": "Anna", "seconds": 4.0, "share": 0.8},
                     {"speaker": "S2", "seconds": 1.0, "share": 0.2}]  # fmt: skip
