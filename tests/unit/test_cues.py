"""jobs/subtitles/cues.py: timed words and segments become cues a viewer can read."""

from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest

from jobs.subtitles.cues import Cue, Word
from jobs.subtitles.quality_report import check, summary
from jobs.subtitles.shaping import LATE_S, shape_segments, shape_words, wrap
from jobs.subtitles.styles import RULES, STYLES, line_width, reading_speed

NETFLIX, BBC, VERTICAL = STYLES["netflix"], STYLES["bbc"], STYLES["vertical"]
ARTICLES = {"a", "an", "the"}


def timed(text: str, start: float = 0.0, pace: float = 0.06, gap: float = 0.05) -> list[Word]:
    """Words spoken one after another, as Whisper times them (leading spaces), with a pause
    after sentence and clause ends."""
    words, t = [], start
    for word in text.split():
        duration = 0.1 + pace * len(word)
        words.append(Word(round(t, 3), round(t + duration, 3), " " + word, 0.9))
        t += duration + gap + (0.35 if word[-1] in ".,;:!?" else 0.0)
    return words


def plain(text: str) -> list[str]:
    """The words of a text, without punctuation, lower-cased."""
    return re.findall(r"[\w']+", text.lower())


def all_text(cues: list[Cue]) -> str:
    """Every cue's text, in order, as one string."""
    return " ".join(c.text.replace("\n", " ") for c in cues)


def assert_ordered_and_apart(cues: list[Cue], gap: float = NETFLIX.min_gap) -> None:
    """Cues in order, none overlapping, each at least `gap` before the next."""
    for before, after in zip(cues, cues[1:], strict=False):
        assert before.start < before.end <= after.start - gap + 0.0015, (before, after)


SIXTY_WORDS = (
    "When the old fishing boat finally came back into the quiet harbour after three long days "
    "at sea the whole village gathered on the wooden pier to welcome the tired crew and to help "
    "them carry the heavy nets full of silver fish up the narrow stone steps towards the market "
    "where the traders were already waiting with their carts"
)


def test_a_sixty_word_sentence_becomes_readable_cues_that_never_end_on_an_article():
    """One long sentence without a comma: lines within 42, two lines at most, 7 s at most,
    within reading speed, no cue or line ends on "the"/"a", and every word kept in order."""
    words = timed(SIXTY_WORDS)
    assert len(words) == 60
    cues = shape_words(words, NETFLIX, "en", words[-1].end + 2)
    report = check(cues, NETFLIX, "en", words[-1].end + 2)
    assert report["within_rules"] == len(cues), report
    assert plain(all_text(cues)) == plain(SIXTY_WORDS)
    for cue in cues:
        assert len(cue.lines) <= 2
        for line in cue.lines:
            assert len(line) <= 42 and line.split()[-1].lower() not in ARTICLES, cue.lines


def test_a_thirty_second_segment_of_three_words_is_one_short_cue_at_its_start():
    """Three words over 30 s: their real times are unknown, so one cue at the segment's start,
    shown long enough to read, not one 7 s cue per word and not 30 s."""
    cues = shape_segments(
        [{"start": 12.0, "end": 42.0, "text": "Thank you all.", "source_text": "Merci à tous."}],
        NETFLIX,
        "en",
        60.0,
    )
    assert len(cues) == 1
    (cue,) = cues
    assert cue.start == 12.0 and cue.text == "Thank you all." and cue.source_text == "Merci à tous."
    assert NETFLIX.min_duration <= cue.end - cue.start <= 2.0


def test_one_sixty_character_word_is_one_cue_on_one_line_and_reported_as_too_wide():
    """A word no line can hold is never split; the report says which rule it breaks."""
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis-and-then-some!"
    assert len(word) == 60
    cues = shape_words([Word(1.0, 4.0, " " + word)], NETFLIX, "en", 10.0)
    assert [c.lines for c in cues] == [(word,)]
    report = check(cues, NETFLIX, "en", 10.0)
    assert report["breaks"]["line_length"] == 1 and report["within_rules"] == 0
    assert sum(report["breaks"].values()) == 1
    assert summary(report, NETFLIX) == "1 cue: 1 with a line too long"


