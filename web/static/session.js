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

let fileDurations = "";

async function showEstimate() {
  const form = $("start-job");
  const line = form.querySelector(".estimate");
  const durations = fileDurations ? fileDurations.split(",").map(Number) : [];
  if (!durations.length) {
    line.textContent = "";
    return;
  }
  try {
    line.textContent = await estimateLine(
      durations, form.engine.value, form.target_language.value, form.kind.value);
  } catch (err) {
    line.textContent = `No estimate: ${err.message}`;
  }
}

$("start-job").addEventListener("choices", showEstimate);
$("start-job").kind.addEventListener("change", showEstimate);

function showFiles(files) {
  const durations = files.map((f) => f.duration_s).join(",");
  if (durations !== fileDurations) {
    fileDurations = durations; // a file was added: estimate again
    showEstimate();
  }
  const list = $("files");
  const ids = files.map((f) => f.id).join();
  if (list.dataset.ids === ids) return; // unchanged: leave the links alone
  list.dataset.ids = ids;
  list.innerHTML = "";
  if (!files.length) list.append(item("No files yet."));
  for (const f of files) {
    list.append(item(`${f.name} — ${f.duration_s.toFixed(1)} s, ${size(f.size)}`, f.url));
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
  const form = Object.fromEntries(new FormData(event.target));
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
