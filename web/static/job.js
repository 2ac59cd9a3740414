// The job page: live progress (SSE, polling as fallback), cancel and retry, the result, and
// what leaving does.
//
// A job started from the page (keep_running=false) lives only as long as its page:
// - leaving (close, reload, navigate away) while it is queued or running warns first
//   (beforeunload) and, if the user leaves anyway, cancels it with a beacon on `pagehide`;
// - hiding the tab does nothing: the open event stream (server side) and a heartbeat from a
//   dedicated worker (whose timers background tabs do not throttle to once a minute) keep the
//   job's lease alive; a page that vanishes without a word (crash, killed browser, sleeping
//   laptop) stops renewing it, and the server cancels the job as `abandoned` after
//   LEASE_SECONDS.
// "Keep running after I leave" (keep_running=true) opts out of all of this.
// Everything shown comes from the server, so a reload shows what really happened. The players
// are job-player.js's.
"use strict";

const root = document.getElementById("job");
const jobId = root.dataset.jobId;
const leaseSeconds = Number(root.dataset.leaseSeconds) || 60;
const POLL_MS = 2000;
const STREAM_RETRY_MS = 15000;
const LAST_JOB = "subcue:lastJob";

let job = null; // the last Job the server told us about
let retrying = false; // a retry is on its way: the next non-terminal state is not stale
let endedBefore = null; // when the run before the last retry ended: its news is stale
let stream = null;
let streamRetry = null;
let pollTimer = null;
let heartbeat = null;
let resultShown = false;

const $ = (id) => document.getElementById(id);
// code -> English name, as jobs/subtitles/languages.py has them
const LANGUAGES = JSON.parse(document.getElementById("languages").textContent);
// Queued or running: what leaving the page would cancel ("cancelling" is already on its way).
const processing = () => job !== null && isActive(job.status) && job.status !== "cancelling";
// Only a page-owned job is guarded: API jobs default to keep_running=true.
const guarded = () => processing() && job.params.keep_running === false;

localStorage.setItem(LAST_JOB, jobId);

// An answer that was on its way while a newer one arrived (a poll racing the stream) would
// move the page backwards; ignore it.
function stale(next) {
  if (!job || next.id !== job.id) return false;
  // the previous run's end, reported by a poll that left before the retry was answered
  if (endedBefore && isTerminal(next.status) && next.ended_at <= endedBefore) return true;
  if (isTerminal(job.status) && !isTerminal(next.status)) return !retrying;
  const before = (job.progress || {}).done || 0;
  const after = (next.progress || {}).done || 0;
  return job.status === next.status && after < before && !retrying;
}

function render(next) {
  if (!next || stale(next)) return;
  if (retrying && !isTerminal(next.status)) retrying = false;
  job = next;
  $("title").textContent = job.description || "Job";
  document.title = `${statusWord(job.status)} – ${job.description || "Job"}`;
  const status = $("status");
  status.textContent = statusWord(job.status);
  status.className = `badge ${job.status}`;
  renderProgress();
  renderMessage();
  $("cancel").hidden = !(processing() || job.status === "cancelling");
  $("cancel").disabled = job.status === "cancelling";
  $("cancel").textContent = job.status === "cancelling" ? "Cancelling…" : "Cancel";
  $("retry").hidden = !(job.status === "failed" || job.status === "cancelled");
  $("when").textContent = when(job);
  $("leave-note").hidden = !guarded();
  $("keep-note").hidden = !(processing() && job.params.keep_running !== false);
  const u = job.usage || {};
  $("usage").textContent = u.engine_calls
    ? `${u.engine_calls} engine call${u.engine_calls === 1 ? "" : "s"}` +
      (u.input_tokens + u.output_tokens
        ? ` · ${u.input_tokens + u.output_tokens} tokens · ` +
          `cost ${usd(u.cost_usd)}` +
          (job.params.max_cost_usd ? ` of a ${usd(job.params.max_cost_usd)} cap` : "")
        : "")
    : "";
  const capped = job.status === "failed" && (job.error || {}).code === "budget_exhausted";
  $("retry-cap-field").hidden = !capped;
  renderNotes();
  if (job.status === "finished" && !resultShown) showResult();
  if (job.status !== "finished" && resultShown) hideResult();
  if (isTerminal(job.status)) stopUpdates();
  keepLease(guarded());
}

function renderProgress() {
  const p = job.progress || {};
  let percent = p.total ? Math.round((100 * p.done) / p.total) : 0;
  if (job.status === "finished") percent = 100;
  $("fill").style.width = `${percent}%`;
  $("bar").setAttribute("aria-valuenow", String(percent));
  $("bar").classList.toggle("waiting", job.status === "running" && !p.total);
  let text = "";
  if (job.status === "queued") text = "Waiting for a worker…";
  else if (job.status === "running" && !p.total) text = "Preparing the audio…";
  else if (job.stage === "burning") {
    text = `Burning the subtitles into the video: ${p.done} of ${p.total} s`;
  } else if (job.status === "running" && p.done >= p.total) text = "Writing the subtitles…";
  else if (p.total) text = `${p.done} of ${p.total} steps done`;
  if (job.status === "running" && job.waiting) text += ` · ${job.waiting.message}`;
  $("progress-text").textContent = text;
  // An estimate under a second says nothing a person can use ("about 0 s left").
  // nor does one made before a wait for the engine's quota (which the progress line says)
  $("eta").textContent =
    job.status === "running" && p.eta_s >= 1 && !job.waiting
      ? `· about ${duration(p.eta_s)} left`
      : "";
}

