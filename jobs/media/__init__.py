"""Media: probing what an upload is, audio chunks, speech detection and the re-timing of
cues onto it, and the video out (mux, burn), all through ffmpeg.

May import: the top of jobs and jobs.subtitles.
"""
