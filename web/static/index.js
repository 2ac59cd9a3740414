// The upload form: start a job, then go to its page. Also shows the last job this browser
// opened (from localStorage) and the owner's jobs, refreshed while any of them is still working.
"use strict";

const LAST_JOB = "subcue:lastJob";
const REFRESH_MS = 2000;

let refreshTimer = null;

function statusText(job) {
  const p = job.progress || {};
  if (job.status === "running" && p.total) return `running, ${p.done} of ${p.total} steps`;
  if (job.status === "cancelled" && job.error && job.error.code === "abandoned") {
    return "cancelled: its page was closed";
  }
  return statusWord(job.status);
}

function jobLink(job) {
  const link = document.createElement("a");
  link.href = `/jobs/${job.id}`;
  link.textContent = job.description || job.id;
  return link;
}

function statusBadge(job) {
  const status = document.createElement("span");
  status.className = `badge ${job.status}`;
  status.textContent = statusText(job);
  return status;
}

async function refresh() {
  clearTimeout(refreshTimer);
  const [jobs, last] = await Promise.all([loadJobs(), showLastJob(), showUsage()]);
  const busy = [...jobs, ...(last ? [last] : [])].some((job) => isActive(job.status));
  if (busy) refreshTimer = setTimeout(refresh, REFRESH_MS);
}

async function loadJobs() {
  const list = document.getElementById("jobs");
  try {
    const body = await api("/api/jobs");
    list.innerHTML = "";
    if (!body.jobs.length) list.innerHTML = '<li class="muted">No jobs yet.</li>';
    for (const job of body.jobs) {
      const item = document.createElement("li");
      item.dataset.jobId = job.id;
      const time = document.createElement("span");
      time.className = "muted when";
      time.textContent = ` · ${when(job)}`;
      time.title = job.created_at;
      item.append(jobLink(job), " ", statusBadge(job), time);
      if (job.params && job.params.keep_running) {
        const keep = document.createElement("span");
        keep.className = "muted";
        keep.textContent = " · keeps running";
        item.append(keep);
      }
      list.append(item);
    }
    return body.jobs;
  } catch (err) {
    list.innerHTML = "";
    const item = document.createElement("li");
    item.className = "error";
    item.textContent = `Could not load your jobs: ${err.message}`;
    list.append(item);
    return [];
  }
}

async function showLastJob() {
  const id = localStorage.getItem(LAST_JOB);
  if (!id) return null;
  let job;
  try {
    job = await api(`/api/jobs/${id}`);
  } catch (err) {
    if (err.status === 404) {
      localStorage.removeItem(LAST_JOB); // deleted, or another owner's: nothing to come back to
      document.getElementById("last-job").hidden = true;
    }
    return null;
  }
  const line = document.getElementById("last-job-line");
  line.innerHTML = "";
  line.append("Your last job: ", jobLink(job), " ", statusBadge(job));
  document.getElementById("last-job").hidden = false;
  return job;
}

document.getElementById("upload").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("form-error");
  const button = document.getElementById("submit");
  error.hidden = true;
  button.disabled = true;
  button.textContent = "Uploading…";
  const data = new FormData(form);
  data.set("keep_running", document.getElementById("keep_running").checked ? "true" : "false");
  try {
    const body = await api("/api/jobs", { method: "POST", body: data });
    localStorage.setItem(LAST_JOB, body.id);
    window.location.assign(`/jobs/${body.id}`);
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
    button.disabled = false;
    button.textContent = "Start";
  }
});

// --- the estimate: as soon as files are chosen, and again when any choice changes ---

let estimateRound = 0;

async function showEstimate() {
  const form = document.getElementById("upload");
  const line = document.getElementById("estimate");
  const files = [...document.getElementById("file").files];
  const round = ++estimateRound;
  if (!files.length) {
    line.textContent = "";
    return;
  }
  line.textContent = "Estimating…";
  const media = files.filter((f) => !isSubtitleFile(f.name));
  const durations = await Promise.all(media.map(mediaDuration));
  if (round !== estimateRound) return; // a newer choice is being estimated
  if (durations.some((d) => d === null)) {
    line.textContent = "This browser cannot read the length of that file: no estimate.";
    return;
  }
  try {
    const text = await estimateLine({
      durations,
      engine: form.engine.value,
      translator: chosenTranslator(form),
      languages: chosenLanguages(form),
      subtitles: files.filter((f) => isSubtitleFile(f.name)).map((f) => f.size),
    });
    if (round === estimateRound) line.textContent = text;
  } catch (err) {
    if (round === estimateRound) line.textContent = `No estimate: ${err.message}`;
  }
}

document.getElementById("file").addEventListener("change", showEstimate);
document.getElementById("upload").addEventListener("choices", showEstimate);

// --- what the owner has spent today, and the budget left ---

async function showUsage() {
  const line = document.getElementById("usage-line");
  try {
    const u = await api("/api/usage");
    // the engines that spent, or made remote calls (an LLM priced at $0 counts its calls too)
    const paid = Object.entries(u.today.engines).filter(
      ([name, e]) => e.cost_usd > 0 || (name !== "local" && e.engine_calls > 0),
    );
    const calls = paid
      .map(([name, e]) => `${name}: ${e.engine_calls} call${e.engine_calls === 1 ? "" : "s"}`)
      .join(", ");
    const parts = [`Spent today: ${usd(u.today.cost_usd)}${calls ? ` (${calls})` : ""}`];
    parts.push(`this month: ${usd(u.month.cost_usd)}`);
    const b = u.budget;
    if (b.owner_left_usd !== null) {
      parts.push(`${usd(b.owner_left_usd)} left of your ${usd(b.owner_daily_usd)} daily budget`);
    }
    line.textContent = `${parts.join(" · ")}.`;
  } catch (err) {
    line.textContent = "";
  }
}

// Back from the back/forward cache: statuses moved on meanwhile.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    document.getElementById("submit").disabled = false;
    document.getElementById("submit").textContent = "Start";
    refresh();
  }
});

refresh();
