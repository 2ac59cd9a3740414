"""Correcting a finished job's cues: revisions of one file's cues in one language, the checks a
save must pass, and the outputs written again with the same writers.

Revision 0 is what the engine made; each save adds one. Every revision's JSON is kept under
the job's storage prefix (so a delete removes them all), and the latest one's number in the
job record. A save names the revision it was made from: when that is not the latest (another
tab saved meanwhile) it is refused with 409, and nothing changes. Saving an older revision's
cues is the undo.
"""

from __future__ import annotations

import io
import json
import math
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import redis

from .. import keys
from ..config import Config
from ..errors import BadRequest, NotFound, SubcueError
from ..life import record, session
from ..life.status import Status
from ..scripts import script
from ..storage import stores
from ..storage.stores import Storage
from . import quality_report, speakers, styles
from .cues import Cue
from .formats import reader
from .formats.writer import bilingual, write_outputs
from .styles import Style

MAX_CUE_CHARS = 200
"""More text than any subtitle should carry (four full lines of the widest style and more)."""

MAX_CUE_LINES = 4
"""More lines than any subtitle should have."""

MAX_SOURCE_CHARS = 1_000
"""A cue's source text (what was said, shown beside the translation) at most: a cue's worth of
speech is a few dozen words; more is not a subtitle's, and every revision keeps it again."""

MAX_CUES = reader.MAX_CUES
"""Cues one save may hold: as many as a subtitle file may bring (a film has about 1,500)."""

UNSURE_PROBABILITY = 0.5
"""A word the local engine heard with less confidence than this makes its cue worth a look."""

SAVE_LOCK_MS = 30_000
"""How long one save may hold its file's lock (a save takes milliseconds)."""


class Conflict(SubcueError):
    """The cues changed since the revision the save was made from."""

    status, code = 409, "conflict"


class NotEditable(SubcueError):
    """Only a finished translate job's cues can be edited."""

    status, code = 409, "not_editable"


class BadCue(BadRequest):
    """A cue a save cannot keep; `cue` is its number (1-based), as the editor shows it."""

    code = "bad_cue"

    def __init__(self, message: str, cue: int):
        super().__init__(message, code=self.code)
        self.where = {"cue": cue}


@dataclass(frozen=True)
class Target:
    """The outputs a file's cues in one language are written to."""

    file_id: str
    language: str
    stem: str
    """Output names without extension: `talk.de` writes talk.de.srt, .vtt, .json."""

    @property
    def field(self) -> str:
        """The job record's field holding the latest revision number."""
        return f"revision:{self.file_id}:{self.language}"

    def revision_key(self, job_id: str, revision: int) -> str:
        """Where a revision's JSON is kept."""
        where = f"revisions/{self.file_id}/{self.language}/{revision}.json"
        return stores.job_prefix(job_id) + where


def bilingual_stems(rec: dict, where: Target) -> list[tuple[str, str]]:
    """The job's bilingual outputs made from these cues (`talk.en-de` for `talk.de`), with
    their source language: a save writes them again too."""
    found = {}
    for output in rec.get("outputs") or []:
        pair = output.get("language") or ""
        source_language, _, language = pair.partition("-")
        if output.get("file_id") == where.file_id and language == where.language:
            found[output["name"].rsplit(".", 1)[0]] = source_language
    return sorted(found.items())


def check_editable(rec: dict) -> None:
    """NotEditable unless the job is a finished translate job."""
    if rec["status"] != Status.FINISHED.value or rec.get("kind") != "translate":
        raise NotEditable(f"Only a finished translate job's subtitles can be edited; this one "
                          f"is {rec['status']}.")  # fmt: skip


def target(rec: dict, file_id: str | None, language: str | None) -> Target:
    """The file and language to edit (the first file, the first language when not given);
    NotFound when the job has no such subtitles."""
    first = (rec.get("params") or {}).get("target_language")
    found = []
    for output in rec.get("outputs") or []:
        name = output["name"]
        lang = output.get("language") or first
        if name.endswith(".json") and "-" not in (lang or "-") and output.get("file_id"):
            found.append(Target(output["file_id"], lang, name.removesuffix(".json")))
    chosen = [t for t in found if (file_id in (None, t.file_id))
              and (language in (None, t.language))]  # fmt: skip
    if not chosen:
        raise NotFound("This job has no subtitles for that file and language.")
    return chosen[0]