JAPANESE = (
    "港は夜明け前で静かだった。小さな漁船が木の桟橋にそっと揺れ、水がその船腹を優しく打っていた。"
    "マリアはこの海岸で二十年働いてきたが、今でも早朝の静けさが大好きだった。"
)


def test_japanese_lines_hold_thirteen_characters_and_break_after_punctuation():
    """Japanese: 13 characters a line (Netflix), breaks after 。 and 、 where possible, no
    line starts with 、 or 。, and no character is lost."""
    assert line_width(NETFLIX, "ja") == 13
    segment = {"start": 0.0, "end": 40.0, "text": JAPANESE, "source_text": ""}
    cues = shape_segments([segment], NETFLIX, "ja", 45.0)
    assert "".join("".join(c.lines) for c in cues) == JAPANESE
    for cue in cues:
        assert len(cue.lines) <= 2
        for line in cue.lines:
            assert len(line) <= 13 and line[0] not in "、。", cue.lines
    ends = [c.lines[-1][-1] for c in cues]
    assert sum(1 for e in ends if e in "。、") >= len(cues) - 1, [c.lines for c in cues]
    lines = [line for c in cues for line in c.lines]
    assert all(line.endswith("。") for line in lines if "。" in line), lines


PERSIAN = (
    "بندر پیش از سپیده دم آرام بود. یک قایق کوچک ماهیگیری به آرامی کنار اسکله چوبی تکان می خورد، "
    "و آب به آرامی به پهلوهایش می خورد. ماریا بیست سال در این ساحل کار کرده بود و هنوز سکوت صبح "
    "زود را دوست داشت."
)


def test_persian_counts_like_latin_and_keeps_every_word_in_its_order():
    """Persian: 42 characters a line, right-to-left text untouched (no reordering), no word
    lost, and cues end after its full stops or commas (، or .)."""
    segment = {"start": 0.0, "end": 16.0, "text": PERSIAN, "source_text": ""}
    cues = shape_segments([segment], NETFLIX, "fa", 20.0)
    assert all_text(cues).split() == PERSIAN.split()
    assert all(len(line) <= 42 for c in cues for line in c.lines)
    assert all(c.text[-1] in ".،," for c in cues[:-1]), [c.lines for c in cues]
    assert check(cues, NETFLIX, "fa", 20.0)["within_rules"] == len(cues)


def test_overlapping_and_out_of_order_input_gives_ordered_cues_that_never_overlap():
    """Words and segments out of order and overlapping: cues come out ordered, apart by two
    frames at least, and nothing is lost."""
    words = timed("First we go. Then we stop, and we wait for the others.")
    shuffled = [Word(w.start, w.end + 0.4, w.text) for w in reversed(words)]
    cues = shape_words(shuffled, NETFLIX, "en", 20.0)
    assert_ordered_and_apart(cues)
    assert plain(all_text(cues)) == plain("First we go. Then we stop, and we wait for the others.")

    segments = [
        {"start": 6.0, "end": 9.0, "text": "Third one.", "source_text": "C."},
        {"start": 0.0, "end": 4.5, "text": "First one.", "source_text": "A."},
        {"start": 3.0, "end": 7.0, "text": "Second one.", "source_text": "B."},
    ]
    cues = shape_segments(segments, NETFLIX, "en", 12.0)
    assert [c.text for c in cues] == ["First one.", "Second one.", "Third one."]
    assert [c.source_text for c in cues] == ["A.", "B.", "C."]
    assert_ordered_and_apart(cues)


def test_empty_input_gives_no_cues_and_an_honest_report():
    """Nothing in, nothing out, in both paths."""
    assert shape_words([], NETFLIX, "en", 10.0) == []
    assert shape_segments([], NETFLIX, "en", 10.0) == []
    assert shape_words([Word(1.0, 2.0, "   ")], NETFLIX, "en", 10.0) == []
    report = check([], NETFLIX, "en", 10.0)
    assert report == {"style": "netflix", "cues": 0, "within_rules": 0,
                      "breaks": dict.fromkeys(RULES, 0)}  # fmt: skip
    assert summary(report, NETFLIX) == "No cues"


