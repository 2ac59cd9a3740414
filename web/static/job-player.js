// The job page's players (job.js builds them in #player): the video with its subtitles burned
// in, or the media with a <track> per language, a switch between them, and cues kept above the
// browser's controls. Loaded before job.js, whose languageLabel names each track.
"use strict";

// The video with its subtitles burned in: what the job made, played as it is.
function burnedPlayer(file, burned) {
  const figure = document.createElement("figure");
  figure.dataset.fileId = file.id; // the editor plays the file it edits
  const media = document.createElement("video");
  media.controls = true;
  media.preload = "metadata";
  media.src = `${burned.url}?inline=1`;
  const caption = document.createElement("figcaption");
  caption.textContent = `${burned.name}: ${languageLabel(burned.language)} subtitles burned in`;
  figure.append(media, caption);
  return figure;
}

// A file's video (or audio) with a subtitle track per language, the first one showing, and
// a switcher that goes through the browser's own text track list.
function playerOf(file, vtts) {
  const figure = document.createElement("figure");
  figure.dataset.fileId = file.id;
  const media = document.createElement(file.has_video ? "video" : "audio");
  media.controls = true;
  media.preload = "metadata";
  media.src = file.url;
  const tracks = vtts.map((vtt, index) => {
    const track = document.createElement("track");
    track.kind = "subtitles";
    track.label = languageLabel(vtt.language);
    track.srclang = vtt.language.split("-").pop(); // a pair's translation
    track.src = `${vtt.url}?inline=1`;
    track.dataset.language = vtt.language;
    track.default = index === 0;
    media.append(track);
    // `default` alone is not honoured for added tracks; the others are loaded but hidden,
    // so switching shows them at once
    track.track.mode = index === 0 ? "showing" : "hidden";
    keepCuesAboveControls(media, track);
    return track;
  });
  figure.append(media);
  // an audio element shows no cues: write the showing track's under it
  if (!file.has_video && tracks.length) figure.append(cuesUnder(media, tracks));
  const caption = document.createElement("figcaption");
  const name = document.createElement("span");
  name.textContent = file.name;
  caption.append(name);
  if (tracks.length) caption.append(trackSwitch(media, tracks));
  figure.append(caption);
  return figure;
}

function cuesUnder(media, tracks) {
  const box = document.createElement("p");
  box.className = "cue-box";
  const update = () => {
    const showing = tracks.find((t) => t.track.mode === "showing");
    const active = showing ? [...(showing.track.activeCues || [])] : [];
    box.textContent = active.map((cue) => cue.getCueAsHTML().textContent).join("\n");
  };
  for (const track of tracks) track.track.addEventListener("cuechange", update);
  media.textTracks.addEventListener("change", update);
  return box;
}

function trackSwitch(media, tracks) {
  const label = document.createElement("label");
  label.className = "track-switch";
  const select = document.createElement("select");
  select.className = "track-choice";
  for (const track of tracks) select.add(new Option(track.label, track.dataset.language));
  select.add(new Option("Off", ""));
  const show = (language) => {
    for (const track of tracks) {
      track.track.mode = track.dataset.language === language ? "showing" : "hidden";
    }
  };
  select.addEventListener("change", () => show(select.value));
  // chosen in the browser's own captions menu: say so here too
  media.textTracks.addEventListener("change", () => {
    const showing = tracks.find((t) => t.track.mode === "showing");
    select.value = showing ? showing.dataset.language : "";
  });
  label.append("Subtitles ", select);
  return label;
}

// While paused (and while the pointer is over the player) the browser's controls cover the
// bottom of the picture, where cues sit: lift the cues above them, and put them back after.
const LINE_ABOVE_CONTROLS = -3;

function keepCuesAboveControls(media, element) {
  const track = element.track;
  const place = () => {
    const lifted = media.paused;
    for (const cue of track.cues || []) cue.line = lifted ? LINE_ABOVE_CONTROLS : "auto";
  };
  for (const event of ["pause", "play", "seeked", "loadeddata"]) {
    media.addEventListener(event, place);
  }
  track.addEventListener("cuechange", place);
  element.addEventListener("load", place); // a track switched to after a pause
}
