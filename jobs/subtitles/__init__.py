"""Subtitles: the cue model and its shaping to a style, reading subtitle files, writing
every output format, the cue editor's saves, languages and speakers.

Pure (no I/O) but for `reader` (bytes in) and `editing` (a job's stored outputs).
May import: the top of jobs, jobs.life and jobs.storage (editing only).
"""
