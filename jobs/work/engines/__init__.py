"""Engines turn a chunk of audio into timed segments; the pipeline does everything else.

Checking a request (`check_request`) is cheap and imports no engine library, so the web app
can refuse what an engine cannot do at submission. `load` builds an engine once per process
(one work horse), never once per chunk.

An engine that uploads the user's media to its provider names each upload in the job's
UploadLog (in Redis) until it has deleted it. A cancel or delete SIGKILLs the work horse, so the
engine's own cleanup never runs; the worker (or, if the whole worker died, the sweeper) then
calls `delete_uploads`, and no copy of the media outlives the job at the provider.
"""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Protocol

import redis

from ... import keys
from ...config import Config
from ...errors import BadRequest, EngineUnsupported
from ...media.audio import AudioSegment
from ...spend.pricing import llm_prices
from ...spend.usage import Usage
from ...subtitles.languages import LANGUAGES

ENGINES = {
    "local": "jobs.work.engines.local:LocalEngine",
    "gemini": "jobs.work.engines.gemini:GeminiEngine",
}
"""Engine name -> the class implementing it, imported only when a job needs it. These hear
audio; a job's `engine` names one of them."""

TEXT_ENGINES = {"llm": "jobs.work.engines.llm:LlmEngine"}
"""Engines that translate text only (a job's `translator`, never its `engine`)."""

TRANSLATORS = ("gemini", "llm")
"""Who may translate a job's text (`translator`): subtitle files, the languages after the
first, and the local engine's transcripts."""

log = logging.getLogger("subcue.engine")


@dataclass
class ChunkResult:
    """An engine's answer for one chunk: segments in seconds relative to the chunk start."""

    segments: list[dict]
    language: str | None = None
    speech: dict | None = None
    """What a model heard, for a language check (the local engine: see local.sounds_foreign)."""
    unsure: bool = False
    """The engine doubts this answer (it had to ask again, or dropped some of it): a person
    should look at its cues first."""


Translated = tuple[dict[int, str], set[int]]
"""A text translation: cue index -> text, and the indexes that had to be asked again."""


class Calls(Protocol):
    """What the job lets an engine do around each request (the job's JobRun is one)."""

    uploads: UploadLog
    """Where the engine names what it uploads, until it has deleted it."""

    def before_call(self) -> None:
        """Raise if the job must stop; called right before every (possibly paid) request."""

    async def reserve(self, amount: int):
        """Reserve the most a paid request may cost (micro-dollars) against the job's cap and
        the budgets; JobFailed `budget_exhausted` when there is no room. Returns the hold
        to pass to `billed`."""

    def billed(self, usage: Usage, hold=None, engine: str | None = None) -> None:
        """Count what one request used, as soon as it is known (failed requests too), and
        settle its reservation (`hold`) to that cost, under `engine` (default: the job's)."""

    def waiting(self, seconds: float | None, who: str = "Gemini") -> None:
        """The next request waits `seconds` for `who`'s quota (None: it no longer waits), so
        the job can say so."""


class UploadLog:
    """The job's uploads at the provider that are not deleted yet (a Redis set)."""

    def __init__(self, conn: redis.Redis, job_id: str):
        self.conn, self.key = conn, keys.uploads(job_id)

    def add(self, name: str) -> None:
        """Record an upload as soon as the provider has named it."""
        with self.conn.pipeline() as pipe:
            pipe.sadd(self.key, name)
            pipe.expire(self.key, keys.UPLOAD_TTL)
            pipe.execute()

    def discard(self, name: str) -> None:
        """Forget an upload once it is deleted."""
        self.conn.srem(self.key, name)

    def names(self) -> list[str]:
        """Uploads not deleted yet."""
        return sorted(n.decode() for n in self.conn.smembers(self.key))


def delete_uploads(config: Config, conn: redis.Redis, job_id: str, names: list[str]) -> None:
    """Delete `names` (read from the job's UploadLog once its horse was gone) at the provider.

    Called by the worker after a horse it killed, and by the sweeper after a dead worker, once
    the job's record has changed: a cancel's answer never waits on the provider.
    """
    if not names:
        return
    if not config.gemini_configured:  # a worker of another deployment's kind: leave them
        conn.sadd(keys.uploads_pending(), job_id)
        log.info("job=%s event=uploads_left_for_a_worker_with_the_key count=%d", job_id,
                 len(names))  # fmt: skip
        return
    deleted: list[str] = []
    try:
        from .gemini_client import delete_files  # the only engine that uploads

        deleted = delete_files(config, names)
        if deleted:
            conn.srem(keys.uploads(job_id), *deleted)  # a no-op once a delete purged the list
            log.info("job=%s event=uploads_deleted count=%d", job_id, len(deleted))
    except Exception:  # the worker's own bookkeeping must go on; the next sweep tries again
        log.exception("job=%s event=uploads_not_deleted count=%d", job_id, len(names))
    if len(deleted) < len(names):
        conn.sadd(keys.uploads_pending(), job_id)
        log.warning("job=%s event=uploads_not_deleted count=%d", job_id,
                    len(names) - len(deleted))  # fmt: skip


