"""Where the media lives: Subcue as a backend for the programs that manage media libraries.

- `asr`: what the whisper-asr-webservice API (Bazarr's Whisper provider) needs beyond an
  ordinary translate job: raw PCM made a WAV, answers in its formats, one job per audio.
- `detect`: the language-detection job behind `POST /detect-language`.

The HTTP side is `web/library_routes/`. May import: any package of jobs (never Flask).
"""