// What the finished job says about its subtitles: one quality line per file ("41 cues, all
// within Netflix rules"), warnings such as speech the local engine cannot understand, and
// notes on what the outputs lack by design (no speakers from the local engine).
function renderNotes() {
  const finished = job.status === "finished";
  const quality = finished ? job.quality || [] : [];
  // name the file and the language only where the job has more than one of them
  const files = new Set(quality.map((q) => q.file_id)).size;
  const languages = new Set(quality.map((q) => q.language)).size;
  $("quality").textContent = quality
    .map((q) => {
      const label = [files > 1 ? q.name : "", languages > 1 ? languageName(q.language) : ""];
      return `${label.filter(Boolean).join(", ") || "Subtitles"}: ${q.summary}`;
    })
    .join(" · ");
  $("quality").hidden = !quality.length;
  const warnings = finished ? job.warnings || [] : [];
  $("warnings").textContent = warnings.map((w) => w.message).join(" ");
  $("warnings").hidden = !warnings.length;
  const notes = finished ? job.notes || [] : [];
  $("job-notes").textContent = notes.map((n) => n.message).join(" ");
  $("job-notes").hidden = !notes.length;
}

function renderMessage() {
  const message = $("message");
  const error = job.error || {};
  if (job.status === "cancelled") {
    message.textContent = error.message || "Cancelled.";
  } else if (job.status === "failed") {
    message.textContent =
      `${error.message || "The job failed."} ` +
      "Retry resumes it: steps already done are not done (or paid for) again.";
  } else if (job.status === "cancelling") {
    message.textContent = "Stopping the job…";
  } else {
    message.hidden = true;
    return;
  }
  message.className = job.status;
  message.hidden = false;
}

// --- the result: downloads by language, and a player per media file with every language ---

const languageName = (code) => LANGUAGES[code] || code;

// "German (de)"; a bilingual pair "en-de" is "English + German" ("und": not known)
function languageLabel(code) {
  const [source, target] = code.split("-");
  if (target === undefined) return `${languageName(code)} (${code})`;
  return `${source === "und" ? "Original" : languageName(source)} + ${languageName(target)}`;
}

// The job's target languages, the one heard from the audio first.
const jobLanguages = () => job.params.target_languages || [job.params.target_language];

const SUBTITLE_FORMATS = ["srt", "vtt", "json", "ass"];
const VIDEO_FORMATS = ["mkv", "mp4"]; // <stem>.subtitled.mkv, <stem>.burned.mp4

// Each output with its format, language and download group (jobs from before these were
// recorded: the name's extension, the job's language), in the order the page lists them: the
// job's languages, their bilingual pairs, the videos, then anything else (an analysis).
function outputs() {
  const order = jobLanguages();
  const last = 3 * order.length;
  const rank = ({ group }) => {
    if (group === "video") return last;
    if (!group) return last + 1;
    const plain = order.indexOf(group);
    if (plain >= 0) return plain;
    const pair = order.indexOf(group.split("-")[1]);
    return order.length + (pair >= 0 ? pair : order.length);
  };
  const translated = job.kind === "translate";
  return (job.outputs || [])
    .map((o) => {
      const format = o.format || o.name.split(".").pop();
      const subtitles = translated && SUBTITLE_FORMATS.includes(format);
      const language = o.language || (subtitles ? job.params.target_language : "");
      return { ...o, format, language, group: VIDEO_FORMATS.includes(format) ? "video" : language };
    })
    .sort((a, b) => rank(a) - rank(b));
}

function showDownloads() {
  const list = $("downloads");
  list.innerHTML = "";
  const groups = new Map(); // a language, "video", or "" (neither) -> its links' <span>
  for (const output of outputs()) {
    let links = groups.get(output.group);
    if (!links) {
      const item = document.createElement("li");
      if (output.group === "video") item.dataset.group = "video";
      else item.dataset.language = output.group;
      links = document.createElement("span");
      links.className = "links";
      const name = document.createElement("span");
      name.className = "group-name";
      if (output.group === "video") name.textContent = "Video";
      else if (output.group) name.textContent = languageLabel(output.group);
      item.append(name, links);
      list.append(item);
      groups.set(output.group, links);
    }
    const link = document.createElement("a");
    link.href = output.url;
    link.textContent = output.name;
    link.setAttribute("download", output.name);
    const info = document.createElement("span");
    info.className = "muted";
    info.textContent = ` ${size(output.size)}`;
    const one = document.createElement("span");
    one.className = "download";
    one.append(link, info);
    links.append(one);
  }
  list.hidden = !list.children.length;
}

