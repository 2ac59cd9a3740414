"""worker/rq_adapter.py: what RQ stores of a failure holds no markup."""

from worker.rq_adapter import markup_free


def test_a_traceback_naming_a_hostile_file_opens_no_tag():
    """`<` and `>` become look-alikes; the rest of the traceback reads as it was."""
    text = "JobFailed: <img src=x onerror='alert(1)'>.wav: no audio & no video\n"
    shown = markup_free(text)
    assert "<" not in shown and ">" not in shown
    assert shown == "JobFailed: \u2039img src=x onerror='alert(1)'\u203a.wav: no audio & no video\n"
