// The list of cues: its rows drawn and filled, the cue in hand, the status line and offers,
// the pickers of file, language and revision, speakers, the next cue to check.
import { markSpeaking, media, seekTo } from "./player.js";
import {
  $, REASONS, ROW, clock, dirty, editable, languageName, list, root, state,
} from "./state.js";

// --- the list ---

export const rowAt = (index) => list.children[index] || null;
export const indexOf = (element) => {
  const row = element && element.closest ? element.closest("#editor-cues .cue") : null;
  return row ? Number(row.dataset.index) : -1;
};

export function renderList() {
  const rows = document.createDocumentFragment();
  state.cues.forEach((cue, index) => {
    const row = document.createElement("li");
    row.className = "cue";
    row.innerHTML = ROW;
    rows.append(row);
    fillRow(row, cue, index);
  });
  list.replaceChildren(rows);
  renderSpeakers();
  state.speaking = -1;
  markSpeaking();
  setCurrent(Math.min(state.current, state.cues.length - 1));
}

export function fillRow(row, cue, index) {
  row.dataset.index = String(index);
  row.querySelector(".cue-number").textContent = String(index + 1);
  const text = row.querySelector(".cue-text");
  text.value = cue.text;
  text.lang = state.target.language;
  text.readOnly = !editable();
  text.setAttribute("aria-label", `Cue ${index + 1}`);
  const speaker = row.querySelector(".cue-speaker");
  speaker.value = (cue.speakers || []).join(" / ");
  speaker.readOnly = !editable();
  speaker.setAttribute("aria-label", `Cue ${index + 1} speaker`);
  fillTimes(row, cue);
  fillNotes(row, cue);
  row.classList.toggle("bad", index === state.badCue);
}

export function fillTimes(row, cue) {
  row.querySelector(".cue-start").textContent = clock(cue.start);
  row.querySelector(".cue-end").textContent = clock(cue.end);
  row.querySelector(".cue-length").textContent = `${(cue.end - cue.start).toFixed(1)} s`;
}

// The source text (where it differs), the reasons to look at the cue, and the marks.
export function fillNotes(row, cue) {
  const source = row.querySelector(".cue-source");
  const words = (text) => (text || "").trim().replace(/\s+/g, " ");
  const original = words(cue.source_text);
  source.textContent = original;
  source.hidden = !original || original === words(cue.text); // a transcript: the same words
  const reasons = row.querySelector(".cue-reasons");
  reasons.replaceChildren(
    ...cue.check.map((code) => {
      const reason = document.createElement(code === "unsure" ? "button" : "span");
      reason.className = `reason ${code}`;
      reason.textContent = REASONS[code] || code.replace(/_/g, " ");
      if (code === "unsure") {
        reason.type = "button";
        reason.title = "The engine was not sure of this cue. Editing its text, or this " +
          "button, marks it as checked.";
        reason.setAttribute("aria-label", "unsure: mark as checked");
      } else if (cue.edited) {
        reason.title = "As of the last save: saving checks it again.";
      }
      return reason;
    }),
  );
  reasons.hidden = !cue.check.length;
  row.classList.toggle("marked", cue.check.length > 0);
  row.classList.toggle("edited", Boolean(cue.edited));
}

export function setCurrent(index) {
  const before = list.querySelector(".cue.current");
  if (before) before.classList.remove("current");
  state.current = Math.max(0, index);
  const row = rowAt(state.current);
  if (row) row.classList.add("current");
}

// Scroll the list (only the list) so the row is in it, a third of the way down.
export function reveal(row) {
  if (!row) return;
  const top = row.offsetTop;
  const bottom = top + row.offsetHeight;
  if (top < list.scrollTop || bottom > list.scrollTop + list.clientHeight) {
    list.scrollTop = Math.max(0, top - list.clientHeight / 3);
  }
}

// Move to a cue: in view, its text focused (the caret at `caret`, else its end), the
// player at its start unless `seek` is false.
export function goTo(index, { seek = true, caret = null } = {}) {
  if (!state.cues.length) return;
  index = Math.max(0, Math.min(index, state.cues.length - 1));
  setCurrent(index);
  const row = rowAt(index);
  reveal(row);
  const text = row.querySelector(".cue-text");
  text.focus({ preventScroll: true });
  const at = caret === null ? text.value.length : caret;
  text.setSelectionRange(at, at);
  const box = row.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) row.scrollIntoView({ block: "nearest" });
  if (seek) seekTo(state.cues[index].start);
}

