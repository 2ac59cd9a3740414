"""Media: probing what an upload is, audio chunks, speech detection, cues re-timed onto it and
a subtitle file fitted to it (`retime`, `sync`), and the video out (mux, burn), all through
ffmpeg.

May import: the top of jobs and jobs.subtitles.
"""
