"""The job's life: its record and status, submitting, cancelling and deleting it, its
session, its temp directory, and its one end (`ending`: every way a job ends goes through it).

May import: the top of jobs (config, connection, errors, keys, scripts, timeutil),
jobs.storage and jobs.spend. Never the work, its engines, media or subtitles.
"""
