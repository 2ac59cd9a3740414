// Saving: a save as a new revision (a refused cue shown), discarding, looking at and
// restoring an older revision, and the drafts kept in localStorage until saved.
import { changed } from "./edits.js";
import { goTo, hideOffer, lockRows, offer, renderList, rowAt, status } from "./list.js";
import { keepingPlace, load } from "./main.js";
import {
  $, call, cuesUrl, dirty, editable, fingerprint, jobId, list, sent, state,
} from "./state.js";

export function refuse() {
  if (state.draftOffered) status("First restore or discard the edits kept from before.");
  else if (state.readOnly) {
    status("This revision is read-only: restore it, or go back to the latest.");
  }
}

export async function discard() {
  if (!window.confirm("Discard your unsaved edits?")) return;
  forgetDraft();
  await keepingPlace(() => load());
  status("Edits discarded.");
}

// --- saving ---

export async function save() {
  if (!state.shown || state.busy) return;
  if (!editable()) return refuse();
  if (!dirty()) {
    status(`Nothing to save: no edits since revision ${state.shown.revision}.`);
    return;
  }
  await put(state.cues, state.shown.revision,
    (saved) => `Saved as revision ${saved.revision}: ${saved.summary}.`);
}

// PUT `cues` as made from revision `base`; on success show the new latest revision and say
// `said(answer)`. True if saved.
export async function put(cues, base, said) {
  state.busy = true;
  lockRows(); // what is typed meanwhile would not be in this save
  status("Saving…");
  let answer;
  try {
    answer = await call(cuesUrl(), {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ base_revision: base, cues: sent(cues) }),
    });
  } catch (err) {
    state.busy = false;
    lockRows();
    status("Could not reach the server: nothing was saved, and your edits are kept here. " +
      "Try again in a moment.", "error");
    return false;
  }
  state.busy = false;
  if (answer.ok) {
    forgetDraft();
    await keepingPlace(() => load());
    status(said(answer.body), "ok");
    return true;
  }
  lockRows();
  if (answer.status === 409) {
    status("");
    offer(answer.error.message, [["Reload", reloadLatest]], "conflict");
  } else if (answer.error.code === "bad_cue" && answer.error.cue) {
    showBadCue(answer.error.cue - 1, answer.error.message);
  } else {
    status(`Not saved: ${answer.error.message}`, "error");
  }
  return false;
}

export function showBadCue(index, message) {
  status(`Not saved: ${message}`, "error");
  if (index < 0 || index >= state.cues.length) return;
  const before = list.querySelector(".cue.bad");
  if (before) before.classList.remove("bad");
  state.badCue = index;
  rowAt(index).classList.add("bad");
  goTo(index, { seek: false });
}

export async function reloadLatest() {
  forgetDraft();
  hideOffer();
  await keepingPlace(() => load());
  status(`Showing revision ${state.shown.revision}, the latest.`);
}

// Look at an older revision (read-only); restoring it saves its cues over the latest.
export function offerRevision(revision) {
  offer(`Revision ${revision}, read-only: the latest is ${state.shown.latest}.`, [
    ["Restore this revision", () => restore(revision)],
    ["Back to the latest", () => keepingPlace(() => load()), "small secondary"],
  ]);
}

export async function restore(revision) {
  if (state.busy) return;
  let cues = state.cues;
  if (state.shown.revision !== revision) {
    const answer = await call(cuesUrl(revision)).catch(() => null);
    if (!answer || !answer.ok) {
      const why = answer ? answer.error.message : "no answer";
      status(`Could not read revision ${revision}: ${why}`, "error");
      return;
    }
    cues = answer.body.cues;
  }
  hideOffer();
  await put(cues, state.shown.latest,
    (saved) => `Revision ${revision} restored as revision ${saved.revision}: ${saved.summary}.`);
}

// --- unsaved edits kept in the browser ---

export const draftKey = (revision) =>
  `subcue:draft:${jobId}:${state.target.file_id}:${state.target.language}:${revision}`;

export function keepDraft() {
  if (!state.shown || state.readOnly || state.draftOffered) return;
  try {
    const key = draftKey(state.shown.revision);
    if (dirty()) {
      const draft = { at: new Date().toISOString(), cues: state.cues };
      localStorage.setItem(key, JSON.stringify(draft));
    } else {
      localStorage.removeItem(key);
    }
  } catch (err) {
    // storage full or turned off: leaving the page still asks first
  }
}

export function forgetDraft() {
  try {
    localStorage.removeItem(draftKey(state.shown.revision));
  } catch (err) {
    // nothing kept
  }
}

// Edits made from a revision before the latest can no longer be saved (another save came
// after them): drop them.
export function forgetOlderDrafts() {
  try {
    for (let k = 0; k < state.shown.latest; k += 1) localStorage.removeItem(draftKey(k));
  } catch (err) {
    // nothing kept
  }
}

export function offerDraft() {
  let draft = null;
  try {
    draft = JSON.parse(localStorage.getItem(draftKey(state.shown.revision)) || "null");
  } catch (err) {
    draft = null;
  }
  const valid = draft && Array.isArray(draft.cues) && draft.cues.length &&
    draft.cues.every((c) => c && typeof c.text === "string" && Number.isFinite(c.start) &&
      Number.isFinite(c.end));
  if (!valid || fingerprint(draft.cues) === state.saved) {
    if (draft) forgetDraft();
    return;
  }
  state.draftOffered = true;
  lockRows();
  const when = typeof ago === "function" && draft.at ? ` (${ago(draft.at)})` : "";
  const revision = state.shown.revision;
  offer(`This browser kept edits of revision ${revision} that were not saved${when}.`, [
    ["Restore unsaved edits", () => {
      state.draftOffered = false;
      state.cues = draft.cues.map((c) => ({
        ...c,
        check: Array.isArray(c.check) ? c.check : [],
      }));
      hideOffer();
      renderList();
      changed();
      status("Unsaved edits restored: save them with Ctrl+S.");
    }],
    ["Discard", () => {
      state.draftOffered = false;
      forgetDraft();
      hideOffer();
      lockRows();
      status("The kept edits were discarded.");
    }, "small secondary"],
  ]);
}
