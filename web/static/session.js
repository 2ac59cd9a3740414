// The session page: its files and jobs; upload more, start a job, delete a job or the session.
"use strict";

const sessionId = document.getElementById("session").dataset.sessionId;
const $ = (id) => document.getElementById(id);

function showError(message) {
  $("session-error").textContent = message;
  $("session-error").hidden = !message;
}

async function call(method, url, body) {
  const response = await fetch(url, { method, body });
  if (response.status === 204) return null;
  const data = await response.json();
  if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
  return data;
}

function item(text, href) {
  const li = document.createElement("li");
  const label = document.createElement(href ? "a" : "span");
  if (href) label.href = href;
  label.textContent = text;
  li.append(label);
  return li;
}

async function load() {
  let session;
  try {
    session = await call("GET", `/api/sessions/${sessionId}`);
  } catch (err) {
    showError(err.message);
    return;
  }
  const files = $("files");
  files.innerHTML = "";
  for (const f of session.files) {
    files.append(item(`${f.name} — ${f.duration_s.toFixed(1)} s, ${(f.size / 1e6).toFixed(1)} MB`, f.url));
  }
  const jobs = $("session-jobs");
  jobs.innerHTML = "";
  if (!session.jobs.length) jobs.append(item("No jobs yet."));
  for (const job of session.jobs) {
    const li = item(`${job.description || job.kind} — ${job.status}`, `/jobs/${job.id}`);
    const remove = document.createElement("button");
    remove.textContent = "Delete";
    remove.className = "danger small";
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      try { await call("DELETE", `/api/jobs/${job.id}`); } catch (err) { showError(err.message); }
      load();
    });
    li.append(" ", remove);
    jobs.append(li);
  }
}

$("add-files").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  try {
    await call("POST", `/api/sessions/${sessionId}/files`, new FormData(event.target));
    event.target.reset();
  } catch (err) { showError(err.message); }
  load();
});

$("start-job").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const form = Object.fromEntries(new FormData(event.target));
  try {
    const response = await fetch(`/api/sessions/${sessionId}/jobs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ...form, keep_running: true }),
    });
    const job = await response.json();
    if (!response.ok) throw new Error(job.error.message);
  } catch (err) { showError(err.message); }
  load();
});

$("delete-session").addEventListener("click", async () => {
  if (!window.confirm("Delete this session, its files and every job's results?")) return;
  try {
    await call("DELETE", `/api/sessions/${sessionId}`);
    window.location.assign("/");
  } catch (err) { showError(err.message); }
});

load();
setInterval(load, 3000);
