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
// the engine's note says what it does, where the choice is made. With a translator ("Translated
// by", on servers with an LLM) every language is offered: the engine hears one, the translator
// makes the others from its text. "Also in" adds languages after the first; the form sends them
// all as target_languages, the first one first.
function wireEngineChoice(form) {
  const engine = form.querySelector(".engine-choice");
  const language = form.querySelector(".language-choice");
  const translator = form.querySelector(".translator-choice");
  const note = form.querySelector(".engine-note");
  const cap = form.querySelector(".cap-field");
  const more = form.querySelector(".more-languages");
  const bilingual = form.querySelector(".bilingual-field");
  if (!engine || !language) return;
  const everyLanguage = [...language.options].map((option) => option.value);
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
    const by = translator && translator.value ? translator.selectedOptions[0] : null;
    const allowed = by ? everyLanguage : chosen.dataset.languages.split(",");
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
    if (note) note.textContent = engineNote(chosen, by);
    // free unless someone paid does part of it: the local engine alone costs nothing to cap
    if (cap) cap.hidden = chosen.value === "local" && !(by && by.dataset.paid === "true");
    showPicked();
    changed();
  };
  engine.addEventListener("change", () => {
    // each engine's jobs have a translator by default (Gemini's own, else the LLM)
    if (translator) translator.value = engine.selectedOptions[0].dataset.translator;
    update();
  });
  if (translator) translator.addEventListener("change", update);
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
  if (translator) translator.value = engine.selectedOptions[0].dataset.translator;
  update();
}

// What the chosen engine does, and who translates when another than the engine does.
function engineNote(engine, translator) {
  if (!translator || translator.value === engine.value) return engine.dataset.note;
  const own = engine.dataset.noteTranslated || engine.dataset.note;
  return `${own} Translations: ${translator.dataset.note}`;
}

// Who translates a job form's text: its "Translated by" choice, if the server offers one.
function chosenTranslator(form) {
  const translator = form.querySelector(".translator-choice");
  return translator ? translator.value : null;
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

// Subtitle files are uploaded like media but translated as text (by the job's translator).
const SUBTITLE_FILE = /\.(srt|vtt|ass|ssa)$/i;
const isSubtitleFile = (name) => SUBTITLE_FILE.test(name);

// Who does a part of a job, as the estimate line names them, and why their part is free.
const WHO = { gemini: "Gemini", llm: "LLM", local: "local" };
const FREE_BECAUSE = { local: "runs on this server", llm: "the LLM is priced at $0" };

// "12 Gemini calls", "10 local + 3 LLM calls": an estimate's calls by who makes them.
function callsText(parts) {
  const counts = new Map();
  for (const part of parts) counts.set(part.engine, (counts.get(part.engine) || 0) + part.calls);
  const total = [...counts.values()].reduce((sum, n) => sum + n, 0);
  const each = [...counts].map(([who, n]) => `${n} ${WHO[who] || who}`);
  return `${each.join(" + ")} call${total === 1 ? "" : "s"}`;
}

// "audio by Gemini: about $0.0100, text by LLM: free": each part priced by who does it.
function partsText(parts) {
  const cost = (part) => (part.free ? "free" : `about ${usd(part.cost_usd)}`);
  return parts.map((p) => `${p.what} by ${WHO[p.engine] || p.engine}: ${cost(p)}`).join(", ");
}

// One line saying what a job would cost: the server's estimate (GET /api/estimate) of hearing
// media of `durations` seconds and translating the rest, and the subtitle files, as text (by
// `translator`, when the form names one); with `sessionId`, every call carrying that
// session's glossary.
async function estimateLine({
  durations,
  engine,
  languages,
  translator = null,
  kind = "translate",
  subtitles = [],
  sessionId = null,
}) {
  // subtitles: the subtitle files' sizes, as characters of text (bytes: near enough)
  if (kind === "analyze" && subtitles.length) {
    if (!durations.length) return "A subtitle file has no audio to analyse.";
    subtitles = []; // an analysis leaves them out
  }
  if (subtitles.length && !translator && engine !== "gemini") {
    return "Subtitle files are translated by the Gemini engine or an LLM; the local engine cannot.";
  }
  const wanted = kind === "translate" ? languages : languages.slice(0, 1);
  const query = new URLSearchParams({ engine, target_languages: wanted.join(","), kind });
  if (translator) query.set("translator", translator);
  for (const d of durations) query.append("duration_s", d.toFixed(2));
  for (const chars of subtitles) query.append("text_chars", String(Math.max(1, chars)));
  if (sessionId) query.set("session_id", sessionId);
  const e = await api(`/api/estimate?${query}`);
  const time = `about ${duration(e.seconds)}`;
  const parts = e.parts || [];
  const shared = new Set(parts.map((p) => p.engine)).size > 1; // two do the work: say each
  if (e.free) {
    const why = new Set(parts.map((p) => FREE_BECAUSE[p.engine] || `${p.engine} at $0`));
    return `Estimate: free (${[...why].join("; ")}), ${time}.`;
  }
  let text = wanted.length > 1 || subtitles.length ? " (the text translations included)" : "";
  if (shared) text = ` (${partsText(parts)})`;
  return `Estimate: about ${usd(e.cost_usd)}, at most ${usd(e.max_cost_usd)} · ${callsText(parts)} · ${time}${text}.`;
}