def checked(raw, media_end: float) -> list[Cue]:
    """The cues of a save, in order, or BadCue naming the first that a subtitle file cannot
    hold: times that are not numbers, one that ends before it starts, overlaps the next or
    passes the media's end, no text, or more text than a subtitle should carry."""
    if not isinstance(raw, list) or not raw:
        raise BadRequest('Send the cues as {"base_revision": n, "cues": [{"start", "end", '
                         '"text"}, …]}.', code="bad_cues")  # fmt: skip
    if len(raw) > MAX_CUES:
        raise BadRequest(f"At most {MAX_CUES} cues in one save.", code="bad_cues")
    found = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise BadCue(f"Cue {number} is not an object with start, end and text.", number)
        start, end, text = item.get("start"), item.get("end"), item.get("text")
        if not all(isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t)
                   for t in (start, end)) or start < 0:  # fmt: skip
            raise BadCue(f"Cue {number}: start and end must be seconds from 0.", number)
        if not isinstance(text, str) or not text.strip():
            raise BadCue(f"Cue {number} has no text; delete it instead.", number)
        if end <= start:
            raise BadCue(f"Cue {number} ends before it starts.", number)
        if end > media_end + 0.001:
            raise BadCue(f"Cue {number} ends at {end:.3f} s, after the media ends "
                         f"({media_end:.3f} s).", number)  # fmt: skip
        lines = tuple(line.strip() for line in text.strip().splitlines() if line.strip())
        if len(text) > MAX_CUE_CHARS or len(lines) > MAX_CUE_LINES:
            raise BadCue(f"Cue {number} carries more text than a subtitle should (at most "
                         f"{MAX_CUE_CHARS} characters on {MAX_CUE_LINES} lines); split it.",
                         number)  # fmt: skip
        if "-->" in text:  # SRT would read it as a timing line; WebVTT forbids it
            raise BadCue(f"Cue {number}: a subtitle's text cannot hold \"-->\"; write \"->\" "
                         "or \"→\".", number)  # fmt: skip
        said = item.get("source_text")
        if said is not None and not isinstance(said, str):
            raise BadCue(f"Cue {number}: source_text must be text.", number)
        if len(said or "") > MAX_SOURCE_CHARS:
            raise BadCue(f"Cue {number}: source_text is longer than {MAX_SOURCE_CHARS} "
                         "characters.", number)  # fmt: skip
        if found and start < found[-1].end - 0.0005:
            raise BadCue(f"Cue {number - 1} overlaps the next one: it ends at "
                         f"{found[-1].end:.3f} s, after cue {number} starts.",
                         number - 1)  # fmt: skip
        source = item.get("source_text")
        found.append(Cue(round(float(start), 3), round(float(end), 3), lines,
                         source if isinstance(source, str) else "",
                         speakers=_speakers(item, number, len(lines))))  # fmt: skip
    return found


def _speakers(item: dict, number: int, lines: int) -> tuple[str, ...]:
    """A saved cue's speakers: `speakers` (one name, or one a line) or `speaker`, each a plain
    name of at most speakers.MAX_NAME_CHARS characters; BadCue otherwise."""
    given = item.get("speakers")
    if given is None:
        given = [item["speaker"]] if item.get("speaker") not in (None, "") else []
    if not isinstance(given, list) or (len(given) > 1 and len(given) != lines):
        raise BadCue(f"Cue {number}: speakers is one name, or one a line (two for a cue of two "
                     "lines).", number)  # fmt: skip
    for name in given:
        if why := speakers.problem(name):
            raise BadCue(f"Cue {number}: {why}.", number)
    names = tuple(name.strip() for name in given)
    if not all(names):
        raise BadCue(f"Cue {number}: a speaker's name is empty.", number)
    return names if len(set(names)) > 1 else names[:1]


