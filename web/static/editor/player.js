// The player beside the list: its time followed, the cue being spoken marked, seeking and
// playing, and the <track> of the language being edited kept in step with the cues.
import { reveal, rowAt } from "./list.js";
import { $, STRUCTURE_TRACK_MS, root, state } from "./state.js";

// --- the player ---

// job.js's player goes beside the list; job.js finds it by its id wherever it is.
export function adoptPlayer() {
  const player = document.getElementById("player");
  if (!player) return showFigures();
  $("editor-media").prepend(player);
  new MutationObserver(() => {
    showFigures();
    syncTrack();
  }).observe(player, { childList: true });
  showFigures();
}

// The figure of the file being edited (its own media, or the video it was burned into).
export function figure() {
  const player = document.getElementById("player");
  if (!player || !state.target) return null;
  return player.querySelector(`:scope > figure[data-file-id="${state.target.file_id}"]`);
}

export function media() {
  const found = figure();
  return found ? found.querySelector("video, audio") : null;
}

export const following = new WeakSet();

// Only the edited file's player is shown; none (a subtitle file): the list takes the width.
export function showFigures() {
  const chosen = figure();
  const player = document.getElementById("player");
  if (player) {
    for (const each of player.querySelectorAll(":scope > figure")) each.hidden = each !== chosen;
  }
  root.classList.toggle("no-media", !chosen);
  const m = media();
  if (m && !following.has(m)) {
    following.add(m);
    for (const event of ["timeupdate", "seeked", "play", "pause"]) {
      m.addEventListener(event, () => {
        if (m === media()) markSpeaking();
      });
    }
  }
  markSpeaking();
}

// Highlight the cue being spoken; keep it in view unless the person is typing in another.
export function markSpeaking() {
  const m = media();
  const time = m ? m.currentTime : -1;
  const index = state.cues.findIndex((c) => c.start <= time && time < c.end);
  if (index === state.speaking) return;
  const before = rowAt(state.speaking);
  if (before) before.classList.remove("speaking");
  state.speaking = index;
  const row = rowAt(index);
  if (!row) return;
  row.classList.add("speaking");
  const active = document.activeElement;
  const typingElsewhere = active && active.classList.contains("cue-text") &&
    active.closest(".cue") !== row;
  if (!typingElsewhere) reveal(row);
}

export function seekTo(seconds) {
  const m = media();
  if (m) m.currentTime = seconds;
}

export function playFrom(seconds) {
  const m = media();
  if (!m) return;
  m.currentTime = seconds;
  m.play().catch(() => {});
}

export function togglePlay() {
  const m = media();
  if (!m) return;
  if (m.paused) m.play().catch(() => {});
  else m.pause();
}

// The <track> of the file and language being edited.
export function trackElement() {
  const found = figure();
  if (!found || !state.target) return null;
  return found.querySelector(`track[data-language="${CSS.escape(state.target.language)}"]`);
}

export let trackTimer = null;
export function scheduleTrack() {
  clearTimeout(trackTimer);
  trackTimer = setTimeout(syncTrack, STRUCTURE_TRACK_MS);
}

// The track shows the cues as they are on screen, edits included (the file it loaded is the
// revision saved before).
export function syncTrack() {
  clearTimeout(trackTimer);
  const element = trackElement();
  if (!element) return;
  if (element.readyState !== HTMLTrackElement.LOADED) {
    element.addEventListener("load", syncTrack, { once: true });
    return;
  }
  const track = element.track;
  if (!track.cues) return; // turned off
  for (const cue of [...track.cues]) track.removeCue(cue);
  for (const c of state.cues) track.addCue(new VTTCue(c.start, c.end, c.text));
}

// Switching the language edited shows its track.
export function showTrack() {
  const found = figure();
  if (!found) return;
  for (const element of found.querySelectorAll("track")) {
    const chosen = element.dataset.language === state.target.language;
    element.track.mode = chosen ? "showing" : "hidden";
  }
}
