"""Engines turn a chunk of audio into timed segments; the pipeline does everything else.

Checking a request (`check_request`) is cheap and imports no engine library, so the web app
can refuse what an engine cannot do at submission. `load` builds an engine once per process
(one work horse), never once per chunk.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from pydub import AudioSegment

from ..config import Config
from ..errors import BadRequest, EngineUnsupported
from ..languages import LANGUAGES

ENGINES = {"local": "jobs.engines.local:LocalEngine", "gemini": "jobs.engines.gemini:GeminiEngine"}
"""Engine name -> the class implementing it, imported only when a job needs it."""


@dataclass
class ChunkResult:
    """An engine's answer for one chunk: segments in seconds relative to the chunk start."""

    segments: list[dict]
    language: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    extra: dict = field(default_factory=dict)


class Engine(ABC):
    """A speech engine: one call per chunk; `concurrency` calls may run at once."""

    name: str = ""
    concurrency: int = 1

    @abstractmethod
    async def transcribe(
        self, audio: AudioSegment, *, target_language: str, context: str = "",
        before_call: Callable[[], None] | None = None,
    ) -> ChunkResult:  # fmt: skip
        """Transcribe `audio` and give its text in `target_language`.

        `before_call` raises if the job must stop; an engine that makes more than one request
        per chunk (retries) calls it before each one.
        """

    async def analyze(self, wav_path, *, duration: float,
                      before_call: Callable[[], None] | None = None) -> dict:  # fmt: skip
        """A structured analysis of a whole file (engines that offer it)."""
        raise NotImplementedError(f"the {self.name} engine does not analyse whole files")

    async def aclose(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Release network clients or models (default: nothing to do)."""


def check_request(config: Config, engine: str | None, target_language: str | None) -> tuple:
    """Validate an engine/language pair at submission; return the (engine, language) to use."""
    engine = (engine or config.default_engine).strip().lower()
    language = (target_language or "en").strip().lower()
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
    if engine == "local" and language != "en":
        raise EngineUnsupported(
            f"The local Whisper engine can only produce English subtitles, not "
            f"{LANGUAGES[language]}; choose English or the Gemini engine.",
        )
    return engine, language


_loaded: dict[tuple[str, Config], Engine] = {}


def load(config: Config, name: str) -> Engine:
    """The engine `name`, built once per process."""
    key = (name, config)
    if key not in _loaded:
        module_name, class_name = ENGINES[name].split(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        _loaded[key] = cls(config)
    return _loaded[key]