def flagged(segments: list[dict], style: Style, language: str, media_end: float) -> list[dict]:
    """A JSON output's segments as the editor's cues: times, text, source text, and `check`,
    what makes each worth a look first (`unsure`, and the style's rules it breaks)."""
    shaped = [Cue(s["start"], s["end"], tuple(s["text"].split("\n")), s.get("source_text", ""))
              for s in segments]  # fmt: skip
    broken = quality_report.broken_rules(shaped, style, language, media_end)
    found = []
    for segment, rules in zip(segments, broken, strict=True):
        words = segment.get("words") or ()
        unsure = bool(segment.get("unsure")) or any(
            (w.get("probability") is not None and w["probability"] < UNSURE_PROBABILITY)
            for w in words)  # fmt: skip
        found.append({"start": segment["start"], "end": segment["end"], "text": segment["text"],
                      "source_text": segment.get("source_text", ""), "unsure": unsure,
                      "check": (["unsure"] if unsure else [])
                      + [r for r in styles.RULES if r in rules]}
                     | ({"speakers": segment.get("speakers") or [segment["speaker"]]}
                        if segment.get("speaker") else {}))  # fmt: skip
    return found


def latest(conn: redis.Redis, job_id: str, where: Target) -> int:
    """The number of the latest revision (0: as the engine made it)."""
    return int(conn.hget(keys.job(job_id), where.field) or 0)


def dropped(newest: int, kept: int) -> int:
    """The newest revision dropped once `newest` exists and `kept` are kept (0: none is):
    revision 0, what the engine made, is never dropped."""
    return max(0, newest - kept)


def load(conn: redis.Redis, store: Storage, rec: dict, where: Target,
         revision: int | None = None, kept: int | None = None) -> dict:  # fmt: skip
    """One revision (the latest when None) of the file's cues in the language; `kept`: how many
    revisions after 0 are kept (MAX_REVISIONS), to say why an older one is gone. With the
    style's least gap and the speech the job detected (empty if none), which saves carry on."""
    job_id, newest = rec["id"], latest(conn, rec["id"], where)
    wanted = newest if revision is None else revision
    if not 0 <= wanted <= newest:
        raise NotFound(f"No revision {revision}: the latest is {newest}.")
    if kept is not None and 0 < wanted <= dropped(newest, kept):
        raise NotFound(f"Revision {wanted} is no longer kept: only revision 0 and the latest "
                       f"{kept} are.", code="revision_dropped")  # fmt: skip
    key = stores.output_key(job_id, f"{where.stem}.json")
    document = _read(store, key if wanted == newest else where.revision_key(job_id, wanted))
    style = styles.STYLES.get(document.get("style"), styles.STYLES[styles.DEFAULT_STYLE])
    duration = float(document.get("duration_s") or 0)
    return {"revision": wanted, "latest": newest, "file_id": where.file_id,
            "language": where.language, "style": style.name, "duration_s": duration,
            "min_gap_s": round(style.min_gap, 3),
            "cues": flagged(document["segments"], style, where.language, duration),
            "speech": document.get("speech") or []}  # fmt: skip


