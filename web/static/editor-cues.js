// What the cue editor's edits do to cues, apart from the page (editor/ shows them): times
// written and moved, a cue split at a place in its text or merged with the next, and the key
// that asks for each edit. Cues are the API's objects: {start, end, text, source_text, unsure,
// check, speakers}, times in seconds. An edit that cannot be made says why, in words for the person.
"use strict";

const CueEdit = (() => {
  const NUDGE_S = 0.1;
  const SHORTEST_S = 0.1; // a nudge or a split never leaves a cue shorter than this

  // what makes a cue worth a look, as the API's `check` names it
  const REASONS = {
    unsure: "unsure",
    line_length: "line too long",
    lines: "too many lines",
    min_duration: "too short",
    max_duration: "shown too long",
    reading_speed: "too fast to read",
    gap: "too close to the next",
    overlap: "overlaps the next",
    media_end: "past the media’s end",
  };

  const round3 = (seconds) => Math.round(seconds * 1000) / 1000;

  // 75.5 -> "01:15.500"; past an hour "1:01:15.500"
  function clock(seconds) {
    const ms = Math.max(0, Math.round(seconds * 1000));
    const two = (n) => String(n).padStart(2, "0");
    const h = Math.floor(ms / 3600000);
    const rest = `${two(Math.floor(ms / 60000) % 60)}:${two(Math.floor(ms / 1000) % 60)}` +
      `.${String(ms % 1000).padStart(3, "0")}`;
    return h ? `${h}:${rest}` : rest;
  }

  // The cues as a save sends them.
  const sent = (cues) =>
    cues.map((c) => ({
      start: c.start,
      end: c.end,
      text: c.text,
      source_text: c.source_text || "",
      unsure: Boolean(c.unsure),
      speakers: c.speakers || [],
    }));

  // A speaker field's text as names: "Anna" or, for a cue two people share, "Anna / Marco".
  const speakersOf = (value) => value.split("/").map((name) => name.trim()).filter(Boolean);

  // The cues with one speaker's name changed everywhere ({cues, count}: how many cues).
  function renamed(cues, from, to) {
    let count = 0;
    const found = cues.map((c) => {
      if (!(c.speakers || []).includes(from)) return c;
      count += 1;
      const names = c.speakers.map((name) => (name === from ? to : name));
      return { ...c, speakers: new Set(names).size === 1 ? names.slice(0, 1) : names, edited: true };
    });
    return { cues: found, count };
  }

  // Where `step` nudges move a cue's start or end: never past its neighbours, the media's end
  // (`pastEnd`: why not, in words) or its other end. {value} or {refused: why}.
  function nudged(cues, index, edge, step, mediaEnd, pastEnd = "the media ends there") {
    const cue = cues[index];
    const before = cues[index - 1];
    const after = cues[index + 1];
    const number = index + 1;
    const low = edge === "start" ? (before ? before.end : 0) : cue.start + SHORTEST_S;
    const high = edge === "start"
      ? cue.end - SHORTEST_S
      : Math.min(after ? after.start : Infinity, mediaEnd || Infinity);
    const value = round3(Math.min(high, Math.max(low, round3(cue[edge] + step * NUDGE_S))));
    // (a cue that overlaps a neighbour already is only ever moved away from it)
    if (low <= high && Math.sign(value - cue[edge]) === Math.sign(step)) return { value };
    const way = step < 0 ? "earlier" : "later";
    let why = "it would be too short";
    if (edge === "start" && step < 0) {
      why = before ? `cue ${number - 1} ends there` : "it starts at 0";
    } else if (edge === "end" && step > 0) {
      why = after ? `cue ${number + 1} starts there` : pastEnd;
    }
    return { refused: `Cue ${number} cannot ${edge} ${way}: ${why}.` };
  }

  // A cue cut in two at `caret` in its text. The time is `playing` (the player's) when that
  // is inside the cue, else where the text is cut, in proportion; the source text is cut
  // likewise, between words. {cues: [first, second], at} or {refused: why}.
  function split(cue, number, caret, playing) {
    const first = cue.text.slice(0, caret).trim();
    const second = cue.text.slice(caret).trim();
    if (!first || !second) {
      return { refused: `Put the caret in cue ${number}’s text where it should split.` };
    }
    const share = first.length / (first.length + second.length);
    const inside = playing > cue.start + SHORTEST_S && playing < cue.end - SHORTEST_S;
    const at = round3(inside ? playing : cue.start + (cue.end - cue.start) * share);
    if (at - cue.start < SHORTEST_S / 2 || cue.end - at < SHORTEST_S / 2) {
      return { refused: `Cue ${number} is too short to split.` };
    }
    const [sourceFirst, sourceSecond] = splitWords(cue.source_text || "", share);
    const part = (fields) => ({ ...cue, check: [...cue.check], edited: true, ...fields });
    // A cue two people shared, cut between them: one person each, so no dash.
    const alone = (text) =>
      (cue.speakers || []).length === 2 ? text.replace(/^- /gm, "").trim() : text;
    return {
      at,
      cues: [
        part({ end: at, text: alone(first), source_text: sourceFirst,
          speakers: (cue.speakers || []).slice(0, 1) }),
        part({ start: at, text: alone(second), source_text: sourceSecond,
          speakers: (cue.speakers || []).slice(-1) }),
      ],
    };
  }

  // Words of `text` cut about `share` of the way through, at a space.
  function splitWords(text, share) {
    const words = text.trim().split(/\s+/).filter(Boolean);
    if (words.length < 2) return [text.trim(), ""];
    const goal = share * text.trim().length;
    let cut = 1;
    let length = words[0].length;
    while (cut < words.length - 1 && length + 1 + words[cut].length / 2 < goal) {
      length += 1 + words[cut].length;
      cut += 1;
    }
    return [words.slice(0, cut).join(" "), words.slice(cut).join(" ")];
  }

  // Who speaks two cues made one: one name if both have the same one, a name a line when
  // each was one line, else the first cue's.
  function mergedSpeakers(a, b, oneLineEach) {
    const names = [...new Set([...a, ...b])];
    if (names.length <= 1) return names;
    return oneLineEach && a.length === 1 && b.length === 1 ? [a[0], b[0]] : a.slice(0, 1);
  }

  // A cue and the next as one: two one-line cues make one cue of two lines. What was wrong
  // between them (too close, overlapping) is gone.
  function merged(first, second) {
    const a = first.text.trim();
    const b = second.text.trim();
    const oneLineEach = !a.includes("\n") && !b.includes("\n");
    const source = [first.source_text, second.source_text].map((s) => (s || "").trim());
    const speakers = mergedSpeakers(first.speakers || [], second.speakers || [], oneLineEach);
    // two people, a line each: each line starts with a dash (the style's dual-speaker rule)
    const dash = (line) => (speakers.length === 2 && !line.startsWith("- ") ? `- ${line}` : line);
    return {
      ...first,
      end: second.end,
      text: [a, b].filter(Boolean).map(dash).join(oneLineEach ? "\n" : " "),
      source_text: source.filter(Boolean).join(" "),
      speakers,
      unsure: Boolean(first.unsure || second.unsure),
      check: [...new Set([...first.check, ...second.check])]
        .filter((code) => code !== "gap" && code !== "overlap"),
      edited: true,
    };
  }

  // The edit a key press asks for, or null; by the key's place (event.code), so keyboard
  // layouts and macOS's Option characters do not matter. _editor.html lists them.
  function shortcut(event) {
    const command = event.ctrlKey || event.metaKey;
    if (command && !event.altKey && !event.shiftKey && event.code === "KeyS") return "save";
    if (command && !event.altKey && event.code === "Space") return "play";
    if (!event.altKey || command) return null;
    const bracket = { BracketLeft: "Earlier", BracketRight: "Later" }[event.code];
    if (bracket) return `${event.shiftKey ? "end" : "start"}${bracket}`;
    if (event.shiftKey) return null;
    const keys = {
      KeyP: "play",
      ArrowUp: "previous",
      ArrowDown: "next",
      Enter: "split",
      NumpadEnter: "split",
      KeyM: "merge",
      KeyN: "nextToCheck",
      KeyS: "snap",
    };
    return keys[event.code] || null;
  }

  return { REASONS, clock, sent, speakersOf, renamed, nudged, split, merged, shortcut };
})();
