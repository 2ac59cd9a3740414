"""Subtitles: the cue model (`cues`), its styles, where text breaks and how words become cues
(`breaks`, `shaping`), the quality report, subtitle files in and out (`formats/`), the cue
editor's saves, languages and speakers.

Pure (no I/O) but for `formats/` (files in and out) and `editing` (a job's stored outputs).
May import: the top of jobs, jobs.life and jobs.storage (editing only).
"""