def test_cues_at_the_media_end_never_pass_it():
    """The last cue ends by the media's end even when it would need longer; a word that starts
    after the end is dropped."""
    words = [Word(8.9, 9.6, " Goodbye"), Word(9.65, 9.95, " everyone."), Word(10.5, 11, " x")]
    cues = shape_words(words, NETFLIX, "en", 10.0)
    assert cues[-1].end <= 10.0 and "x" not in all_text(cues).split()
    segments = [{"start": 9.5, "end": 12.0, "text": "Late words.", "source_text": ""}]
    cues = shape_segments(segments, NETFLIX, "en", 10.0)
    assert cues and all(c.end <= 10.0 for c in cues)
    assert check(cues, NETFLIX, "en", 10.0)["breaks"]["media_end"] == 0


def test_a_sentence_split_across_two_chunks_is_one_cue_again():
    """ "…rocked gently against the" | "wooden pier at dawn." from two chunks: as words and as
    two segments, no cue ends on "the"."""
    first = timed("The boat rocked gently against the")
    second = timed("wooden pier at dawn.", start=first[-1].end + 0.15)
    cues = shape_words(first + second, NETFLIX, "en", 10.0)
    assert [c.text.replace("\n", " ") for c in cues] == [
        "The boat rocked gently against the wooden pier at dawn."
    ]
    segments = [
        {"start": 0.0, "end": 3.0, "text": "The boat rocked gently against the",
         "source_text": "Le bateau se balançait contre le"},
        {"start": 3.2, "end": 5.0, "text": "wooden pier at dawn.",
         "source_text": "ponton de bois à l'aube."},
    ]  # fmt: skip
    cues = shape_segments(segments, NETFLIX, "en", 10.0)
    assert all(plain(c.text)[-1] not in ARTICLES for c in cues)
    assert " ".join(c.source_text for c in cues) == (
        "Le bateau se balançait contre le ponton de bois à l'aube."
    )


def test_two_lines_are_balanced_and_never_break_after_an_article():
    """A 70-character sentence: two lines of similar length, neither ending on an article."""
    text = "Please remember to water all the plants in the garden every morning."
    assert 60 < len(text) < 84
    lines = wrap(text, NETFLIX, "en")
    assert len(lines) == 2, lines
    top, bottom = map(len, lines)
    assert abs(top - bottom) <= 0.3 * max(top, bottom), lines
    assert all(line.split()[-1].lower() not in ARTICLES for line in lines)
    assert wrap("Short and sweet.", NETFLIX, "en") == ("Short and sweet.",)


def test_a_short_cue_is_held_into_the_silence_and_close_cues_keep_two_frames():
    """ "Yes." spoken in 0.3 s, then silence: shown for at least 5/6 s. Two sentences spoken
    back to back: the first ends two frames before the second starts."""
    cues = shape_words([Word(1.0, 1.3, " Yes.")], NETFLIX, "en", 10.0)
    assert cues[0].end - cues[0].start >= NETFLIX.min_duration
    words = timed("We are ready now. And so are they, at last.", gap=0.0)
    cues = shape_words(words, NETFLIX, "en", 10.0)
    assert len(cues) >= 1
    long_text = timed(
        "The first sentence here is long enough that it must stand alone in a cue. "
        "The second one comes right after it without any pause between the two of them."
    )
    cues = shape_words(long_text, NETFLIX, "en", 30.0)
    assert len(cues) >= 2
    assert_ordered_and_apart(cues)
    assert check(cues, NETFLIX, "en", 30.0)["within_rules"] == len(cues)