// The cue a key acts on: the one holding the focus, else the one playing, else the current.
export function cueInHand() {
  const focused = indexOf(document.activeElement);
  if (focused >= 0) return focused;
  const m = media();
  if (m && !m.paused && state.speaking >= 0) return state.speaking;
  return Math.min(state.current, state.cues.length - 1);
}

// --- the bar above the list, the head, messages ---

export function renderState() {
  const shown = state.shown;
  const isDirty = dirty();
  let words = "";
  if (shown && state.readOnly) words = "Read-only";
  else if (shown) words = isDirty ? "Unsaved edits" : "All saved";
  $("editor-state").textContent = words;
  root.classList.toggle("dirty", isDirty);
  root.classList.toggle("read-only", state.readOnly || state.draftOffered);
  $("editor-save").disabled = !isDirty || state.busy || state.draftOffered;
  $("editor-discard").hidden = !isDirty;
  const settled = !isDirty && !state.busy;
  const why = settled ? "" : "Save or discard your edits first";
  for (const id of ["editor-revision", "editor-file", "editor-language"]) {
    $(id).disabled = !settled;
    $(id).title = why;
  }
  const undo = $("editor-undo");
  undo.hidden = !shown || shown.latest === 0 || state.readOnly;
  undo.disabled = !settled;
  undo.title = why || `Put back the cues of revision ${shown ? shown.latest - 1 : 0}`;
  const marked = state.cues.filter((c) => c.check.length).length;
  const counter = $("editor-to-check");
  counter.textContent = marked ? `${marked} to check` : "Nothing to check";
  counter.classList.toggle("none", !marked);
  $("editor-next-check").disabled = !marked;
}

// One line under the head: what just happened. `action`: [label, function] for a button.
export function status(text, kind = "", action = null) {
  const line = $("editor-status");
  line.className = `editor-status ${kind}`;
  line.textContent = text;
  if (action) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small secondary";
    button.textContent = action[0];
    button.addEventListener("click", () => {
      status("");
      action[1]();
    });
    line.append(" ", button);
  }
}

// A banner that wants an answer: [label, function, className] buttons.
export function offer(text, actions, kind = "") {
  $("editor-offer").className = `editor-offer ${kind}`;
  $("editor-offer-text").textContent = text;
  $("editor-offer-actions").replaceChildren(
    ...actions.map(([label, act, className = "small"]) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = className;
      button.textContent = label;
      button.addEventListener("click", act);
      return button;
    }),
  );
  $("editor-offer").hidden = false;
}

export function hideOffer() {
  $("editor-offer").hidden = true;
}

export function lockRows() {
  for (const text of list.querySelectorAll(".cue-text, .cue-speaker")) {
    text.readOnly = !editable();
  }
  renderState();
}

export function renderPickers() {
  const files = [...new Map(state.targets.map((t) => [t.file_id, t.name])).entries()];
  const fileSelect = $("editor-file");
  fileSelect.replaceChildren(...files.map(([id, name]) => new Option(name, id)));
  fileSelect.value = state.target.file_id;
  $("editor-file-field").hidden = files.length < 2;
  const here = state.targets.filter((t) => t.file_id === state.target.file_id);
  const languageSelect = $("editor-language");
  languageSelect.replaceChildren(
    ...here.map((t) => new Option(languageName(t.language), t.language)),
  );
  languageSelect.value = state.target.language;
  $("editor-language-field").hidden = here.length < 2;
}

export function renderRevisions() {
  const { revision, latest } = state.shown;
  const select = $("editor-revision");
  const options = [];
  for (let k = latest; k >= 0; k -= 1) {
    const notes = [k === latest ? "latest" : "", k === 0 ? "as made" : ""].filter(Boolean);
    options.push(new Option(notes.length ? `${k} (${notes.join(", ")})` : String(k), String(k)));
  }
  select.replaceChildren(...options);
  select.value = String(revision);
}

export function nextToCheck() {
  const count = state.cues.length;
  const from = cueInHand();
  for (let step = 1; step <= count; step += 1) {
    const index = (from + step) % count;
    if (state.cues[index].check.length) {
      goTo(index);
      return;
    }
  }
  status("Nothing to check.");
}

// The rename picker lists every speaker of the cues.
export function renderSpeakers() {
  const names = [...new Set(state.cues.flatMap((c) => c.speakers || []))].sort();
  const picker = $("editor-speaker-from");
  const chosen = picker.value;
  picker.replaceChildren(...names.map((name) => new Option(name, name)));
  if (names.includes(chosen)) picker.value = chosen;
  $("editor-speakers").hidden = !names.length;
}
