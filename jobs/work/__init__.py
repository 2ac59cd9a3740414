"""The work itself: one execution of a job (claim, temp dir, cancel checks, progress),
the pipeline every kind shares, the job kinds (translate with its video outputs and the
re-timing of subtitle files, analyze) and the engines.

May import: anything in jobs but jobs.library. Only the worker runs it; the web process
never imports it but for the engines' registry (it would pull in the engines' libraries).
"""
