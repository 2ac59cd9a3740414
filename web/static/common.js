// What every page's script shares: calling the API, the job statuses (from the server, via
// base.html), and how times and sizes are written. Loaded before the page's own script.
"use strict";

// status -> {word, active, terminal}, as jobs/life/status.py defines them
const STATUSES = JSON.parse(document.getElementById("statuses").textContent);
const statusWord = (status) => (STATUSES[status] || {}).word || status;
const isActive = (status) => Boolean((STATUSES[status] || {}).active);
const isTerminal = (status) => Boolean((STATUSES[status] || {}).terminal);

// fetch, then the JSON body (null for 204); throws an Error carrying the server's message.
async function api(url, options = {}) {
  const response = await fetch(url, { cache: "no-store", ...options });
  if (response.status === 204) return null;
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    if (response.ok) throw new Error("The server answered something that is not JSON.");
  }
  if (!response.ok) {
    const error = new Error(body && body.error ? body.error.message : response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

// "just now", "5 min ago", "3 h ago", or the date for older times
function ago(iso) {
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 45) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// When a job was made and, once it ended, how long it ran: "5 min ago · took 42 s"
function when(job) {
  const parts = [ago(job.created_at)];
  if (job.started_at && job.ended_at) {
    parts.push(`took ${duration((Date.parse(job.ended_at) - Date.parse(job.started_at)) / 1000)}`);
  }
  return parts.filter(Boolean).join(" · ");
}

// A job form's engine choice: only the languages the chosen engine can make are offered, and
// the engine's note says what it does, where the choice is made. "Also in" adds languages
// after the first; the form sends them all as target_languages, the first one first.
function wireEngineChoice(form) {
  const engine = form.querySelector(".engine-choice");
  const language = form.querySelector(".language-choice");
  const note = form.querySelector(".engine-note");
  const cap = form.querySelector(".cap-field");
  const more = form.querySelector(".more-languages");
  const bilingual = form.querySelector(".bilingual-field");
  if (!engine || !language) return;
  // the page's own script re-estimates the cost on this event
  const changed = () => form.dispatchEvent(new Event("choices"));
  const showPicked = () => {
    if (!more) return;
    const first = language.value;
    for (const pick of more.querySelectorAll("label[data-code]")) {
      pick.hidden = pick.dataset.code === first; // the first language is not "also"
    }
    const names = chosenLanguages(form).slice(1).map((code) => formLanguageName(form, code));
    more.querySelector(".more-picked").textContent = names.length
      ? names.join(", ")
      : "no other language";
  };
  const update = () => {
    const chosen = engine.selectedOptions[0];
    const allowed = chosen.dataset.languages.split(",");
    for (const option of language.options) option.disabled = !allowed.includes(option.value);
    if (!allowed.includes(language.value)) language.value = allowed[0];
    language.disabled = allowed.length === 1;
    language.title = allowed.length === 1 ? chosen.dataset.note : "";
    if (more) {
      more.hidden = allowed.length === 1; // an engine of one language has nothing to add
      for (const box of more.querySelectorAll(".more-language")) {
        box.disabled = !allowed.includes(box.value);
      }
    }
    if (bilingual) bilingual.hidden = allowed.length === 1; // no translation to put below
    if (note) note.textContent = chosen.dataset.note;
    if (cap) cap.hidden = chosen.value === "local"; // free: nothing to cap
    showPicked();
    changed();
  };
  engine.addEventListener("change", update);
  language.addEventListener("change", () => {
    showPicked();
    changed();
  });
  if (more) {
    more.addEventListener("change", () => {
      showPicked();
      changed();
    });
  }
  form.addEventListener("formdata", (event) => {
    // a disabled select is not sent: put its one value back when the form is read
    if (language.disabled) event.formData.set(language.name, language.value);
    event.formData.delete("target_languages");
    for (const code of chosenLanguages(form)) event.formData.append("target_languages", code);
    if (bilingual && bilingual.hidden) event.formData.delete("bilingual");
    if (cap && cap.hidden) event.formData.delete("max_cost_usd");
  });
  update();
}

// The languages a job form asks for: the first ("Subtitles in"), then those ticked under
// "Also in" that the chosen engine can make.
function chosenLanguages(form) {
  const first = form.querySelector(".language-choice").value;
  const more = form.querySelector(".more-languages");
  const others = more && !more.hidden
    ? [...more.querySelectorAll(".more-language:checked:not(:disabled)")].map((b) => b.value)
    : [];
  return [first, ...others.filter((code) => code !== first)];
}

// "French" for "fr", as the form's first-language list names it (without the code)
function formLanguageName(form, code) {
  const option = form.querySelector(`.language-choice option[value="${code}"]`);
  return option ? option.textContent.replace(/\s*\([^)]*\)\s*$/, "").trim() : code;
}

document.querySelectorAll("form").forEach(wireEngineChoice);

// dollars as people write them: cents above a dollar, four decimals below (jobs/spend/pricing.py usd)
function usd(amount) {
  const value = Number(amount || 0);
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;
}

// The length in seconds of a chosen media file, read by the browser itself; null if it cannot.
function mediaDuration(file) {
  return new Promise((resolve) => {
    const media = document.createElement(file.type.startsWith("video") ? "video" : "audio");
    const url = URL.createObjectURL(file);
    const done = (value) => {
      URL.revokeObjectURL(url);
      media.removeAttribute("src");
      resolve(value);
    };
    media.preload = "metadata";
    media.onloadedmetadata = () => done(Number.isFinite(media.duration) ? media.duration : null);
    media.onerror = () => done(null);
    media.src = url;
  });
}

// Subtitle files are uploaded like media but translated as text (by Gemini only).
const SUBTITLE_FILE = /\.(srt|vtt|ass|ssa)$/i;
const isSubtitleFile = (name) => SUBTITLE_FILE.test(name);

// One line saying what a job would cost: the server's estimate (GET /api/estimate) of hearing
// media of `durations` seconds in the first language and translating the rest, and the
// subtitle files, as text; with `sessionId`, every call carrying that session's glossary.
async function estimateLine({
  durations,
  engine,
  languages,
  kind = "translate",
  subtitles = [],
  sessionId = null,
}) {
  // subtitles: the subtitle files' sizes, as characters of text (bytes: near enough)
  if (kind === "analyze" && subtitles.length) {
    if (!durations.length) return "A subtitle file has no audio to analyse.";
    subtitles = []; // an analysis leaves them out
  }
  if (subtitles.length && engine !== "gemini") {
    return "Subtitle files are translated by the Gemini engine; the local engine cannot.";
  }
  const wanted = kind === "translate" ? languages : languages.slice(0, 1);
  const query = new URLSearchParams({ engine, target_languages: wanted.join(","), kind });
  for (const d of durations) query.append("duration_s", d.toFixed(2));
  for (const chars of subtitles) query.append("text_chars", String(Math.max(1, chars)));
  if (sessionId) query.set("session_id", sessionId);
  const e = await api(`/api/estimate?${query}`);
  const time = `about ${duration(e.seconds)}`;
  if (e.free) return `Estimate: free (runs on this server), ${time}.`;
  const calls = `${e.calls} Gemini call${e.calls === 1 ? "" : "s"}`;
  const text = wanted.length > 1 || subtitles.length ? " (the text translations included)" : "";
  return `Estimate: about ${usd(e.cost_usd)}, at most ${usd(e.max_cost_usd)} · ${calls} · ${time}${text}.`;
}