def delete_pending_uploads(config: Config, conn: redis.Redis) -> int:
    """Delete the uploads that other processes left (see delete_uploads), if this one has the
    key; returns for how many jobs. A list that expired with the provider's copies is done."""
    if not config.gemini_configured:
        return 0
    pending = [i.decode() if isinstance(i, bytes) else i
               for i in conn.smembers(keys.uploads_pending())]  # fmt: skip
    for job_id in pending:
        if conn.hget(keys.job(job_id), "status") in (b"running", b"cancelling"):
            continue  # retried meanwhile: its list names the new run's uploads too; later
        conn.srem(keys.uploads_pending(), job_id)  # delete_uploads puts back what fails again
        delete_uploads(config, conn, job_id, UploadLog(conn, job_id).names())
    return len(pending)


class Engine(ABC):
    """A speech engine: one call per chunk; `concurrency` calls may run at once."""

    name: str = ""
    concurrency: int = 1
    tells_speakers: bool = False
    """Whether its segments say who speaks (`speaker`)."""

    @abstractmethod
    async def transcribe(self, audio: AudioSegment, *, target_language: str, context: str,
                         calls: Calls, glossary: list[dict] = (),
                         speakers: list[str] = ()) -> ChunkResult:  # fmt: skip
        """Transcribe `audio` and give its text in `target_language` (using the session's
        `glossary` where the engine can); an engine that can tell voices apart gives each
        segment a `speaker` and reads `speakers`, prompt lines naming the previous chunk's.

        `calls.before_call()` comes before each request (an engine that retries calls it before
        each attempt) and `calls.billed()` after each; uploads are named in `calls.uploads`.
        """

    async def analyze(self, wav_path, *, duration: float, calls: Calls,
                      glossary: list[dict] = ()) -> dict:  # fmt: skip
        """A structured analysis of a whole file (engines that offer it)."""
        raise NotImplementedError(f"the {self.name} engine does not analyse whole files")

    async def translate_cues(self, cues: list[tuple[int, str]], *, target_language: str,
                             context: list[tuple[int, str]], calls: Calls,
                             glossary: list[dict] = ()) -> Translated:  # fmt: skip
        """Translate subtitle cues as text, (index, text) -> {index: translation}, every index
        answered, and the indexes the engine had to ask again (engines that translate text)."""
        raise NotImplementedError(f"the {self.name} engine does not translate text")

    async def heard_foreign(self, wav, signals: list[dict], first_speech: float) -> bool:
        """Whether a file's speech was in a language the engine cannot hear, given what its
        chunks reported (`ChunkResult.speech`). Default: the engine hears every language."""
        return False

    async def aclose(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Release network clients or models (default: nothing to do)."""


def offered(config: Config) -> list[dict]:
    """What each engine this server can run does, for the forms: its name, a label, what it
    can make, and the target languages it accepts (check_request enforces the same)."""
    engines = [{"name": "local", "label": "Local Whisper (free, English)",
                "note": "Free, on this server: English subtitles of English speech. "
                        "It cannot translate or understand other languages.",
                "languages": ["en"]}]  # fmt: skip
    if config.gemini_configured:
        engines.append({"name": "gemini", "label": "Gemini (paid, translates)",
                        "note": "Paid per minute of audio: subtitles in any of these languages, "
                                "from speech in any language.",
                        "languages": list(LANGUAGES)})  # fmt: skip
    return engines


def translators_offered(config: Config) -> list[dict]:
    """Who can translate text on this server, for the forms (check_translator enforces it)."""
    found = []
    if config.gemini_configured:
        note = f"Google Gemini ({config.gemini_model}), paid per token."
        found.append({"name": "gemini", "label": "Gemini", "note": note})
    if config.llm_configured:
        found.append({"name": "llm", "label": f"LLM: {config.llm_model}",
                      "note": "The OpenAI-compatible server this deployment runs or pays "
                              f"for ({config.llm_model})."})  # fmt: skip
    return found


def check_translator(config: Config, engine: str, translator) -> str | None:
    """Who translates a job's text: `translator` as sent (gemini or llm, refused when this
    server is not configured for it), else Gemini when Gemini hears the audio, else the LLM
    when one is configured, else nobody (None: the job cannot translate)."""
    if translator is not None and not isinstance(translator, str):
        raise BadRequest(f'The translator must be text such as "llm", not {translator!r:.40}.',
                         code="unknown_translator")  # fmt: skip
    name = (translator or "").strip().lower()
    if not name:
        if engine == "gemini":
            return "gemini"
        return "llm" if config.llm_configured else None
    if name not in TRANSLATORS:
        raise BadRequest(f"Unknown translator {name!r}; choose one of: "
                         f"{', '.join(TRANSLATORS)}.", code="unknown_translator")  # fmt: skip
    if name == "gemini" and not config.gemini_configured:
        raise EngineUnsupported("Gemini is not configured on this server (no GEMINI_API_KEY); "
                                "it cannot translate.", code="engine_not_configured")  # fmt: skip
    if name == "llm" and not config.llm_configured:
        raise EngineUnsupported("No LLM is configured on this server (LLM_BASE_URL and "
                                "LLM_MODEL); it cannot translate.",
                                code="engine_not_configured")  # fmt: skip
    return name


def paid(config: Config, engine: str, translator: str | None) -> bool:
    """Whether a job may cost money, so the daily budgets apply: Gemini hears its audio, or
    translates its text, or the LLM does with LLM_PRICES above 0 (a local server is free).
    Every engine but the local one is paid."""
    if engine != "local" or translator == "gemini":
        return True
    return translator == "llm" and not llm_prices(config).free


def heard_language(engine: str, languages: list[str]) -> str:
    """The language an engine writes from the audio itself: English for the local engine
    (its model hears only English), else the job's first language. Every other language of
    the job is a text translation of those cues."""
    return "en" if engine == "local" else languages[0]


def translated_languages(engine: str, languages: list[str]) -> list[str]:
    """The job's languages its translator makes from what the engine heard (all but the
    heard one; a subtitle file's are all translated besides)."""
    heard = heard_language(engine, languages)
    return [code for code in languages if code != heard]