def test_a_number_is_never_split_across_lines_or_cues():
    """ "12 345" stays together, and so does "5 km"."""
    text = "Over the whole year we sold exactly 12 345 copies of the book, and we walked 5 km."
    for width in (30, 33, 36, 40):
        lines = wrap(text, replace(NETFLIX, max_chars=width), "en")
        joined = "\n".join(lines)
        assert "12\n345" not in joined and "5\nkm" not in joined, lines
    words = timed(text)
    cues = shape_words(words, VERTICAL, "en", 30.0)
    assert all(not c.text.endswith(("12", "5")) for c in cues), [c.lines for c in cues]


def test_presets_set_line_width_and_cue_length():
    """bbc: 37 characters; vertical: 32 characters and 5 s; per-script widths scale."""
    words = timed(SIXTY_WORDS + " " + SIXTY_WORDS)
    for style, width in ((BBC, 37), (VERTICAL, 32)):
        cues = shape_words(words, style, "en", words[-1].end + 2)
        assert all(len(line) <= width for c in cues for line in c.lines)
        assert all(c.end - c.start <= style.max_duration + 0.001 for c in cues)
        assert check(cues, style, "en", words[-1].end + 2)["breaks"]["line_length"] == 0
    assert line_width(BBC, "ja") == 11 and line_width(VERTICAL, "zh") == 12
    assert line_width(NETFLIX, "fa") == 42 and line_width(NETFLIX, "ko") == 16
    assert reading_speed(NETFLIX, "ja") == 4.0 and reading_speed(BBC, "en") == 15.0


@pytest.mark.parametrize(
    ("cues", "rule"),
    [
        ([Cue(0.0, 3.0, ("x" * 43,))], "line_length"),
        ([Cue(0.0, 3.0, ("one", "two", "three"))], "lines"),
        ([Cue(0.0, 0.5, ("Hi.",))], "min_duration"),
        ([Cue(0.0, 7.5, ("A long time on screen.",))], "max_duration"),
        ([Cue(0.0, 1.0, ("This is far too much text to read", "in one second flat."))],
         "reading_speed"),
        ([Cue(0.0, 2.0, ("One.",)), Cue(2.05, 4.0, ("Two.",))], "gap"),
        ([Cue(0.0, 2.5, ("One.",)), Cue(2.0, 4.0, ("Two.",))], "overlap"),
        ([Cue(9.0, 10.5, ("Late.",))], "media_end"),
    ],
)  # fmt: skip
def test_check_counts_each_broken_rule(cues, rule):
    """Each hand-made bad cue breaks exactly the rule it was made to break."""
    report = check(cues, NETFLIX, "en", 10.0)
    assert report["breaks"][rule] == 1
    assert sum(report["breaks"].values()) == 1, report
    assert report["within_rules"] == len(cues) - 1


def test_ninety_seconds_of_english_speech_stay_within_netflix_rules():
    """A spoken story at about 150 words a minute: at least 95 % of cues within every rule."""
    story = (
        "The harbour was quiet before dawn. A small fishing boat rocked gently against the "
        "wooden pier, and the water slapped softly at its sides. Maria had worked on this coast "
        "for twenty years, and she still loved the silence of the early morning. Her father had "
        "built the boat in 1987, with money he had saved for almost a decade. Every plank had "
        "been cut and fitted by hand. She checked the nets, the ropes and the engine, one after "
        "another, the way he had taught her. The radio said the wind would rise after ten "
        "o'clock, so there was no time to waste. At half past five, her brother Tomas arrived "
        "with two cups of coffee and a bag of bread. They did not talk much. They had done this "
        "together so many times that words were hardly needed. When the sun finally climbed "
        "over the hills, the boat was already far from the shore. The sea was calm, the sky was "
        "clear, and the first catch of the day was better than they had hoped."
    )
    words = timed(story, pace=0.045, gap=0.04)
    assert 60 < words[-1].end < 100
    cues = shape_words(words, NETFLIX, "en", words[-1].end + 1)
    report = check(cues, NETFLIX, "en", words[-1].end + 1)
    assert report["within_rules"] >= 0.95 * len(cues), report
    assert summary(report, NETFLIX) == f"{len(cues)} cues, all within Netflix rules"
    assert plain(all_text(cues)) == plain(story)
    assert all(c.words and c.start == c.words[0].start for c in cues)


