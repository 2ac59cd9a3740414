"""Re-timing an existing subtitle file to its media: a frame-rate drift, an offset, and splits
where the offset changes (an edit, an ad break). Pure maths on the speech regions that
jobs/media/speech.py finds; the cues' text is never touched.

Time is cut into STEP_S bins; speech counts +1 a bin and silence -1, so a cue scores the
speech it covers less the silence it covers. For each candidate rate (RATES: the usual
PAL/NTSC/film conversions) the best single offset over the whole media is found by
cross-correlation (FFT), as ffsubsync does. Then, at the best rate, each cue picks an offset
near that one (within REACH_S, in OFFSET_STEP_S steps) by dynamic programming: a cue takes its
neighbour's offset for free and any other for SPLIT_COST, so the offsets are piecewise constant
and a split is only made where the speech clearly moved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .speech import Region

STEP_S = 0.01
"""Bins of 10 ms."""

RATES = {"none": 1.0, "23.976->25": 25 / 23.976, "25->23.976": 23.976 / 25, "24->25": 25 / 24,
         "25->24": 24 / 25}  # fmt: skip
"""Frame-rate conversions tried: subtitle time t is media time t x rate (+ offset)."""

REACH_S, OFFSET_STEP_S = 8.0, 0.05
"""Offsets each cue may take around the global one, and their spacing."""

SPLIT_COST = 4.0
"""What a change of offset costs, in seconds of speech a cue covers: a split must win more."""

EDGE_S = 0.3
"""How much of the speech after a cue's start, and the silence before, marks its onset."""

MOVED_S = 0.05
"""A cue whose start moved at least this much counts as moved."""


@dataclass(frozen=True)
class Fit:
    """Where each cue goes (`times`, seconds) and how: the offset most cues took, the drift
    (name in RATES), the number of splits and of cues moved."""

    times: list[tuple[float, float]]
    offset_s: float
    drift: str
    splits: int
    cues_moved: int

    def report(self) -> dict:
        """The `quality.sync` object."""
        return {"offset_s": self.offset_s, "drift": self.drift, "splits": self.splits,
                "cues_moved": self.cues_moved}  # fmt: skip


def _speech(regions: list[Region], bins: int) -> np.ndarray:
    """+1 for speech, -1 for silence, per bin."""
    score = -np.ones(bins, dtype=np.float32)
    for r in regions:
        score[max(0, int(r.start / STEP_S)) : max(0, int(r.end / STEP_S))] = 1.0
    return score


def _global_offset(cues: list[tuple[float, float]], score: np.ndarray, rate: float) -> tuple:
    """The (score, offset in seconds) of the best single offset at `rate`."""
    span = int(max(e for _, e in cues) * rate / STEP_S) + 2
    mask = np.zeros(span, dtype=np.float32)
    for s, e in cues:
        mask[int(s * rate / STEP_S) : max(int(s * rate / STEP_S) + 1, int(e * rate / STEP_S))] = 1
    size = 1 << int(np.ceil(np.log2(span + score.size)))
    corr = np.fft.irfft(np.fft.rfft(score, size) * np.conj(np.fft.rfft(mask, size)), size)
    # corr[k] = sum_t score[t + k] mask[t]: k >= 0 moves cues later, the tail wraps to k < 0.
    lags = np.concatenate([np.arange(0, score.size), np.arange(-span + 1, 0)])
    values = np.concatenate([corr[: score.size], corr[size - span + 1 :]])
    best = int(np.argmax(values))
    return float(values[best]), lags[best] * STEP_S


def fit(cues: list[tuple[float, float]], regions: list[Region], duration: float) -> Fit | None:
    """Where a subtitle file's cues (start, end in seconds) go on media whose speech is
    `regions`; None when there is nothing to fit to (no cues, or no speech). Every rate is
    tried; a drift, like a split, must win SPLIT_COST over none."""
    if not cues or not regions:
        return None
    bins = int(duration / STEP_S) + 1
    score = _speech(regions, bins)
    prefix = np.concatenate([[0.0], np.cumsum(score, dtype=np.float64)])
    tried = []
    for name, rate in RATES.items():
        total, chosen, offsets = _piecewise(cues, score, prefix, rate)
        tried.append((total - (SPLIT_COST if rate != 1.0 else 0.0), name, rate, chosen, offsets))
    _, name, rate, chosen, offsets = max(tried, key=lambda t: t[0])
    shifts = [float(offsets[k]) for k in chosen]
    times = [(round(s * rate + o, 3), round(e * rate + o, 3))
             for (s, e), o in zip(cues, shifts, strict=True)]  # fmt: skip
    splits = sum(1 for x, y in zip(chosen, chosen[1:], strict=False) if x != y)
    moved = sum(1 for (s, _), (t, _) in zip(cues, times, strict=True) if abs(t - s) >= MOVED_S)
    common = max(set(chosen), key=chosen.count)
    return Fit(times, round(float(offsets[common]), 3), name, splits, moved)


def _piecewise(cues: list[tuple[float, float]], score: np.ndarray, prefix: np.ndarray,
               rate: float) -> tuple[float, list[int], np.ndarray]:  # fmt: skip
    """At `rate`: the best total gain (splits paid for), each cue's offset (index into the
    offsets), and the offsets tried (around the best single offset)."""
    bins = score.size
    _, base = _global_offset(cues, score, rate)
    offsets = base + OFFSET_STEP_S * np.arange(-round(REACH_S / OFFSET_STEP_S),
                                               round(REACH_S / OFFSET_STEP_S) + 1)  # fmt: skip
    starts = np.array([s for s, _ in cues]) * rate
    ends = np.array([e for _, e in cues]) * rate
    a = np.clip(((starts[:, None] + offsets[None, :]) / STEP_S).astype(int), 0, bins)
    b = np.clip(((ends[:, None] + offsets[None, :]) / STEP_S).astype(int), 0, bins)
    gain = (prefix[b] - prefix[a]) * STEP_S  # seconds of speech less seconds of silence
    # ...which is flat while a cue slides within the silence around its speech: what decides is
    # its start, on speech just after it and on silence just before it.
    edge = round(EDGE_S / STEP_S)
    after = prefix[np.clip(a + edge, 0, bins)] - prefix[a]
    before = prefix[a] - prefix[np.clip(a - edge, 0, bins)]
    gain += (after - before) * STEP_S
    value = gain[0].copy()
    back = np.zeros(gain.shape, dtype=np.int32)
    for i in range(1, len(cues)):
        best = int(np.argmax(value))
        switch = value[best] - SPLIT_COST
        stay = value >= switch
        back[i] = np.where(stay, np.arange(offsets.size), best)
        value = np.where(stay, value, switch) + gain[i]
    chosen = [int(np.argmax(value))]
    for i in range(len(cues) - 1, 0, -1):
        chosen.append(int(back[i][chosen[-1]]))
    return float(value.max()), chosen[::-1], offsets


def describe(report: dict | None) -> str:
    """What a sync did, for the job page after the quality line ("" when it was no sync)."""
    if report is None:
        return ""
    if not report["cues_moved"]:
        return "; re-timed to the audio: already on time"
    drift = "" if report["drift"] == "none" else f", frame rate {report['drift']}"
    splits = {0: "", 1: ", 1 split"}.get(report["splits"], f", {report['splits']} splits")
    return (
        f"; re-timed to the audio: {report['cues_moved']} cues moved, offset "
        f"{report['offset_s']:+.2f} s{drift}{splits}"
    )
