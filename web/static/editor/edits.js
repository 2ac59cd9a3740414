// Edits of the cues: texts, times (nudged, or snapped to the speech), speakers, split, merge,
// delete, and the undo of the last split, merge or delete.
import {
  fillNotes, fillTimes, goTo, renderList, renderSpeakers, renderState, rowAt, setCurrent, status,
} from "./list.js";
import { media, scheduleTrack, seekTo } from "./player.js";
import { keepDraft, refuse } from "./saving.js";
import { SNAP_S, drawStrip, snapped } from "./speech.js";
import { $, END_LEAD_S, clock, editable, list, root, state } from "./state.js";

// --- edits ---

// After any edit: the bar, the kept draft, the player's track.
export function changed() {
  renderState();
  keepDraft();
  scheduleTrack();
  drawStrip();
}

export function editText(index, value) {
  forgetUndo();
  const cue = state.cues[index];
  cue.text = value;
  cue.edited = true;
  if (cue.unsure) markChecked(index, false);
  const row = rowAt(index);
  if (index === state.badCue) {
    state.badCue = -1;
    row.classList.remove("bad");
  }
  fillNotes(row, cue);
  changed();
}

// An unsure cue a person looked at is unsure no more.
export function markChecked(index, refresh = true) {
  const cue = state.cues[index];
  cue.unsure = false;
  cue.check = cue.check.filter((code) => code !== "unsure");
  if (refresh) {
    fillNotes(rowAt(index), cue);
    changed();
  }
}

// Move a cue's start or end by `step` nudges (CueEdit.nudged); the player follows.
export function nudge(index, edge, step) {
  if (!editable()) return refuse();
  forgetUndo();
  // a subtitle file's "media" is the file itself: it ends where its last cue did
  const pastEnd = root.classList.contains("no-media")
    ? "a translated subtitle file keeps its length"
    : "the media ends there";
  const moved = CueEdit.nudged(state.cues, index, edge, step, state.shown.duration_s, pastEnd);
  if (moved.refused) {
    status(moved.refused);
    return;
  }
  const cue = state.cues[index];
  cue[edge] = moved.value;
  cue.edited = true;
  const row = rowAt(index);
  fillTimes(row, cue);
  fillNotes(row, cue);
  setCurrent(index);
  changed();
  seekTo(edge === "start" ? cue.start : Math.max(cue.start, cue.end - END_LEAD_S));
}

// Move the cues' starts and ends to the nearest speech onset and offset (speech.js: snapped);
// the player goes to the first one's start.
export function snap(indexes) {
  if (!editable()) return refuse();
  const regions = state.shown.speech || [];
  if (!regions.length) {
    status("No speech was detected in this file: there is nothing to snap to.");
    return;
  }
  const { cues, moved } = snapped(state.cues, indexes, regions,
    { gap: state.shown.min_gap_s || 0, mediaEnd: state.shown.duration_s });
  const named = indexes.length === 1 ? `Cue ${indexes[0] + 1}` : "These cues";
  if (!moved.length) {
    status(`${named}: no speech onset or offset within ${SNAP_S} s that it can move to ` +
      "without touching a neighbour.");
    return;
  }
  forgetUndo();
  state.cues = cues;
  for (const index of moved) {
    const row = rowAt(index);
    fillTimes(row, cues[index]);
    fillNotes(row, cues[index]);
  }
  setCurrent(indexes[0]);
  changed();
  const first = cues[moved[0]];
  status(moved.length === 1
    ? `Cue ${moved[0] + 1} snapped to the speech: ${clock(first.start)} – ${clock(first.end)}.`
    : `${moved.length} cues snapped to the speech.`);
  seekTo(first.start);
}

// Split a cue at the caret in its text (CueEdit.split); the caret goes to the second part.
export function split(index) {
  if (!editable()) return refuse();
  const caret = rowAt(index).querySelector(".cue-text").selectionStart;
  const m = media();
  const made = CueEdit.split(state.cues[index], index + 1, caret, m ? m.currentTime : -1);
  if (made.refused) {
    status(made.refused);
    goTo(index, { seek: false, caret });
    return;
  }
  remember(`Cue ${index + 1} split at ${clock(made.at)}.`);
  state.cues.splice(index, 1, ...made.cues);
  restructured();
  goTo(index + 1, { seek: false, caret: 0 });
}

// Merge a cue with the next (CueEdit.merged); the caret goes where they meet.
export function merge(index) {
  if (!editable()) return refuse();
  const [first, second] = state.cues.slice(index, index + 2);
  if (!second) {
    status("The last cue has no next one to merge with.");
    return;
  }
  remember(`Cues ${index + 1} and ${index + 2} merged.`);
  state.cues.splice(index, 2, CueEdit.merged(first, second));
  restructured();
  goTo(index, { seek: false, caret: first.text.trim().length });
}

export function remove(index) {
  if (!editable()) return refuse();
  if (state.cues.length === 1) {
    status("The last cue cannot be deleted: subtitles need one.");
    return;
  }
  remember(`Cue ${index + 1} deleted.`);
  state.cues.splice(index, 1);
  restructured();
  goTo(Math.min(index, state.cues.length - 1), { seek: false });
}

// Keep the cues as they are before a split, merge or delete, and offer to put them back.
export function remember(done) {
  state.undo = { cues: JSON.parse(JSON.stringify(state.cues)), current: state.current };
  state.undoMessage = done;
}

// A later edit: putting the cues back as they were before the split would lose it.
export function forgetUndo() {
  if (!state.undo) return;
  state.undo = null;
  status("");
}

export function restructured() {
  if (state.badCue >= 0) state.badCue = -1;
  const scroll = list.scrollTop;
  renderList();
  list.scrollTop = scroll;
  changed();
  status(state.undoMessage, "", ["Undo", () => {
    if (!state.undo || !editable()) return;
    state.cues = state.undo.cues;
    const back = state.undo.current;
    state.undo = null;
    const top = list.scrollTop;
    renderList();
    list.scrollTop = top;
    changed();
    goTo(back, { seek: false });
  }]);
}

export function editSpeaker(index, value) {
  forgetUndo();
  const cue = state.cues[index];
  cue.speakers = CueEdit.speakersOf(value);
  cue.edited = true;
  renderSpeakers();
  changed();
}