async function showResult() {
  resultShown = true;
  showDownloads();
  let session;
  try {
    session = await api(`/api/sessions/${job.session_id}`);
  } catch (err) {
    return; // the downloads are there; the player needs the session
  }
  if (!resultShown) return; // a retry started meanwhile
  const player = $("player");
  player.innerHTML = "";
  const vtts = outputs().filter((o) => o.format === "vtt");
  for (const file of session.files) {
    if (file.kind === "subtitles") continue; // nothing to play: its downloads are above
    const burned = outputs().find((o) => o.file_id === file.id && o.name.endsWith(".burned.mp4"));
    player.append(
      burned ? burnedPlayer(file, burned) : playerOf(file, vtts.filter((o) => o.file_id === file.id)),
    );
  }
  player.hidden = !player.children.length;
}

function hideResult() {
  resultShown = false;
  $("player").hidden = true;
  $("player").innerHTML = "";
  $("downloads").hidden = true;
  $("downloads").innerHTML = "";
}

// --- live updates: the event stream, with polling while it is down ---

function startStream() {
  if (!window.EventSource) {
    startPolling();
    return;
  }
  closeStream();
  const source = new EventSource(`/api/jobs/${jobId}/events`);
  stream = source;
  source.onmessage = (event) => {
    stopPolling();
    render(JSON.parse(event.data));
  };
  source.onerror = () => {
    if (stream !== source) return;
    if (job && isTerminal(job.status)) {
      closeStream();
      return;
    }
    // While EventSource reconnects on its own (CONNECTING), poll so the page stays live. If it
    // gave up (CLOSED: an error status, a proxy in the way), poll and try it again later.
    startPolling();
    if (source.readyState === EventSource.CLOSED) {
      stream = null;
      streamRetry = setTimeout(startStream, STREAM_RETRY_MS);
    }
  };
}

function closeStream() {
  if (stream) stream.close();
  stream = null;
  clearTimeout(streamRetry);
  streamRetry = null;
}

async function poll() {
  try {
    render(await api(`/api/jobs/${jobId}`));
  } catch (err) {
    // offline for a moment: the next tick tries again
  }
}

function startPolling() {
  if (pollTimer) return;
  pollTimer = setInterval(poll, POLL_MS);
  poll();
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

function stopUpdates() {
  closeStream();
  stopPolling();
}

// --- the lease: renewed while the page is open, whatever the tab's visibility ---

function keepLease(wanted) {
  if (wanted && !heartbeat) heartbeat = startHeartbeat();
  if (!wanted && heartbeat) {
    heartbeat();
    heartbeat = null;
  }
}

function startHeartbeat() {
  const url = `/api/jobs/${jobId}/lease`;
  const every = Math.max(1, leaseSeconds / 4) * 1000;
  try {
    const worker = new Worker(root.dataset.leaseWorker);
    worker.postMessage({ url, every });
    return () => worker.terminate();
  } catch (err) {
    // No workers: main-thread timers, throttled in background tabs, still beat the stream's
    // absence most of the time.
    const beat = () => fetch(url, { method: "POST" }).catch(() => {});
    const timer = setInterval(beat, every);
    beat();
    return () => clearInterval(timer);
  }
}

// --- leaving ---

function cancelOnLeave() {
  const url = `/api/jobs/${jobId}/cancel`;
  const body = new URLSearchParams({ reason: "left_page" });
  if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
  fetch(url, { method: "POST", body, keepalive: true }).catch(() => {});
}

window.addEventListener("beforeunload", (event) => {
  if (!guarded()) return;
  event.preventDefault();
  event.returnValue = ""; // older browsers show the dialog only when this is set
});

window.addEventListener("pagehide", () => {
  if (guarded()) cancelOnLeave();
});

// Back from the back/forward cache: the job moved on (or was cancelled) meanwhile.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) startStream();
});

// --- buttons ---

function showFailure(text) {
  const message = $("message");
  message.textContent = text;
  message.className = "error";
  message.hidden = false;
}

$("cancel").addEventListener("click", async () => {
  $("cancel").disabled = true;
  $("cancel").textContent = "Cancelling…";
  try {
    render(await api(`/api/jobs/${jobId}/cancel`, { method: "POST" }));
  } catch (err) {
    showFailure(`Could not cancel: ${err.message}`);
    $("cancel").disabled = false;
    $("cancel").textContent = "Cancel";
  }
});

$("retry").addEventListener("click", async () => {
  $("retry").disabled = true;
  try {
    const before = job && job.ended_at;
    const cap = $("retry-cap");
    const options = { method: "POST" };
    if (!$("retry-cap-field").hidden && cap.value) {
      options.headers = { "Content-Type": "application/json" };
      options.body = JSON.stringify({ max_cost_usd: Number(cap.value) });
    }
    const body = await api(`/api/jobs/${jobId}/retry`, options);
    endedBefore = before;
    retrying = true;
    render(body);
    startStream();
  } catch (err) {
    showFailure(`Could not retry: ${err.message}`);
  } finally {
    $("retry").disabled = false;
  }
});

startStream();