def test_a_lone_full_stop_timed_as_a_word_joins_the_word_before_it():
    """Whisper sometimes times "." as a word of its own: it ends the sentence, not a cue."""
    words = [Word(0.0, 0.4, " It"), Word(0.45, 0.9, " ended"), Word(0.9, 1.0, "."),
             Word(1.0, 1.1, " ."), Word(2.0, 2.5, " Next.")]  # fmt: skip
    cues = shape_words(words, NETFLIX, "en", 5.0)
    assert all_text(cues) == "It ended. Next."


def test_separate_segments_stay_separate_cues_so_none_shows_before_it_is_spoken():
    """Two short sentences from two segments fit one cue, but each keeps its own time."""
    segments = [
        {"start": 2.5, "end": 5.1, "text": "Segment two of chunk one.", "source_text": ""},
        {"start": 5.1, "end": 7.8, "text": "Segment one of chunk two.", "source_text": ""},
    ]
    cues = shape_segments(segments, NETFLIX, "en", 10.0)
    assert [c.text for c in cues] == [s["text"] for s in segments]
    assert cues[1].start == 5.1 and cues[0].end <= 5.1 - NETFLIX.min_gap + 0.001


PASSAGE = (
    "The harbour was quiet when we arrived, and the fishermen were already mending their nets "
    "on the stones. Nobody spoke to us at first. An old woman in a blue coat pointed at the "
    "boats, then at the sky, and shook her head. We understood that the weather was turning, "
    "so we carried our bags up the hill to the only inn in the village. The owner, Mr. Evans, "
    "had kept the place for forty years. He told us that in 1987 a storm had taken half of the "
    "pier, and that the town had rebuilt it with timber from the old church. By the evening "
    "the wind had risen, the windows rattled, and the rain came in long grey sheets across the "
    "bay. We sat by the fire and listened to stories about smugglers, shipwrecks and a "
    "lighthouse keeper who had vanished one winter without a trace. Some of it was probably "
    "true. In the morning the sea was calm again, the sky was clear, and the boats went out as "
    "if nothing had happened. We walked along the cliffs for hours, stopping only to watch the "
    "gulls and to eat the sandwiches the owner had made for us. It was, my sister said later, "
    "the best holiday we ever had, even though it rained for most of it."
)


def shown_words(cues: list[Cue]) -> list[str]:
    """Every word the viewer sees, in order."""
    return [word for cue in cues for line in cue.lines for word in line.split()]


def assert_within(cues: list[Cue], style, language: str, media_end: float) -> None:
    """check() finds nothing wrong with these cues."""
    report = check(cues, style, language, media_end)
    assert report["within_rules"] == report["cues"], (report, [c.lines for c in cues])


def test_long_segment_shares_its_source_text_without_losing_a_word():
    """A segment split into several cues gives each a part of the spoken text, none twice."""
    source = PASSAGE.replace(".", "").lower()
    segment = {"start": 0.0, "end": 90.0, "text": PASSAGE, "source_text": source}
    cues = shape_segments([segment], NETFLIX, "en", 95.0)
    assert len(cues) > 10
    assert shown_words(cues) == PASSAGE.split()
    assert " ".join(c.source_text for c in cues).split() == source.split()
    assert sum(1 for c in cues if c.source_text) >= len(cues) - 1
    assert_within(cues, NETFLIX, "en", 95.0)


