"""Records as the API shows them (API.md "Objects")."""

from __future__ import annotations

from flask import url_for

from jobs.life.status import Status

USAGE_DEFAULTS = {"engine_calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}


def job(rec: dict) -> dict:
    """A job record as the Job object."""
    job_id = rec["id"]
    outputs = [
        {"name": o["name"], "size": o["size"], "file_id": o.get("file_id"),
         "language": o.get("language"), "format": o.get("format") or o["name"].rsplit(".")[-1],
         "url": url_for("api.download_output", job_id=job_id, name=o["name"])}
        for o in rec.get("outputs") or []
    ]  # fmt: skip
    status = Status(rec["status"])
    return {
        "id": job_id,
        "session_id": rec.get("session_id"),
        "kind": rec.get("kind"),
        "description": rec.get("description"),
        "status": status.value,
        "terminal": status.terminal,
        "progress": {
            "done": rec.get("done", 0),
            "total": rec.get("total"),
            "eta_s": rec.get("eta_s") if status == Status.RUNNING else None,
        },
        "params": rec.get("params") or {},
        "error": rec.get("error"),
        "created_at": rec.get("created_at"),
        "started_at": rec.get("started_at") or None,
        "ended_at": rec.get("ended_at") or None,
        "outputs": outputs,
        "usage": {**USAGE_DEFAULTS, **(rec.get("usage") or {})},
        "quality": rec.get("quality") or [],
        "waiting": rec.get("waiting") if status == Status.RUNNING else None,
        "stage": (rec.get("stage") or None) if status == Status.RUNNING else None,
        "warnings": rec.get("warnings") or [],
        "notes": rec.get("notes") or [],
    }


def session(rec: dict, jobs: list[dict]) -> dict:
    """A session record (with its files and jobs) as the Session object."""
    return {
        "id": rec["id"],
        "created_at": rec.get("created_at"),
        "files": [
            {
                "id": f["id"],
                "name": f["name"],
                "size": f["size"],
                "duration_s": f["duration_s"],
                "has_video": f.get("has_video", False),
                "kind": f.get("kind", "media"),
                **({"format": f["format"], "cues": f["cues"]} if "cues" in f else {}),
                "url": url_for("api.download_file", session_id=rec["id"], file_id=f["id"]),
            }
            for f in rec.get("files") or []
        ],  # fmt: skip
        "glossary": rec.get("glossary") or [],
        "jobs": [job(j) for j in jobs],
    }
