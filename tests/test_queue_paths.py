"""Jobs RQ queued before issue 26's re-layout name their function by its old dotted path."""

from __future__ import annotations

from rq.job import Job

from jobs.life import submit

from .helpers import DATA, upload, wait_for_status


def test_a_job_queued_by_its_old_path_still_runs(client, conn, worker, monkeypatch):
    """A translate job whose RQ job says `jobs.translate.run` (the path before the move) is run
    by today's worker to the end, with its subtitles."""
    monkeypatch.setitem(submit.JOB_FUNCTIONS, "translate", "jobs.translate.run")
    response = upload(client, DATA / "speech.wav", engine="local", target_language="en")
    assert response.status_code == 202, response.get_json()
    job_id = response.get_json()["id"]
    assert Job.fetch(job_id, connection=conn).func_name == "jobs.translate.run"
    job = wait_for_status(client, job_id, {"finished", "failed", "cancelled"})
    assert job["status"] == "finished", job["error"]
    assert any(o["name"].endswith(".en.srt") for o in job["outputs"])