def makers(engine: str, translator: str | None, translates: bool) -> str:
    """Who makes a job's subtitles, as its line in the job list says it: the engine, or
    "local + llm" when another translates (`translates`: the job has text to translate)."""
    return f"{engine} + {translator}" if translates and translator not in (None, engine) else engine


def check_request(config: Config, engine: str | None, target_language: str | None,
                  translator: str | None = None) -> tuple:  # fmt: skip
    """Validate an engine/language pair at submission; return the (engine, language) to use.
    Either may come from a JSON body, so anything but text is refused as unknown.
    `translator`: who translates the job's text (check_translator's answer); with one, the
    local engine's English is translated into any language."""
    for value, what, example, code in (
        (engine, "engine", '"local"', "unknown_engine"),
        (target_language, "target language", '"de"', "unknown_language"),
    ):
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"The {what} must be text such as {example}, not {value!r:.40}.",
                             code=code)  # fmt: skip
    engine = (engine or config.default_engine).strip().lower()
    language = (target_language or "en").strip().lower()
    if engine in TEXT_ENGINES:
        raise BadRequest(f"The {engine} engine translates text only and cannot hear audio; "
                         f"send engine=local (or gemini) with translator={engine}.",
                         code="unknown_engine")  # fmt: skip
    if engine not in ENGINES:
        raise BadRequest(
            f"Unknown engine {engine!r}; choose one of: {', '.join(sorted(ENGINES))}.",
            code="unknown_engine",
        )
    if language not in LANGUAGES:
        raise BadRequest(
            f"Unknown target language {language!r}; use an ISO 639-1 code such as "
            f"{', '.join(list(LANGUAGES)[:6])}.",
            code="unknown_language",
        )
    if engine == "gemini" and not config.gemini_configured:
        raise EngineUnsupported(
            "The Gemini engine is not configured on this server (no GEMINI_API_KEY); "
            "use the local engine.",
            code="engine_not_configured",
        )
    if engine == "local" and language != "en" and translator is None:
        raise EngineUnsupported(
            f"The local Whisper engine can only produce English subtitles, not "
            f"{LANGUAGES[language]}; choose English, the Gemini engine, or a translator "
            f"(translator=llm, when this server has an LLM).",
        )
    return engine, language


_loaded: dict[tuple[str, Config], Engine] = {}


def load(config: Config, name: str) -> Engine:
    """The engine `name`, built once per process."""
    key = (name, config)
    if key not in _loaded:
        module_name, class_name = (ENGINES | TEXT_ENGINES)[name].split(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        _loaded[key] = cls(config)
    return _loaded[key]
