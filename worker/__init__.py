"""The RQ worker process: our Worker class, its stop/cleanup hooks, and the sweeper."""
