"""The job's life: its record and status, submitting, cancelling and deleting it, its
session, its temp directory.

May import: the top of jobs (config, connection, errors, keys, timeutil), jobs.storage and
jobs.spend. Never the work, its engines, media or subtitles.
"""
