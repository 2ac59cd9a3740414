// The session page: its files and jobs; upload more, start a job, delete a job or the session.
// Each job's row is made once and then updated in place (a Delete button is never replaced
// under the pointer); jobs still working are followed through their event streams, as the job
// page does, with polling only while a stream is refused or down, and nothing once all ended.
"use strict";

const sessionId = document.getElementById("session").dataset.sessionId;
const $ = (id) => document.getElementById(id);
const POLL_MS = 3000;

const rows = new Map(); // job id -> {li, link, badge, time, status}
const streams = new Map(); // job id -> EventSource
let pollTimer = null;

function showError(message) {
  $("session-error").textContent = message;
  $("session-error").hidden = !message;
}

function item(text, href) {
  const li = document.createElement("li");
  const label = document.createElement(href ? "a" : "span");
  if (href) label.href = href;
  label.textContent = text;
  li.append(label);
  return li;
}

// --- what a job over the session's files would cost ---

let filesSeen = null; // the media durations and the subtitle files' sizes, as last estimated

async function showEstimate() {
  const form = $("start-job");
  const line = form.querySelector(".estimate");
  if (!filesSeen || !(filesSeen.durations.length || filesSeen.subtitles.length)) {
    line.textContent = "";
    return;
  }
  try {
    line.textContent = await estimateLine({
      ...filesSeen,
      engine: form.engine.value,
      translator: chosenTranslator(form),
      languages: chosenLanguages(form),
      kind: form.kind.value,
      sessionId, // its glossary goes with every call
    });
  } catch (err) {
    line.textContent = `No estimate: ${err.message}`;
  }
}

$("start-job").addEventListener("choices", showEstimate);
$("start-job").kind.addEventListener("change", showEstimate);

const isSubtitles = (f) => f.kind === "subtitles";

// "talk.mp4 — 61.2 s, 3.1 MB"; a subtitle file has cues, not a length to play
function fileLine(f) {
  if (!isSubtitles(f)) return `${f.name} — ${f.duration_s.toFixed(1)} s, ${size(f.size)}`;
  const format = (f.format || f.name.split(".").pop()).toUpperCase();
  const cues = `${f.cues} cue${f.cues === 1 ? "" : "s"}`;
  return `${f.name} — ${format} subtitles, ${cues}, ${size(f.size)}`;
}

function showFiles(files) {
  const seen = {
    durations: files.filter((f) => !isSubtitles(f)).map((f) => f.duration_s),
    subtitles: files.filter(isSubtitles).map((f) => f.size),
  };
  if (JSON.stringify(seen) !== JSON.stringify(filesSeen)) {
    filesSeen = seen; // a file was added: estimate again
    showEstimate();
  }
  const list = $("files");
  const ids = files.map((f) => f.id).join();
  if (list.dataset.ids === ids) return; // unchanged: leave the links alone
  list.dataset.ids = ids;
  list.innerHTML = "";
  if (!files.length) list.append(item("No files yet."));
  for (const f of files) {
    const li = item(fileLine(f), f.url);
    li.dataset.kind = f.kind || "media";
    list.append(li);
  }
}

function row(job) {
  let found = rows.get(job.id);
  if (found) return found;
  const li = document.createElement("li");
  li.dataset.jobId = job.id;
  const link = document.createElement("a");
  link.href = `/jobs/${job.id}`;
  const badge = document.createElement("span");
  const time = document.createElement("span");
  time.className = "muted when";
  const remove = document.createElement("button");
  remove.textContent = "Delete";
  remove.className = "danger small";
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await api(`/api/jobs/${job.id}`, { method: "DELETE" });
      forget(job.id);
    } catch (err) {
      showError(err.message);
      remove.disabled = false;
    }
  });
  li.append(link, " ", badge, time, " ", remove);
  found = { li, link, badge, time };
  rows.set(job.id, found);
  return found;
}

function showJob(job) {
  const r = row(job);
  r.link.textContent = job.description || job.kind;
  r.status = job.status;
  r.badge.className = `badge ${job.status}`;
  r.badge.textContent = statusWord(job.status);
  r.time.textContent = ` · ${when(job)}`;
  r.time.title = job.created_at;
  if (isActive(job.status)) follow(job.id);
  else unfollow(job.id);
}

function showJobs(jobs) {
  const list = $("session-jobs");
  for (const job of jobs) showJob(job);
  for (const id of [...rows.keys()]) {
    if (!jobs.some((j) => j.id === id)) forget(id); // deleted elsewhere
  }
  // newest first, moving only rows that are out of place
  jobs.forEach((job, index) => {
    const li = rows.get(job.id).li;
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
  });
  $("no-jobs").hidden = jobs.length > 0;
}

function forget(id) {
  unfollow(id);
  const r = rows.get(id);
  if (r) r.li.remove();
  rows.delete(id);
  $("no-jobs").hidden = rows.size > 0;
}

// --- following jobs that are still working ---

function follow(id) {
  if (streams.has(id) || !window.EventSource) {
    if (!window.EventSource) startPolling();
    return;
  }
  const source = new EventSource(`/api/jobs/${id}/events`);
  streams.set(id, source);
  source.onmessage = (event) => showJob(JSON.parse(event.data));
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      streams.delete(id); // refused (too many streams, say): polling takes over
      startPolling();
    } else {
      startPolling(); // reconnecting on its own; stay live meanwhile
    }
  };
}

function unfollow(id) {
  const source = streams.get(id);
  if (source) source.close();
  streams.delete(id);
  if (![...rows.values()].some((r) => isActive(r.status))) stopPolling();
}

