"""jobs/subtitles/formats/writer.py: an engine's chunk-relative segments placed on the media's
timeline."""

from jobs.subtitles.cues import Cue, Word
from jobs.subtitles.formats.writer import named_lines, place, vtt_text


def test_segments_and_their_words_are_made_absolute_by_the_chunk_offset():
    """A chunk starting at 30 s: its times move by 30 s, words included."""
    raw = [
        {
            "start": 1.0,
            "end": 2.5,
            "text": "Hello.",
            "source_text": "Hallo.",
            "words": [{"start": 1.0, "end": 2.4, "text": " Hello.", "probability": 0.9}],
        }
    ]
    (segment,) = place(raw, offset=30.0, chunk_duration=10.0, media_duration=60.0)
    assert (segment["start"], segment["end"]) == (31.0, 32.5)
    assert segment["text"] == "Hello." and segment["source_text"] == "Hallo."
    assert segment["words"] == [Word(31.0, 32.4, " Hello.", 0.9)]


def test_a_timing_arrow_in_a_cue_is_written_as_a_plain_arrow(tmp_path):
    """WebVTT refuses `-->` in a cue and SRT would read it as a timing line."""
    from jobs.subtitles import styles
    from jobs.subtitles.cues import Cue
    from jobs.subtitles.formats.writer import write_outputs

    shaped = [Cue(1.0, 2.5, ("A --> B",), "a --> b"), Cue(3.0, 4.0, ("Plain",))]
    paths, _ = write_outputs(tmp_path, "x.de", "de", 5.0, shaped, styles.STYLES["netflix"])
    srt_text, vtt_text, json_text = (p.read_text() for p in paths)
    assert srt_text.count("-->") == vtt_text.count("-->") == 2  # the timing lines only
    assert "A -> B" in srt_text and '"a -> b"' in json_text
    assert "A -&gt; B" in vtt_text  # WebVTT cue text escapes its markup characters


def test_times_are_clamped_to_the_chunk_and_the_media():
    """An answer claiming times outside its chunk, or past the media's end, is pulled in."""
    raw = [{"start": -2.0, "end": 14.0, "text": "Too wide."}]
    (segment,) = place(raw, offset=50.0, chunk_duration=10.0, media_duration=55.0)
    assert (segment["start"], segment["end"]) == (50.0, 55.0)


def test_segments_without_text_or_times_are_dropped_and_missing_text_falls_back():
    """Nothing readable, nothing placed; a segment with only source_text shows that."""
    raw = [
        {"start": 0.0, "end": 1.0, "text": "  ", "source_text": ""},
        {"start": "soon", "end": 1.0, "text": "Bad time."},
        {"end": 1.0, "text": "No start."},
        {"start": 0.0, "end": 1.0, "text": "", "source_text": "Only spoken."},
    ]
    placed = place(raw, offset=0.0, chunk_duration=5.0, media_duration=5.0)
    assert [s["text"] for s in placed] == ["Only spoken."]


def test_malformed_words_are_skipped_but_the_segment_kept():
    """A word without a time is dropped; its segment stays."""
    raw = [
        {
            "start": 0.0,
            "end": 1.0,
            "text": "Hi there.",
            "words": [{"start": 0.0, "end": 0.4, "text": " Hi"}, {"text": " there."}],
        }
    ]
    (segment,) = place(raw, offset=0.0, chunk_duration=5.0, media_duration=5.0)
    assert [w.text for w in segment["words"]] == [" Hi"]


def test_webvtt_text_has_a_voice_span_per_speaker_and_escapes_markup():
    """Each speaker's lines in a `<v>` span; an `<` or `&` in a cue is text, not markup."""
    dual = Cue(0.0, 1.0, ("- Ready & set?", "- <Yes>"), speakers=("Anna", "S1"))
    assert vtt_text(dual) == "<v Anna>- Ready &amp; set?</v>\n<v S1>- &lt;Yes&gt;</v>"
    one = Cue(0.0, 1.0, ("Where were", "you?"), speakers=("Anna",))
    assert vtt_text(one) == "<v Anna>Where were\nyou?</v>"
    assert vtt_text(Cue(0.0, 1.0, ("a < b",))) == "a &lt; b"


def test_speaker_names_go_where_each_speaker_starts():
    """speaker_names: "ANNA: " before a speaker's first line, after the dual-speaker dash."""
    dual = Cue(0.0, 1.0, ("- Ready?", "- Yes."), speakers=("Anna", "S1"))
    assert named_lines(dual) == ("- ANNA: Ready?", "- S1: Yes.")
    one = Cue(0.0, 1.0, ("Where were", "you?"), speakers=("Anna",))
    assert named_lines(one) == ("ANNA: Where were", "you?")
    assert named_lines(Cue(0.0, 1.0, ("Nobody known.",))) == ("Nobody known.",)


def test_pysubs2_cannot_write_what_a_cue_may_hold_so_srt_and_webvtt_write_it(tmp_path):
    """A cue with `{braces}`, a literal `\\N` and `a < b & c`: pysubs2's SRT loses the braces
    and breaks the line at `\\N`, and its WebVTT leaves `<` and `&` bare; the writer keeps the
    SRT text as it is and escapes the WebVTT's (why requirements.txt keeps srt and webvtt-py)."""
    import pysubs2

    from jobs.subtitles import styles
    from jobs.subtitles.formats.writer import write_outputs

    text = "{braces} \\N a < b & c"
    document = pysubs2.SSAFile()
    event = pysubs2.SSAEvent(start=0, end=2000)
    event.plaintext = text
    document.events.append(event)
    assert text not in document.to_string("srt")
    assert "a < b & c" in document.to_string("vtt")
    cue = Cue(0.0, 2.0, (text,), text)
    paths, _ = write_outputs(tmp_path, "x", "en", 2.0, [cue], styles.STYLES["netflix"])
    srt_text, vtt_text_ = (p.read_text() for p in paths[:2])
    assert text in srt_text
    assert "{braces} \\N a &lt; b &amp; c" in vtt_text_


def test_the_json_keeps_the_speech_regions_in_order_to_the_millisecond(tmp_path):
    """Speech detected (regions, in any order): `speech` as [start, end] pairs; none detected
    (SPEECH_TIMING off, a subtitle file): no `speech` at all."""
    import json

    from jobs.media.speech import Region
    from jobs.subtitles import styles
    from jobs.subtitles.formats.writer import write_outputs

    shaped, style = [Cue(1.0, 2.5, ("Hello.",))], styles.STYLES["netflix"]
    found = [Region(3.25, 4.0), Region(0.9, 2.6)]
    *_, heard = write_outputs(tmp_path, "a", "en", 5.0, shaped, style, speech=found)[0]
    assert json.loads(heard.read_text())["speech"] == [[0.9, 2.6], [3.25, 4.0]]
    *_, plain = write_outputs(tmp_path, "b", "en", 5.0, shaped, style)[0]
    assert "speech" not in json.loads(plain.read_text())
