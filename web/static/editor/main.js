// The cue editor of a finished translate job's page (templates/_editor.html): one file's cues
// in one language beside the player. Texts and times are corrected, cues split, merged or
// deleted, the cues worth a look first gone through one by one, and each correction saved as
// a revision (PUT /api/jobs/<id>/cues, docs/API.md). An older revision can be looked at and
// restored: that is the undo.
//
// Edits not saved yet are never lost silently: they are kept in localStorage on every edit
// (by job, file, language and the revision they were made from) and offered back on the next
// visit, and leaving the page with them asks first.
//
// It stands apart from job.js: it reads the job itself and waits until it is finished. What
// the two share is the page: the job's id on #job, and the player job.js builds in #player,
// which the editor moves beside its list, following its time and keeping the <track> of the
// language being edited in step with the cues.
//
// The entry module (templates/_editor.html loads it): waiting for the job, loading a file's
// cues, and the keys and buttons; the parts are state, list, edits, saving, player and speech.
import {
  changed, editSpeaker, editText, forgetUndo, markChecked, merge, nudge, remove, snap, split,
} from "./edits.js";
import {
  cueInHand, goTo, hideOffer, indexOf, nextToCheck, renderList, renderPickers, renderRevisions,
  renderState, rowAt, setCurrent, status,
} from "./list.js";
import {
  adoptPlayer, media, playFrom, showFigures, showTrack, syncTrack, togglePlay,
} from "./player.js";
import {
  discard, forgetOlderDrafts, keepDraft, offerDraft, offerRevision, put, refuse, save,
} from "./saving.js";
import { drawStrip } from "./speech.js";
import {
  $, POLL_MS, REMADE_FORMATS, VIDEO_FORMATS, call, cuesUrl, dirty, editable, fingerprint, jobId,
  jobPage, list, root, sleep, state,
} from "./state.js";

// --- waiting for the job ---

