// The speech the job detected in the file (the API's `speech`: [[start, end], …] seconds):
// cues snapped to it, and a thin strip under the player drawing it around the player's time,
// with the cues above it and the time as a line.
import { media } from "./player.js";
import { $, state } from "./state.js";

export const SNAP_S = 1.0; // an edge moves to speech only this near: farther is another phrase
const SHORTEST_S = 0.1; // as a nudge: a snap never leaves a cue shorter than this
const EPSILON_S = 0.0005; // times are kept to the millisecond
const round3 = (seconds) => Math.round(seconds * 1000) / 1000;

// The time of `times` nearest to `at`, within `bound` and passing `allowed`; null if none.
function nearest(times, at, bound, allowed) {
  let best = null;
  for (const t of times) {
    const off = Math.abs(t - at);
    if (off > bound + EPSILON_S || !allowed(t)) continue;
    if (best === null || off < Math.abs(best - at)) best = t;
  }
  return best;
}

// Pure: the cues with those at `indexes` snapped to `regions` ([[start, end], …]): each start
// to the nearest speech onset, each end to the nearest offset, within `bound` seconds. An edge
// stays where it is when no onset or offset that near can take it: one that would bring the
// cue within `gap` of a neighbour (the style's least gap), before 0 or past `mediaEnd`, or
// leave it shorter than 0.1 s. Cues are snapped in order, each against its neighbours as they
// are by then. {cues: a new array (moved cues new objects, marked edited), moved: [indexes]}.
export function snapped(cues, indexes, regions, { bound = SNAP_S, gap = 0, mediaEnd = 0 } = {}) {
  const found = cues.slice();
  const moved = [];
  const onsets = regions.map((r) => r[0]);
  const offsets = regions.map((r) => r[1]);
  for (const index of [...new Set(indexes)].sort((a, b) => a - b)) {
    const cue = found[index];
    if (!cue) continue;
    const low = index > 0 ? found[index - 1].end + gap : 0;
    const after = found[index + 1];
    const high = Math.min(after ? after.start - gap : Infinity, mediaEnd || Infinity);
    const start = nearest(onsets, cue.start, bound,
      (t) => t >= low - EPSILON_S && t <= cue.end - SHORTEST_S + EPSILON_S) ?? cue.start;
    const end = nearest(offsets, cue.end, bound,
      (t) => t <= high + EPSILON_S && t >= start + SHORTEST_S - EPSILON_S) ?? cue.end;
    if (Math.abs(start - cue.start) < EPSILON_S && Math.abs(end - cue.end) < EPSILON_S) continue;
    found[index] = { ...cue, start: round3(start), end: round3(end), edited: true };
    moved.push(index);
  }
  return { cues: found, moved };
}

// --- the strip under the player ---

const WINDOW_S = 20; // the strip shows this much time around the player's
const strip = $("editor-speech");

// Draw the strip (hidden without speech or a player): the speech regions, the cues above
// them (the one in hand darker), the player's time as a line.
export function drawStrip() {
  if (!strip) return;
  const regions = (state.shown && state.shown.speech) || [];
  const m = media();
  strip.hidden = !regions.length || !m;
  if (strip.hidden) return;
  const scale = window.devicePixelRatio || 1;
  const width = Math.round(strip.clientWidth * scale);
  const height = Math.round(strip.clientHeight * scale);
  if (strip.width !== width || strip.height !== height) {
    strip.width = width;
    strip.height = height;
  }
  const now = m.currentTime || 0;
  const from = Math.max(0, now - WINDOW_S / 2);
  const x = (t) => ((t - from) / WINDOW_S) * width;
  const draw = strip.getContext("2d");
  draw.clearRect(0, 0, width, height);
  const bar = (start, end, top, tall, colour) => {
    if (end < from || start > from + WINDOW_S) return;
    draw.fillStyle = colour;
    draw.fillRect(x(start), top, Math.max(1, x(end) - x(start)), tall);
  };
  const half = height / 2;
  for (const [start, end] of regions) bar(start, end, half + scale, half - 2 * scale, "#4f9d69");
  state.cues.forEach((c, index) => {
    const colour = index === state.current ? "#2f5fd0" : "#aab9e3";
    bar(c.start, c.end, scale, half - 2 * scale, colour);
  });
  draw.fillStyle = "#d33";
  draw.fillRect(x(now) - scale / 2, 0, scale, height);
}

if (strip) {
  // a media element's events do not bubble, but the capture phase passes the document
  for (const event of ["timeupdate", "seeked", "loadedmetadata"]) {
    document.addEventListener(event, drawStrip, true);
  }
  // drawn again when it gets its size: the editor is shown only after its first load
  new ResizeObserver(drawStrip).observe(strip);
  // a click on the strip puts the player at that time
  strip.addEventListener("click", (event) => {
    const m = media();
    if (!m) return;
    const box = strip.getBoundingClientRect();
    const from = Math.max(0, m.currentTime - WINDOW_S / 2);
    m.currentTime = Math.max(0, from + ((event.clientX - box.left) / box.width) * WINDOW_S);
  });
}
