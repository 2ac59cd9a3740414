"""jobs/library/sidecar.py: a paid library job starts only when its worst case fits."""

from jobs.library.sidecar import shortfall


def test_a_job_that_could_pass_a_budget_does_not_start():
    """Worst case $0.30 with $0.25 of a $1 budget left: refused, saying what is left."""
    budgets = [("Your", 1.0, 750_000), ("This server's", None, 10**9)]
    assert shortfall(300_000, budgets) == ("Your", 250_000, 1.0)
    assert shortfall(250_000, budgets) is None  # exactly what is left fits


def test_no_budget_means_no_refusal():
    """Unset budgets (None) hold anything; the deployment's is checked after the owner's."""
    assert shortfall(10**9, [("Your", None, 0), ("This server's", None, 0)]) is None
    assert shortfall(5, [("Your", None, 0), ("This server's", 0.0, 0)])[0] == "This server's"