// A change of job.js's status badge (it follows the job's events): cheaper than polling.
// `seen` is the status last read from the API; while the badge shows another (not drawn
// yet, or already past it), look again after the polling interval.
export function statusChange(seen) {
  const badge = document.getElementById("status");
  return new Promise((resolve) => {
    if (!badge || !badge.classList.contains(seen)) {
      setTimeout(resolve, POLL_MS);
      return;
    }
    const watch = new MutationObserver(() => {
      if (badge.classList.contains(seen)) return; // redrawn, same status
      watch.disconnect();
      resolve();
    });
    watch.observe(badge, {
      attributes: true,
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

export async function finishedJob() {
  for (;;) {
    let job = null;
    try {
      const answer = await call(`/api/jobs/${jobId}`);
      if (answer.ok) job = answer.body;
      else if (answer.status === 404) return null;
    } catch (err) {
      // offline for a moment: try again
    }
    if (job && job.status === "finished") return job;
    if (job) await statusChange(job.status);
    else await sleep(POLL_MS);
  }
}

// The file and language pairs whose cues can be edited: each output JSON of one language
// (a bilingual pair "en-de" is made from them, not edited), as the API finds them.
export function targetsOf(job, files) {
  const names = new Map(files.map((f) => [f.id, f.name]));
  const found = [];
  for (const output of job.outputs || []) {
    const language = output.language || job.params.target_language;
    if (!output.name.endsWith(".json") || !output.file_id || !language) continue;
    if (language.includes("-")) continue;
    const name = names.get(output.file_id) || output.name.replace(/\.[^.]+\.json$/, "");
    found.push({ file_id: output.file_id, language, name });
  }
  return found;
}

export async function start() {
  const job = await finishedJob();
  if (!job || job.kind !== "translate") return;
  let files = [];
  try {
    const session = await call(`/api/sessions/${job.session_id}`);
    if (session.ok) files = session.body.files || [];
  } catch (err) {
    // the names are nicer, not needed
  }
  state.targets = targetsOf(job, files);
  if (!state.targets.length) return;
  state.target = state.targets[0];
  noteWhatIsNotRemade(job, files);
  renderPickers();
  if (!(await load())) return;
  root.hidden = false;
  adoptPlayer();
}

// A save writes the language's SRT, VTT and JSON again (and its bilingual files, and the
// .ass a media file's speakers made); say which outputs it leaves as the engine made them
// (videos with subtitles, a subtitle file's own format).
export function noteWhatIsNotRemade(job, files) {
  const kept = new Set();
  const media = new Set(files.filter((f) => (f.kind || "media") === "media").map((f) => f.id));
  for (const output of job.outputs || []) {
    const format = output.format || output.name.split(".").pop();
    if ((output.language || "").includes("-")) continue; // written again with its language
    if (format === "ass" && media.has(output.file_id)) continue; // the speakers' .ass
    if (VIDEO_FORMATS.includes(format)) kept.add("the video with subtitles");
    else if (!REMADE_FORMATS.includes(format)) kept.add(output.name);
  }
  const note = $("editor-not-remade");
  const names = [...kept];
  note.textContent = names.length
    ? `Saving writes the SRT, VTT and JSON again. Not written again (they keep the ` +
      `engine’s text): ${names.join(", ")}.`
    : "";
  note.hidden = !names.length;
}

// --- loading a revision ---

// Load the latest revision (or an older one, read-only) and show it; false if it could not.
export async function load(revision = null) {
  state.busy = true;
  renderState();
  let answer;
  try {
    answer = await call(cuesUrl(revision));
  } catch (err) {
    answer = { ok: false, error: { message: "the server did not answer" } };
  }
  state.busy = false;
  if (!answer.ok) {
    status(`Could not load the cues: ${answer.error.message}`, "error");
    renderState();
    return false;
  }
  const shown = answer.body;
  state.shown = shown;
  state.readOnly = shown.revision !== shown.latest;
  root.classList.toggle("no-speech", !(shown.speech || []).length); // nothing to snap to
  state.cues = shown.cues.map((c) => ({ ...c, check: [...(c.check || [])] }));
  state.saved = fingerprint(state.cues);
  state.badCue = -1;
  state.undo = null;
  state.draftOffered = false;
  hideOffer();
  renderRevisions();
  renderList();
  renderState();
  syncTrack();
  drawStrip();
  if (state.readOnly) offerRevision(shown.revision);
  else {
    forgetOlderDrafts();
    offerDraft();
  }
  return true;
}

// Do `work` (a reload, a re-render) keeping the list where it was and the caret in its cue.
export async function keepingPlace(work) {
  const scroll = list.scrollTop;
  const active = document.activeElement;
  const typing = active && active.classList.contains("cue-text") ? active : null;
  const index = typing ? Number(typing.closest(".cue").dataset.index) : state.current;
  const caret = typing ? [typing.selectionStart, typing.selectionEnd] : null;
  const result = await work();
  list.scrollTop = scroll;
  setCurrent(Math.min(index, state.cues.length - 1));
  const row = rowAt(state.current);
  if (caret && row) {
    const text = row.querySelector(".cue-text");
    text.focus({ preventScroll: true });
    text.setSelectionRange(...caret);
  }
  return result;
}

export async function pick(fileId, language) {
  const chosen = state.targets.find((t) => t.file_id === fileId && t.language === language) ||
    state.targets.find((t) => t.file_id === fileId);
  if (!chosen || dirty()) return;
  const before = state.target;
  state.target = chosen;
  state.current = Math.max(0, state.speaking);
  status("");
  if (!(await load())) {
    // the cues shown are still the other file's or language's: so must be where a save goes
    state.target = before;
    renderPickers();
    return;
  }
  renderPickers(); // the list opens where the player is
  showFigures();
  showTrack();
}

// --- keys and clicks ---

export const KEYS = {
  save,
  play: togglePlay,
  previous: () => goTo(cueInHand() - 1),
  next: () => goTo(cueInHand() + 1),
  startEarlier: () => nudge(cueInHand(), "start", -1),
  startLater: () => nudge(cueInHand(), "start", 1),
  endEarlier: () => nudge(cueInHand(), "end", -1),
  endLater: () => nudge(cueInHand(), "end", 1),
  split: () => split(cueInHand()),
  merge: () => merge(cueInHand()),
  snap: () => snap([cueInHand()]),
  nextToCheck,
};

if (root && jobPage) {
  // Caught on the way down, so a focused player's own keys (its controls toggle on Ctrl+Space
  // too) do not undo ours.
  window.addEventListener("keydown", (event) => {
    if (root.hidden || !state.shown) return;
    const action = CueEdit.shortcut(event);
    if (!action) return;
    // Saving is wanted from anywhere on the page; the rest only where the editor is.
    const active = document.activeElement;
    if (action !== "save" && !(root.contains(active) || active === document.body)) return;
    event.preventDefault();
    event.stopPropagation();
    if (event.repeat && ["save", "split", "merge"].includes(action)) return;
    KEYS[action]();
  }, true);

  list.addEventListener("input", (event) => {
    if (event.target.classList.contains("cue-speaker")) {
      editSpeaker(indexOf(event.target), event.target.value);
      return;
    }
    if (!event.target.classList.contains("cue-text")) return;
    editText(indexOf(event.target), event.target.value);
  });

  // "Rename S2 to Marco everywhere": one step, saved with the next save.
  $("editor-speaker-rename").addEventListener("click", () => {
    if (!editable()) return refuse();
    const from = $("editor-speaker-from").value;
    const to = $("editor-speaker-to").value.trim();
    if (!from || !to || from === to) return;
    forgetUndo();
    const { cues, count } = CueEdit.renamed(state.cues, from, to);
    state.cues = cues;
    renderList();
    changed();
    status(`${from} is ${to} in ${count} cue${count === 1 ? "" : "s"}; save to keep it.`);
  });

  list.addEventListener("focusin", (event) => {
    const index = indexOf(event.target);
    if (index >= 0) setCurrent(index);
  });

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    const index = indexOf(button);
    if (!button || index < 0) return;
    if (button.classList.contains("cue-start")) {
      setCurrent(index);
      playFrom(state.cues[index].start);
    } else if (button.classList.contains("nudge")) {
      nudge(index, button.dataset.edge, Number(button.dataset.step));
    } else if (button.classList.contains("split")) {
      split(index);
    } else if (button.classList.contains("merge")) {
      merge(index);
    } else if (button.classList.contains("snap")) {
      snap([index]);
    } else if (button.classList.contains("delete")) {
      remove(index);
    } else if (button.classList.contains("unsure")) {
      if (!editable()) return refuse();
      state.cues[index].edited = true;
      markChecked(index);
      goTo(index, { seek: false });
    }
  });

  $("editor-save").addEventListener("click", save);
  $("editor-discard").addEventListener("click", discard);
  $("editor-next-check").addEventListener("click", nextToCheck);
  $("editor-file").addEventListener("change", (event) => {
    pick(event.target.value, state.target.language);
  });
  $("editor-language").addEventListener("change", (event) => {
    pick(state.target.file_id, event.target.value);
  });

  $("editor-revision").addEventListener("change", async (event) => {
    const revision = Number(event.target.value);
    if (dirty()) {
      event.target.value = String(state.shown.revision);
      return;
    }
    await keepingPlace(() => load(revision === state.shown.latest ? null : revision));
  });

  // Undo the last save: put back the cues of the revision before the latest.
  $("editor-undo").addEventListener("click", async () => {
    if (dirty() || state.busy || !state.shown.latest) return;
    const previous = state.shown.latest - 1;
    const answer = await call(cuesUrl(previous)).catch(() => null);
    if (!answer || !answer.ok) {
      status(`Could not read revision ${previous}: ${answer ? answer.error.message : "no answer"}`,
        "error");
      return;
    }
    await put(answer.body.cues, state.shown.latest,
      (saved) => `Last save undone: revision ${saved.revision} has the cues of revision ` +
        `${previous}. ${saved.summary}.`);
  });

  // Leaving with unsaved edits asks first (job.js asks, for its own reasons, while a job runs).
  window.addEventListener("beforeunload", (event) => {
    if (!dirty()) return;
    keepDraft();
    event.preventDefault();
    event.returnValue = "";
  });

  start();
}