@pytest.mark.parametrize("seed", range(20))
def test_messy_input_never_loses_a_word_nor_breaks_timing(seed):
    """Random overlaps, bursts, long words and gaps: every word once, timing rules kept."""
    rng = random.Random(seed)
    vocabulary = (PASSAGE + " 12 345 $ 5 % Mr. U.S. — " + "y" * 50).split()
    style = rng.choice(list(STYLES.values()))
    words, at = [], rng.uniform(0, 2)
    for _ in range(rng.randint(1, 80)):
        length = rng.choice([0.0, 0.05, 0.3, 0.3, 0.3, 2.0, 9.0])
        words.append(Word(at, at + length, " " + rng.choice(vocabulary)))
        at = max(0.0, at + rng.choice([-0.3, 0.0, 0.1, 0.35, 0.35, 0.35, 1.5, 4.0]))
    media_end = at * rng.uniform(0.6, 1.1) + 0.2
    segments = [
        {"start": s, "end": s + rng.choice([0.0, 0.5, 3.0, 8.0, 30.0]), "source_text": "x y z",
         "text": " ".join(rng.choices(vocabulary, k=rng.randint(1, 40)))}
        for s in sorted(rng.uniform(0, 60) for _ in range(rng.randint(1, 10)))
    ]  # fmt: skip
    kept = [w for w in sorted(words, key=lambda w: (w.start, w.end)) if w.start < media_end - 0.05]
    spoken_words = [w.text.strip() for w in kept]
    written_words = " ".join(s["text"] for s in segments).split()
    for cues, expected, end in (
        (shape_words(words, style, "en", media_end), spoken_words, media_end),
        (shape_segments(segments, style, "en", 70.0), written_words, 70.0),
    ):
        assert shown_words(cues) == expected
        breaks = check(cues, style, "en", end)["breaks"]
        assert breaks["overlap"] == breaks["gap"] == breaks["media_end"] == 0
        assert breaks["max_duration"] == 0 and all(c.end > c.start for c in cues)


# --- speakers -------------------------------------------------------------------------------


def said(*turns: tuple[str, str, float, float]) -> list[dict]:
    """Segments (speaker, text, start, end), as Gemini answers them."""
    return [{"start": a, "end": b, "text": t, "source_text": t, "speaker": who}
            for who, t, a, b in turns]  # fmt: skip


def test_a_short_exchange_is_one_cue_with_a_dash_on_each_line():
    """Netflix: two people in one cue, a line each, each starting with a hyphen."""
    (cue,) = shape_segments(said(("Anna", "Ready?", 1.0, 1.5), ("Marco", "Yes, go.", 1.6, 2.2)),
                            NETFLIX, "en", 10.0)  # fmt: skip
    assert cue.lines == ("- Ready?", "- Yes, go.")
    assert cue.speakers == ("Anna", "Marco") and cue.line_speakers() == ("Anna", "Marco")


def test_one_speaker_gets_no_dash_and_longer_turns_get_their_own_cues():
    """A change of speaker ends a cue when the turns are long; one person's cue has no dash."""
    found = shape_segments(said(
        ("Anna", "I have been waiting for you at the station for an hour.", 0.0, 3.5),
        ("Marco", "The train was late and my phone was dead, I am sorry.", 3.6, 7.0),
    ), NETFLIX, "en", 20.0)  # fmt: skip
    assert [c.speakers for c in found] == [("Anna",), ("Marco",)]
    assert not any(line.startswith("-") for c in found for line in c.lines)


def test_bbc_shares_a_cue_only_for_very_short_lines_and_vertical_never():
    """BBC: a new speaker starts a new cue unless the lines are very short; vertical video
    gives each speaker their own cue."""
    short = said(("Anna", "Ready?", 1.0, 1.5), ("Marco", "Yes.", 1.6, 2.0))
    assert [c.lines for c in shape_segments(short, BBC, "en", 10.0)] == [("- Ready?", "- Yes.")]
    assert [c.speakers for c in shape_segments(short, VERTICAL, "en", 10.0)] == [
        ("Anna",), ("Marco",)]  # fmt: skip
    longer = said(("Anna", "Are you coming tonight?", 1.0, 2.0),
                  ("Marco", "I will be there at nine.", 2.1, 3.0))  # fmt: skip
    assert all(len(c.speakers) == 1 for c in shape_segments(longer, BBC, "en", 10.0))


