// The job page's lease heartbeat, in a dedicated worker: Chrome throttles timers of a page
// hidden for a while to one wake-up a minute (no better than the default 60 s lease), but not
// those of its workers. The page posts {url, every}; terminating the worker stops the beat.
"use strict";

let timer = null;

self.onmessage = (event) => {
  const { url, every } = event.data;
  const beat = () => fetch(url, { method: "POST", credentials: "same-origin" }).catch(() => {});
  clearInterval(timer);
  timer = setInterval(beat, every);
  beat();
};
