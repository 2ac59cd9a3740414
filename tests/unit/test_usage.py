"""jobs/spend/usage.py: what a job used of its engine."""

from jobs.spend.usage import Usage


def test_usages_add_up_and_round_the_cost():
    """Calls and tokens add; the cost is kept to micro-dollars."""
    total = Usage(1, 100, 20, 0.1000004) + Usage(2, 50, 5, 0.2)
    assert total == Usage(3, 150, 25, 0.3)


def test_a_stored_usage_reads_back_and_tolerates_old_or_partial_records():
    """Round trip through the record; unknown keys ignored, missing ones zero."""
    usage = Usage(2, 10, 3, 0.5)
    assert Usage.from_dict(usage.as_dict()) == usage
    assert Usage.from_dict({"engine_calls": 4, "retries": 9}) == Usage(engine_calls=4)
    assert Usage.from_dict(None) == Usage()
