// What every part of the editor shares: the page's job, the constants, the editor's state,
// the API call and the tests of what may be done now.

export const root = document.getElementById("editor");
export const jobPage = document.getElementById("job");
export const jobId = jobPage ? jobPage.dataset.jobId : "";

export const POLL_MS = 2000;
export const END_LEAD_S = 0.5; // after moving an end, the player shows the cue this long before it
export const STRUCTURE_TRACK_MS = 250; // the player's track follows the edits this long after them
export const VIDEO_FORMATS = ["mkv", "mp4"];
export const REMADE_FORMATS = ["srt", "vtt", "json"]; // what a save writes again
export const { REASONS, clock, sent } = CueEdit;

// One cue's row; its buttons are not tab stops (Tab goes from text to text), keys do it all.
export const ROW = `
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
    <button type="button" class="snap" tabindex="-1" title="Start and end on the speech
detected nearest them, within 1 s (Alt+S)">Snap</button>
    <button type="button" class="delete" tabindex="-1" title="Delete this cue">Delete</button>
  </div>`;

export const state = {
  targets: [], // what can be edited: [{file_id, language, name}]
  target: null, // the one on screen
  shown: null, // the GET answer on screen (revision, latest, duration_s, style, speech)
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

export const $ = (id) => document.getElementById(id);
export const list = $("editor-cues");
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const languages = (() => {
  const data = document.getElementById("languages"); // job.html's code -> name, if there
  try {
    return data ? JSON.parse(data.textContent) : {};
  } catch (err) {
    return {};
  }
})();
export const languageName = (code) => (languages[code] ? `${languages[code]} (${code})` : code);

// A request's status and JSON body (the API's error object when it failed); a network
// failure throws.
export async function call(url, options = {}) {
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

export const cuesUrl = (revision = null) => {
  const query = new URLSearchParams({
    file: state.target.file_id,
    language: state.target.language,
  });
  if (revision !== null) query.set("revision", String(revision));
  return `/api/jobs/${jobId}/cues?${query}`;
};

export const fingerprint = (cues) => JSON.stringify(sent(cues));
export const dirty = () =>
  Boolean(state.shown) && !state.readOnly && fingerprint(state.cues) !== state.saved;
export const editable = () =>
  Boolean(state.shown) && !state.readOnly && !state.draftOffered && !state.busy;