def test_no_line_ever_holds_two_speakers():
    """A long dialogue of random turns: every line is one speaker's words, no cue holds more
    than two speakers, and two only with the dash on each line."""
    rng = random.Random(7)
    words = SIXTY_WORDS.split()
    turns, t = [], 0.0
    for _ in range(40):
        text = " ".join(rng.sample(words, rng.randint(1, 12))).capitalize() + "."
        length = len(text) / 15
        turns.append((rng.choice(["Anna", "Marco", "S3"]), f"{text}", t, t + length))
        t += length + rng.choice([0.1, 0.3, 1.2])
    segments = said(*turns)
    for style in (NETFLIX, BBC, VERTICAL):
        found = shape_segments(segments, style, "en", t + 5)
        for cue in found:
            assert 1 <= len(cue.speakers) <= 2, cue
            for line in cue.lines:
                assert line.startswith("- ") == (len(cue.speakers) == 2), cue
        spoken = [(s["speaker"], w) for s in segments for w in s["text"].split()]
        shown = [(who, w) for c in found for line, who in zip(c.lines, c.line_speakers(),
                                                              strict=True)
                 for w in line.removeprefix("- ").split()]  # fmt: skip
        assert shown == spoken  # every word, in order, under its own speaker


def test_segments_without_speakers_are_shaped_as_before():
    """No speaker anywhere: no speakers on cues, no dashes."""
    found = shape_segments([{"start": 0.0, "end": 2.0, "text": "Hello there.", "source_text": ""}],
                           NETFLIX, "en", 5.0)  # fmt: skip
    assert found[0].speakers == () and found[0].lines == ("Hello there.",)


def test_speakers_talking_at_once_still_give_every_word_a_cue():
    """Three people within a tenth of a second, where no style can part them in time: every
    word is still shown, in order, and the shaping ends (nothing left without a cue)."""
    segments = said(("Anna", "No!", 1.0, 1.05), ("Marco", "Yes!", 1.05, 1.1),
                    ("S3", "Stop it now, both of you.", 1.1, 1.15))  # fmt: skip
    for style in (NETFLIX, BBC, VERTICAL):
        found = shape_segments(segments, style, "en", 10.0)
        assert all_text(found).replace("- ", "") == "No! Yes! Stop it now, both of you."


def test_a_quick_exchange_where_the_style_forbids_sharing_does_not_swallow_what_follows():
    """Vertical video gives every speaker their own cue, but "No!" and "Yes!" 50 ms apart
    cannot be two cues: they share one as a last resort, and the sentences after them still
    get cues of their own (the shaper once found no way past them and ran everything
    together into one cue)."""
    segments = said(("Anna", "No!", 1.0, 1.05), ("Marco", "Yes!", 1.05, 1.1),
                    ("Anna", "Then we leave at dawn and never come back here.", 1.2, 4.0),
                    ("Marco", "Fine by me, really.", 4.2, 6.0))  # fmt: skip
    found = shape_segments(segments, VERTICAL, "en", 10.0)
    assert [c.lines for c in found] == [
        ("- No!", "- Yes!"),
        ("Then we leave at dawn", "and never come back here."),
        ("Fine by me, really.",),
    ]


def test_a_fragment_squeezed_between_two_sentences_stays_up_and_the_next_comes_barely_later():
    """Whisper on another processor heard "…built the boat in 1997. the salmon. With money…",
    with 0.84 s from "the" to "With": alone, "the salmon." would flash by under BBC's 5/6 s.
    It stays up 5/6 s, and the next cue appears at most LATE_S after its first word (on time
    for a viewer), each cue keeping its own words."""
    before = timed("Some literally mourning her father had built the boat in 1997.", 16.0)
    before[-1] = replace(before[-1], end=20.9)
    fragment = [Word(21.06, 21.3, " the", 0.9), Word(21.3, 21.6, " salmon.", 0.9)]
    after = timed("With money he had saved for almost an decade.", 21.9)
    cues = shape_words(before + fragment + after, BBC, "en", 40.0)
    assert [c.text.replace("\n", " ") for c in cues] == [
        "Some literally mourning her father had built the boat in 1997.", "the salmon.",
        "With money he had saved for almost an decade."]  # fmt: skip
    assert all(c.end - c.start >= BBC.min_duration - 0.001 for c in cues), cues
    assert 21.9 < cues[2].start <= 21.9 + LATE_S
    assert_ordered_and_apart(cues, BBC.min_gap)