def save(conn: redis.Redis, store: Storage, config: Config, rec: dict, where: Target,
         body) -> dict:  # fmt: skip
    """Keep a new revision and write the file's SRT, VTT and JSON again from it; returns the
    new revision with the style's warnings (the person's cuts are kept as they are)."""
    job_id = rec["id"]
    check_editable(rec)
    body = body if isinstance(body, dict) else {}
    base = body.get("base_revision")
    if isinstance(base, bool) or not isinstance(base, int):
        raise BadRequest("Send base_revision: the revision these cues were made from.",
                         code="bad_cues")  # fmt: skip
    current = load(conn, store, rec, where)
    shaped = checked(body.get("cues"), current["duration_s"])
    unsure = {n for n, item in enumerate(body["cues"]) if item.get("unsure") is True}
    style = styles.STYLES[current["style"]]
    lock, token = f"{keys.job(job_id)}:editing:{where.field}", secrets.token_hex(8)
    if not conn.set(lock, token, nx=True, px=SAVE_LOCK_MS):
        raise Conflict("Another save of these cues is under way; reload in a moment.")
    try:
        newest = latest(conn, job_id, where)
        if base != newest:
            raise Conflict(
                f"These subtitles were saved elsewhere meanwhile (revision {newest}; "
                f"yours was made from {base}). Reload to see them, then edit again."
            )
        revision = newest + 1
        with tempfile.TemporaryDirectory(dir=_scratch(config)) as tmp:
            # every file written locally first: a save that fails here stores nothing
            duration = current["duration_s"]
            names = bool((rec.get("params") or {}).get("speaker_names"))
            written, report = write_outputs(Path(tmp), where.stem, where.language, duration,
                                            shaped, style, unsure, names,
                                            speakers_ass(conn, rec, where),
                                            speech=current["speech"] or None)  # fmt: skip
            document = written[-1]  # the JSON: the revision kept
            for stem, source_language in bilingual_stems(rec, where):
                pairs = bilingual(shaped, style, source_language)
                both, _ = write_outputs(Path(tmp), stem, where.language, duration, pairs, style,
                                        ass=False)  # fmt: skip
                written += [p for p in both if p.suffix != ".json"]
            if newest == 0:  # keep what the engine made before it is overwritten
                engine_made = stores.output_key(job_id, f"{where.stem}.json")
                _write(store, where.revision_key(job_id, 0), _read(store, engine_made))
            sizes = {path.name: store.put_file(stores.output_key(job_id, path.name), path)
                     for path in written}  # fmt: skip
            store.put_file(where.revision_key(job_id, revision), document)
            if gone := dropped(revision, config.max_revisions):  # one in, the oldest out
                store.delete_prefix(where.revision_key(job_id, gone))
        outputs = [o | ({"size": sizes[o["name"]]} if o["name"] in sizes else {})
                   for o in rec["outputs"]]  # fmt: skip
        quality = [q | ({**report, "summary": quality_report.summary(report, style)}
                        if q.get("file_id") == where.file_id
                        and q.get("language", where.language) == where.language else {})
                   for q in rec.get("quality") or []]  # fmt: skip
        kept = record.update_while(conn, job_id, Status.FINISHED, {
            "outputs": outputs, "quality": quality, where.field: revision})  # fmt: skip
        if not kept:  # deleted meanwhile: leave nothing behind
            store.delete_prefix(stores.job_prefix(job_id))
            raise NotFound("No such job.")
    finally:
        script(conn, "release")(keys=[lock], args=[token])
    return {"revision": revision, "file_id": where.file_id, "language": where.language,
            "quality": report, "summary": quality_report.summary(report, style)}  # fmt: skip


def speakers_ass(conn: redis.Redis, rec: dict, where: Target) -> bool:
    """Whether a save writes the file's `.ass` again: only the one a media file's speakers
    made (a subtitle file's own `.ass`, styles and positions kept, is never overwritten)."""
    kinds = {f["id"]: f.get("kind", "media") for f in session.files(conn, rec["session_id"])}
    listed = {o["name"] for o in rec.get("outputs") or []}
    return kinds.get(where.file_id) == "media" and f"{where.stem}.ass" in listed


def _read(store: Storage, key: str) -> dict:
    """A stored JSON document."""
    try:
        with store.open(key) as stream:
            return json.loads(stream.read())
    except FileNotFoundError as exc:
        raise NotFound("Those subtitles are no longer stored.") from exc


def _write(store: Storage, key: str, document: dict) -> None:
    """Store a JSON document."""
    store.put(key, io.BytesIO(json.dumps(document, ensure_ascii=False).encode()))


def _scratch(config: Config) -> str:
    """Where a save writes its files before storing them (under TEMP_DIR)."""
    root = Path(config.temp_dir) / "editing"
    root.mkdir(parents=True, exist_ok=True)
    return str(root)
