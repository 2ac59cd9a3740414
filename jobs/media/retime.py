"""Times moved onto speech: an engine's words or segments re-fitted to the speech regions the
detector found (jobs/media/speech.py). Pure maths: no I/O, no model.

Two cases. Whisper's words are mostly right but stray at the edge of a phrase (its first word
often starts where the audio it was given starts, in the silence before): `words_on_speech`
snaps a phrase's first word to the onset of its speech and its last word to the offset, and
drops words that lie away from any speech (lines invented over silence or music).

Gemini's segments come with times that are off as a whole (a chunk shifted by up to a second or
more, stretched by a few per cent, rounded to half seconds): `segments_on_speech` first fits the
chunk's segments as a whole for shift and stretch against the speech onsets and offsets, then
gives each segment the speech regions it overlaps most and moves its start and end to theirs.
Only times move; text stays with its segment. A segment that overlaps no speech keeps its
(fitted) time and is reported, so a person can check it first.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from ..subtitles.cues import Word
from .speech import Region

SNAP_S = 0.1
"""A phrase's first word starting further than this from its speech onset (or its last word
ending further than this past the speech offset) is moved onto it. (Whisper's onsets land up
to 160 ms late on clean speech; the detector's within about 110 ms either way.)"""

REACH_S = 1.0
"""...if the onset is no further than this: beyond it, the word belongs to other speech."""

STRAY_S = 0.5
"""A word further than this from any speech was not heard in speech: it is dropped."""

SHIFTS = [k / 20 for k in range(-40, 41)]
"""Shifts tried for a chunk of segments: -2 s to +2 s in 50 ms steps."""

STRETCHES = [1 + k / 400 for k in range(-16, 17)]
"""Stretches tried: -4 % to +4 % in 0.25 % steps."""

CAP_S = 0.6
"""In the fit, an edge further than this from any speech edge costs no more than this (one
segment with no speech near it must not pull the whole chunk)."""


def _distance(regions: list[Region], a: float, b: float) -> float:
    """How far `a`..`b` is from the nearest speech (0 when they overlap)."""
    return min((max(r.start - b, a - r.end, 0.0) for r in regions), default=float("inf"))


def _owner(regions: list[Region], word: Word) -> int | None:
    """The region a word belongs to: the one it overlaps most, else the nearest within
    STRAY_S; None when no speech is near."""
    best, best_key = None, None
    for k, r in enumerate(regions):
        overlap = min(word.end, r.end) - max(word.start, r.start)
        gap = max(r.start - word.end, word.start - r.end, 0.0)
        if overlap <= 0 and gap > STRAY_S:
            continue
        key = overlap if overlap > 0 else -gap
        if best_key is None or key > best_key:
            best, best_key = k, key
    return best


def _snapped(words: list[Word], regions: list[Region]) -> list[Word | None]:
    """`words_on_speech`, position for position (None: the word is dropped)."""
    owners = [_owner(regions, w) for w in words]
    kept = [n for n, k in enumerate(owners) if k is not None]
    out: list[Word | None] = [None] * len(words)
    previous = None
    for place, n in enumerate(kept):
        word, k = words[n], owners[n]
        region = regions[k]
        start, end = word.start, word.end
        first = place == 0 or owners[kept[place - 1]] != k
        last = place == len(kept) - 1 or owners[kept[place + 1]] != k
        early = start < region.start < word.end  # said in its region, timed from the silence
        if first and (early or SNAP_S < abs(start - region.start) <= REACH_S):
            start = region.start if early or abs(start - region.start) > SNAP_S else start
        if last and end - region.end > SNAP_S:
            end = max(region.end, start + 0.05)
        if previous is not None and start < previous.end:
            start = previous.end
        if end <= start:
            end = start + min(0.05, max(0.0, word.end - word.start))
        out[n] = previous = replace(word, start=round(start, 3), end=round(end, 3))
    return out


def words_on_speech(words: list[Word], regions: list[Region]) -> list[Word]:
    """Whisper's words (sorted, absolute) with each phrase's edges on its speech: the first
    word of a speech region starts at the region's onset and the last ends no later than its
    offset (when they stray more than SNAP_S); words far from any speech are dropped. Without
    regions (no speech found, or none measured) the words are returned as they are."""
    if not regions:
        return list(words)
    return [w for w in _snapped(words, regions) if w is not None]


_NORMAL = re.compile(r"[\W_]+", re.UNICODE)


def without_repeats(segments: list[dict]) -> list[dict]:
    """Segments without a line that repeats the one before it word for word (Whisper's loop
    on music or silence: the same sentence heard again and again)."""
    out: list[dict] = []
    for s in segments:
        key = _NORMAL.sub(" ", str(s.get("source_text") or s.get("text") or "")).strip().lower()
        if out and key and key == out[-1][1]:
            continue
        out.append((s, key))
    return [s for s, _ in out]


def _distances(moved: np.ndarray, points: list[float]) -> np.ndarray:
    """Each moved time's distance to the nearest of the sorted `points`, capped at CAP_S."""
    if not points:
        return np.full(moved.shape, CAP_S)
    grid = np.asarray(points)
    at = np.searchsorted(grid, moved)
    before = np.abs(moved - grid[np.clip(at - 1, 0, grid.size - 1)])
    after = np.abs(grid[np.clip(at, 0, grid.size - 1)] - moved)
    return np.minimum(np.minimum(before, after), CAP_S)


def fit(segments: list[dict], regions: list[Region], origin: float) -> tuple[float, float]:
    """The shift (s) and stretch around `origin` that best put the segments' starts on speech
    onsets and their ends on speech offsets: the least total distance (each edge's capped at
    CAP_S), then the least shift, then the least stretch."""
    starts = np.array([float(s["start"]) for s in segments]) - origin
    ends = np.array([float(s["end"]) for s in segments]) - origin
    stretch = np.array(STRETCHES)[:, None, None]
    shift = np.array(SHIFTS)[None, :, None]
    cost = _distances(origin + starts * stretch + shift, sorted(r.start for r in regions))
    cost = cost.sum(axis=2) + _distances(origin + ends * stretch + shift,
                                         sorted(r.end for r in regions)).sum(axis=2)  # fmt: skip
    order = np.lexsort((np.abs(stretch[:, :, 0] - 1).repeat(len(SHIFTS), axis=1).ravel(),
                        np.abs(shift[:, :, 0]).repeat(len(STRETCHES), axis=0).ravel(),
                        np.round(cost, 6).ravel()))  # fmt: skip
    k, h = divmod(int(order[0]), len(SHIFTS))
    return SHIFTS[h], STRETCHES[k]


def segments_on_speech(segments: list[dict], regions: list[Region], origin: float,
                       bounds: tuple[float, float]) -> tuple[list[dict], list[int]]:  # fmt: skip
    """One chunk's segments (absolute times, from `origin`, the chunk's start) re-fitted to the
    speech regions within the chunk's `bounds`: returns the segments with new times (text
    untouched, order kept) and the positions of those that overlap no speech (they keep their
    fitted time)."""
    if not segments or not regions:
        return [dict(s) for s in segments], []
    shift, stretch = fit(segments, regions, origin)
    lo, hi = bounds

    def moved(t: float) -> float:
        return min(max(origin + (float(t) - origin) * stretch + shift, lo), hi)

    fitted = [dict(s, start=moved(s["start"]), end=moved(s["end"])) for s in segments]
    owners: dict[int, list[Region]] = {}
    for region in regions:
        overlaps = [min(s["end"], region.end) - max(s["start"], region.start) for s in fitted]
        best = max(range(len(fitted)), key=lambda k: overlaps[k])
        if overlaps[best] > 0:
            owners.setdefault(best, []).append(region)
    unsure = []
    for k, segment in enumerate(fitted):
        mine = owners.get(k)
        if mine:
            segment["start"], segment["end"] = mine[0].start, mine[-1].end
        elif _distance(regions, segment["start"], segment["end"]) > 0:
            unsure.append(k)  # no speech under it: its time is a guess
    for before, after in zip(fitted, fitted[1:], strict=False):
        after["start"] = max(after["start"], before["start"])
        before["end"] = min(before["end"], after["start"])
        after["end"] = max(after["end"], after["start"])
    for segment in fitted:
        segment["start"], segment["end"] = round(segment["start"], 3), round(segment["end"], 3)
    return fitted, unsure


Span = tuple[float, float]


def placed_on_speech(chunks: list[tuple[Span, list[dict]]],
                     regions: list[Region]) -> tuple[list[dict], list[Span]]:  # fmt: skip
    """A file's placed segments, chunk by chunk ((chunk start, chunk end), its segments with
    absolute times), moved onto the file's speech `regions`: segments with words (Whisper) have
    their words snapped and lines repeated back to back dropped; segments without words
    (Gemini) are fitted chunk by chunk. Returns the segments and the spans of those that
    overlap no speech (their cues are the ones to check first)."""
    if not regions:
        return [s for _, segments in chunks for s in segments], []
    out, unsure = [], []
    worded = [s for _, segments in chunks for s in segments if s.get("words")]
    if worded and len(worded) == sum(len(segments) for _, segments in chunks):
        worded = without_repeats(worded)
        words = [w for s in worded for w in s["words"]]
        owner = [k for k, s in enumerate(worded) for _ in s["words"]]
        regrouped: dict[int, list[Word]] = {}
        for k, word in zip(owner, _snapped(words, regions), strict=True):
            if word is not None:
                regrouped.setdefault(k, []).append(word)
        for k, segment in enumerate(worded):
            mine = regrouped.get(k)
            if mine:  # a segment all of whose words lay away from speech is gone
                out.append(dict(segment, start=mine[0].start, end=mine[-1].end, words=mine))
        return out, unsure
    for (start, end), segments in chunks:
        inside = [r for r in regions if r.end > start and r.start < end]
        fitted, doubtful = segments_on_speech(segments, inside, start, (start, end))
        out += fitted
        unsure += [(fitted[k]["start"], fitted[k]["end"]) for k in doubtful]
    return out, unsure
