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
"use strict";

(() => {
  const root = document.getElementById("editor");
  const jobPage = document.getElementById("job");
  if (!root || !jobPage) return;
  const jobId = jobPage.dataset.jobId;

  const POLL_MS = 2000;
  const END_LEAD_S = 0.5; // after moving an end, the player shows the cue this long before it
  const STRUCTURE_TRACK_MS = 250; // the player's track follows the edits this long after them
  const VIDEO_FORMATS = ["mkv", "mp4"];
  const REMADE_FORMATS = ["srt", "vtt", "json"]; // what a save writes again
  const { REASONS, clock, sent } = CueEdit;

  // One cue's row; its buttons are not tab stops (Tab goes from text to text), keys do it all.
  const ROW = `
    <span class="cue-number"></span>
    <div class="cue-times">
      <span class="cue-time"><button type="button" class="nudge" data-edge="start"
        data-step="-1" tabindex="-1" title="Start 0.1 s earlier (Alt+[)"
        aria-label="Start earlier">−</button><button type="button" class="cue-start"
        tabindex="-1" title="Play from here"></button><button type="button" class="nudge"
        data-edge="start" data-step="1" tabindex="-1" title="Start 0.1 s later (Alt+])"
        aria-label="Start later">+</button></span>
      <span class="cue-time"><button type="button" class="nudge" data-edge="end" data-step="-1"
        tabindex="-1" title="End 0.1 s earlier (Alt+Shift+[)"
        aria-label="End earlier">−</button><span class="cue-end"></span><button type="button"
        class="nudge" data-edge="end" data-step="1" tabindex="-1"
        title="End 0.1 s later (Alt+Shift+])" aria-label="End later">+</button></span>
      <span class="cue-length"></span>
    </div>
    <div class="cue-body">
      <input class="cue-speaker" maxlength="85" spellcheck="false" placeholder="speaker"
        title="Who speaks (two people: Anna / Marco)">
      <textarea class="cue-text" rows="1" spellcheck="true"></textarea>
      <p class="cue-source"></p>
      <p class="cue-reasons"></p>
    </div>
    <div class="cue-actions">
      <button type="button" class="split" tabindex="-1" title="Split at the caret (Alt+Enter).
The time: the player’s when it is inside this cue, else in proportion to the text.">Split</button>
      <button type="button" class="merge" tabindex="-1"
        title="Merge with the next cue (Alt+M)">Merge</button>
      <button type="button" class="delete" tabindex="-1" title="Delete this cue">Delete</button>
    </div>`;

  const state = {
    targets: [], // what can be edited: [{file_id, language, name}]
    target: null, // the one on screen
    shown: null, // the GET answer on screen (revision, latest, duration_s, style)
    cues: [], // its cues as edited: {start, end, text, source_text, unsure, check, edited}
    saved: "", // the shown revision's cues as a save would send them: unsaved edits differ
    readOnly: false, // an older revision, looked at
    draftOffered: false, // edits kept from before are offered: editing waits for the answer
    current: 0, // the cue being worked on
    speaking: -1, // the cue the player is in
    busy: false, // a save or a load is under way
    badCue: -1, // the cue the last save was refused for
    undo: null, // the cues before the last split, merge or delete
    undoMessage: "", // what that edit did
  };

  const $ = (id) => document.getElementById(id);
  const list = $("editor-cues");
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const languages = (() => {
    const data = document.getElementById("languages"); // job.html's code -> name, if there
    try {
      return data ? JSON.parse(data.textContent) : {};
    } catch (err) {
      return {};
    }
  })();
  const languageName = (code) => (languages[code] ? `${languages[code]} (${code})` : code);

  // A request's status and JSON body (the API's error object when it failed); a network
  // failure throws.
  async function call(url, options = {}) {
    const response = await fetch(url, { cache: "no-store", ...options });
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      // not JSON: the status says enough
    }
    const error = (body && body.error) || { message: response.statusText };
    return { ok: response.ok, status: response.status, body, error };
  }

  const cuesUrl = (revision = null) => {
    const query = new URLSearchParams({
      file: state.target.file_id,
      language: state.target.language,
    });
    if (revision !== null) query.set("revision", String(revision));
    return `/api/jobs/${jobId}/cues?${query}`;
  };

  const fingerprint = (cues) => JSON.stringify(sent(cues));
  const dirty = () =>
    Boolean(state.shown) && !state.readOnly && fingerprint(state.cues) !== state.saved;
  const editable = () =>
    Boolean(state.shown) && !state.readOnly && !state.draftOffered && !state.busy;

  // --- waiting for the job ---

  // A change of job.js's status badge (it follows the job's events): cheaper than polling.
  // `seen` is the status last read from the API; while the badge shows another (not drawn
  // yet, or already past it), look again after the polling interval.
  function statusChange(seen) {
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

  async function finishedJob() {
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
  function targetsOf(job, files) {
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

  async function start() {
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
  function noteWhatIsNotRemade(job, files) {
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
  async function load(revision = null) {
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
    if (state.readOnly) offerRevision(shown.revision);
    else {
      forgetOlderDrafts();
      offerDraft();
    }
    return true;
  }

  // Do `work` (a reload, a re-render) keeping the list where it was and the caret in its cue.
  async function keepingPlace(work) {
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

  // --- the list ---

  const rowAt = (index) => list.children[index] || null;
  const indexOf = (element) => {
    const row = element && element.closest ? element.closest("#editor-cues .cue") : null;
    return row ? Number(row.dataset.index) : -1;
  };

  function renderList() {
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

  function fillRow(row, cue, index) {
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

  function fillTimes(row, cue) {
    row.querySelector(".cue-start").textContent = clock(cue.start);
    row.querySelector(".cue-end").textContent = clock(cue.end);
    row.querySelector(".cue-length").textContent = `${(cue.end - cue.start).toFixed(1)} s`;
  }

  // The source text (where it differs), the reasons to look at the cue, and the marks.
  function fillNotes(row, cue) {
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

  function setCurrent(index) {
    const before = list.querySelector(".cue.current");
    if (before) before.classList.remove("current");
    state.current = Math.max(0, index);
    const row = rowAt(state.current);
    if (row) row.classList.add("current");
  }

  // Scroll the list (only the list) so the row is in it, a third of the way down.
  function reveal(row) {
    if (!row) return;
    const top = row.offsetTop;
    const bottom = top + row.offsetHeight;
    if (top < list.scrollTop || bottom > list.scrollTop + list.clientHeight) {
      list.scrollTop = Math.max(0, top - list.clientHeight / 3);
    }
  }

  // Move to a cue: in view, its text focused (the caret at `caret`, else its end), the
  // player at its start unless `seek` is false.
  function goTo(index, { seek = true, caret = null } = {}) {
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
  function cueInHand() {
    const focused = indexOf(document.activeElement);
    if (focused >= 0) return focused;
    const m = media();
    if (m && !m.paused && state.speaking >= 0) return state.speaking;
    return Math.min(state.current, state.cues.length - 1);
  }

  // --- the bar above the list, the head, messages ---

  function renderState() {
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
  function status(text, kind = "", action = null) {
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
  function offer(text, actions, kind = "") {
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

  function hideOffer() {
    $("editor-offer").hidden = true;
  }

  function lockRows() {
    for (const text of list.querySelectorAll(".cue-text, .cue-speaker")) {
      text.readOnly = !editable();
    }
    renderState();
  }

  function renderPickers() {
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

  function renderRevisions() {
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

  // --- edits ---

  // After any edit: the bar, the kept draft, the player's track.
  function changed() {
    renderState();
    keepDraft();
    scheduleTrack();
  }

  function editText(index, value) {
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
  function markChecked(index, refresh = true) {
    const cue = state.cues[index];
    cue.unsure = false;
    cue.check = cue.check.filter((code) => code !== "unsure");
    if (refresh) {
      fillNotes(rowAt(index), cue);
      changed();
    }
  }

  // Move a cue's start or end by `step` nudges (CueEdit.nudged); the player follows.
  function nudge(index, edge, step) {
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

  // Split a cue at the caret in its text (CueEdit.split); the caret goes to the second part.
  function split(index) {
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
  function merge(index) {
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

  function remove(index) {
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
  function remember(done) {
    state.undo = { cues: JSON.parse(JSON.stringify(state.cues)), current: state.current };
    state.undoMessage = done;
  }

  // A later edit: putting the cues back as they were before the split would lose it.
  function forgetUndo() {
    if (!state.undo) return;
    state.undo = null;
    status("");
  }

  function restructured() {
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

  function refuse() {
    if (state.draftOffered) status("First restore or discard the edits kept from before.");
    else if (state.readOnly) {
      status("This revision is read-only: restore it, or go back to the latest.");
    }
  }

  async function discard() {
    if (!window.confirm("Discard your unsaved edits?")) return;
    forgetDraft();
    await keepingPlace(() => load());
    status("Edits discarded.");
  }

  // --- saving ---

  async function save() {
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
  async function put(cues, base, said) {
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

  function showBadCue(index, message) {
    status(`Not saved: ${message}`, "error");
    if (index < 0 || index >= state.cues.length) return;
    const before = list.querySelector(".cue.bad");
    if (before) before.classList.remove("bad");
    state.badCue = index;
    rowAt(index).classList.add("bad");
    goTo(index, { seek: false });
  }

  async function reloadLatest() {
    forgetDraft();
    hideOffer();
    await keepingPlace(() => load());
    status(`Showing revision ${state.shown.revision}, the latest.`);
  }

  // Look at an older revision (read-only); restoring it saves its cues over the latest.
  function offerRevision(revision) {
    offer(`Revision ${revision}, read-only: the latest is ${state.shown.latest}.`, [
      ["Restore this revision", () => restore(revision)],
      ["Back to the latest", () => keepingPlace(() => load()), "small secondary"],
    ]);
  }

  async function restore(revision) {
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

  const draftKey = (revision) =>
    `subcue:draft:${jobId}:${state.target.file_id}:${state.target.language}:${revision}`;

  function keepDraft() {
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

  function forgetDraft() {
    try {
      localStorage.removeItem(draftKey(state.shown.revision));
    } catch (err) {
      // nothing kept
    }
  }

  // Edits made from a revision before the latest can no longer be saved (another save came
  // after them): drop them.
  function forgetOlderDrafts() {
    try {
      for (let k = 0; k < state.shown.latest; k += 1) localStorage.removeItem(draftKey(k));
    } catch (err) {
      // nothing kept
    }
  }

  function offerDraft() {
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

  // --- the player ---

  // job.js's player goes beside the list; job.js finds it by its id wherever it is.
  function adoptPlayer() {
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
  function figure() {
    const player = document.getElementById("player");
    if (!player || !state.target) return null;
    return player.querySelector(`:scope > figure[data-file-id="${state.target.file_id}"]`);
  }

  function media() {
    const found = figure();
    return found ? found.querySelector("video, audio") : null;
  }

  const following = new WeakSet();

  // Only the edited file's player is shown; none (a subtitle file): the list takes the width.
  function showFigures() {
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
  function markSpeaking() {
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

  function seekTo(seconds) {
    const m = media();
    if (m) m.currentTime = seconds;
  }

  function playFrom(seconds) {
    const m = media();
    if (!m) return;
    m.currentTime = seconds;
    m.play().catch(() => {});
  }

  function togglePlay() {
    const m = media();
    if (!m) return;
    if (m.paused) m.play().catch(() => {});
    else m.pause();
  }

  // The <track> of the file and language being edited.
  function trackElement() {
    const found = figure();
    if (!found || !state.target) return null;
    return found.querySelector(`track[data-language="${CSS.escape(state.target.language)}"]`);
  }

  let trackTimer = null;
  function scheduleTrack() {
    clearTimeout(trackTimer);
    trackTimer = setTimeout(syncTrack, STRUCTURE_TRACK_MS);
  }

  // The track shows the cues as they are on screen, edits included (the file it loaded is the
  // revision saved before).
  function syncTrack() {
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
  function showTrack() {
    const found = figure();
    if (!found) return;
    for (const element of found.querySelectorAll("track")) {
      const chosen = element.dataset.language === state.target.language;
      element.track.mode = chosen ? "showing" : "hidden";
    }
  }

  async function pick(fileId, language) {
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

  const KEYS = {
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
    nextToCheck,
  };

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

  function nextToCheck() {
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

  list.addEventListener("input", (event) => {
    if (event.target.classList.contains("cue-speaker")) {
      editSpeaker(indexOf(event.target), event.target.value);
      return;
    }
    if (!event.target.classList.contains("cue-text")) return;
    editText(indexOf(event.target), event.target.value);
  });

  function editSpeaker(index, value) {
    forgetUndo();
    const cue = state.cues[index];
    cue.speakers = CueEdit.speakersOf(value);
    cue.edited = true;
    renderSpeakers();
    changed();
  }

  // The rename picker lists every speaker of the cues.
  function renderSpeakers() {
    const names = [...new Set(state.cues.flatMap((c) => c.speakers || []))].sort();
    const picker = $("editor-speaker-from");
    const chosen = picker.value;
    picker.replaceChildren(...names.map((name) => new Option(name, name)));
    if (names.includes(chosen)) picker.value = chosen;
    $("editor-speakers").hidden = !names.length;
  }

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
})();