function startPolling() {
  if (!pollTimer) pollTimer = setInterval(load, POLL_MS);
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

async function load() {
  let session;
  try {
    session = await api(`/api/sessions/${sessionId}`);
  } catch (err) {
    showError(err.message);
    return;
  }
  showFiles(session.files);
  showJobs(session.jobs);
  if (!glossaryShown) showGlossary(session.glossary || []); // later loads keep the edits
  const healthy = session.jobs.filter((j) => isActive(j.status)).every((j) => {
    const source = streams.get(j.id);
    return source && source.readyState === EventSource.OPEN;
  });
  if (healthy) stopPolling();
}

// --- forms ---

$("add-files").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  try {
    await api(`/api/sessions/${sessionId}/files`, {
      method: "POST",
      body: new FormData(event.target),
    });
    event.target.reset();
  } catch (err) {
    showError(err.message);
  }
  load();
});

$("start-job").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const data = new FormData(event.target);
  const form = {
    ...Object.fromEntries(data),
    target_languages: data.getAll("target_languages"),
    bilingual: data.get("bilingual") === "true",
    speaker_names: data.get("speaker_names") === "true",
  };
  try {
    await api(`/api/sessions/${sessionId}/jobs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...form, keep_running: true }),
    });
  } catch (err) {
    showError(err.message);
  }
  load();
});

// --- the glossary: a row per term, saved all at once (PUT replaces it) ---

const GLOSSARY_FIELDS = { term: 100, translation: 100, note: 200 }; // most characters each
const GLOSSARY_WORDS = { term: "Term", translation: "Translation", note: "Note" };
const GLOSSARY_ENTRIES = 200;
let glossaryShown = false;

function glossaryStatus(text, className = "") {
  $("glossary-status").textContent = text;
  $("glossary-status").className = className;
}

function glossaryRow(entry = {}) {
  const tr = document.createElement("tr");
  const number = document.createElement("td");
  number.className = "number muted";
  tr.append(number);
  for (const [field, limit] of Object.entries(GLOSSARY_FIELDS)) {
    const cell = document.createElement("td");
    const input = document.createElement("input");
    input.type = "text";
    input.name = field;
    input.maxLength = limit;
    input.value = entry[field] || "";
    if (field === "note") input.placeholder = "optional";
    cell.append(input);
    tr.append(cell);
  }
  const cell = document.createElement("td");
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "small secondary remove";
  remove.textContent = "Remove";
  remove.addEventListener("click", () => {
    tr.remove();
    glossaryChanged();
  });
  cell.append(remove);
  tr.append(cell);
  return tr;
}

// Rows are numbered as the API numbers entries in its messages ("entry 3 has no term").
function renumberGlossary() {
  const rowsShown = [...$("glossary").tBodies[0].rows];
  rowsShown.forEach((tr, index) => {
    tr.cells[0].textContent = String(index + 1);
    for (const input of tr.querySelectorAll("input")) {
      input.setAttribute("aria-label", `${GLOSSARY_WORDS[input.name]} ${index + 1}`);
    }
  });
  $("glossary").hidden = !rowsShown.length;
  $("glossary-empty").hidden = rowsShown.length > 0;
  $("glossary-add").disabled = rowsShown.length >= GLOSSARY_ENTRIES;
}

function glossaryChanged() {
  renumberGlossary();
  glossaryStatus("Not saved yet.", "muted");
}

function showGlossary(entries) {
  glossaryShown = true;
  const body = $("glossary").tBodies[0];
  body.innerHTML = "";
  for (const entry of entries) body.append(glossaryRow(entry));
  renumberGlossary();
}

$("glossary-add").addEventListener("click", () => {
  const tr = glossaryRow();
  $("glossary").tBodies[0].append(tr);
  glossaryChanged();
  tr.querySelector("input").focus();
});

$("glossary").addEventListener("input", (event) => {
  event.target.closest("tr").classList.remove("invalid");
  glossaryStatus("Not saved yet.", "muted");
});

$("glossary-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = $("glossary").tBodies[0];
  for (const tr of [...body.rows]) {
    if ([...tr.querySelectorAll("input")].every((i) => !i.value.trim())) tr.remove(); // blank
  }
  renumberGlossary();
  const glossary = [...body.rows].map((tr) =>
    Object.fromEntries([...tr.querySelectorAll("input")].map((i) => [i.name, i.value.trim()])),
  );
  $("glossary-save").disabled = true;
  for (const tr of body.rows) tr.classList.remove("invalid");
  glossaryStatus("Saving…", "muted");
  try {
    const saved = await api(`/api/sessions/${sessionId}/glossary`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ glossary }),
    });
    showGlossary(saved.glossary);
    const n = saved.glossary.length;
    glossaryStatus(`Saved: ${n} term${n === 1 ? "" : "s"}.`, "finished");
    showEstimate(); // every call carries the glossary: the estimate changes with it
  } catch (err) {
    glossaryStatus(err.message, "error");
    // "Glossary entry 3 has no term.": mark that row (the rows are numbered as the API counts)
    const found = /entry (\d+)/.exec(err.message);
    const wrong = found && body.rows[Number(found[1]) - 1];
    if (wrong) wrong.classList.add("invalid");
  } finally {
    $("glossary-save").disabled = false;
  }
});

$("delete-session").addEventListener("click", async () => {
  if (!window.confirm("Delete this session, its files and every job's results?")) return;
  try {
    await api(`/api/sessions/${sessionId}`, { method: "DELETE" });
    window.location.assign("/");
  } catch (err) {
    showError(err.message);
  }
});

load();
