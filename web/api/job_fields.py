"""A job's fields as the API and the form send them, read and checked: kind, target languages,
flags, cost cap, style, video mode, and which files the job may take."""

from __future__ import annotations

from jobs.errors import BadRequest, EngineUnsupported
from jobs.media import probe, video
from jobs.subtitles import styles
from jobs.subtitles.formats import reader
from jobs.subtitles.languages import LANGUAGES
from jobs.work.engines import check_request, check_translator

from .. import context

KINDS = ("translate", "analyze")


def flag(value: str | None, default: bool, name: str = "keep_running") -> bool:
    """Parse a form/JSON boolean ('true', '1', 'on', 'false', '0', 'off')."""
    if value is None or value == "":
        return default
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise BadRequest(f"{name} must be true or false, not {value!r}.", code="bad_flag")


MAX_LANGUAGES = 10
"""Target languages in one job at most."""


def target_languages(values) -> list[str]:
    """`target_languages` (a JSON list, or form fields each holding one or more comma-separated
    codes), else `target_language`: the codes in order, without repeats (may be empty)."""
    raw = values.getlist("target_languages") if hasattr(values, "getlist") else \
        values.get("target_languages")  # fmt: skip
    if raw is None or raw == []:
        raw = [values.get("target_language") or ""]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        raise BadRequest("target_languages must be a list of language codes such as "
                         '["de", "fr"].', code="unknown_language")  # fmt: skip
    codes = [c.strip().lower() for r in raw for c in r.split(",") if c.strip()]
    codes = list(dict.fromkeys(codes))
    if len(codes) > MAX_LANGUAGES:
        raise BadRequest(f"At most {MAX_LANGUAGES} target languages in one job.",
                         code="too_many_languages")  # fmt: skip
    return codes


def check_files(kind: str, params: dict, files: list[dict]) -> None:
    """Refuse what the job cannot do with these files (422): subtitle files are translated as
    text, which takes a translator (Gemini or the LLM); an analysis needs at least one media
    file (it leaves subtitle files out)."""
    mode = params.get("video", "none")
    if mode != "none":
        if without := [f["name"] for f in files if not f.get("has_video")]:
            raise EngineUnsupported(f"{without[0]} has no video stream to put subtitles in; "
                                    "choose video=none for it.", code="no_video")  # fmt: skip
        ffmpeg = probe.ffmpeg_binary(context.config().ffmpeg_binary)
        if mode == "burn" and not video.can_burn(ffmpeg):
            raise EngineUnsupported(video.NO_LIBASS.format(ffmpeg=ffmpeg), code="cannot_burn")
    if params.get("sync"):
        check_sync(params, files)
    subtitles = to_translate(params, files)
    if not subtitles:
        return
    if kind == "analyze":
        if len(subtitles) == len(files):
            raise EngineUnsupported(f"{subtitles[0]} is a subtitle file: there is no audio to "
                                    "analyse.", code="not_media")  # fmt: skip
        return
    if not params.get("translator"):
        raise EngineUnsupported(f"{subtitles[0]} is a subtitle file. Translating subtitles "
                                "takes a translator (Gemini, or an LLM: translator=llm); the "
                                "local engine only transcribes English speech.")  # fmt: skip


def to_translate(params: dict, files: list[dict]) -> list[str]:
    """The subtitle files whose text the job's translator gets: all of them, but in a `sync`
    job only those in another language than the target (a re-timed file keeps its own text)."""
    subtitles = [f["name"] for f in files if f.get("kind") == "subtitles"]
    if not params.get("sync"):
        return subtitles
    own = params.get("source_language") or params["target_language"]
    languages = params.get("target_languages") or [params["target_language"]]
    return [n for n in subtitles
            if languages != [(reader.stem_and_language(n)[1] or own)]]  # fmt: skip


def check_sync(params: dict, files: list[dict]) -> None:
    """Refuse a `sync` job (400 bad_sync) without a media file, without a subtitle file, or
    with a subtitle file whose name does not start with a media file's stem."""
    names = [f["name"] for f in files if f.get("kind") != "subtitles"]
    subtitles = [f["name"] for f in files if f.get("kind") == "subtitles"]
    if not names or not subtitles:
        missing = "a media file (video or audio)" if not names else "a subtitle file"
        raise BadRequest(f"sync re-times a subtitle file to its media: upload {missing} too, "
                         "named alike (film.mp4 with film.srt or film.en.srt).",
                         code="bad_sync")  # fmt: skip
    for name in subtitles:
        if not any(reader.belongs(name, m) for m in names):
            raise BadRequest(f"sync pairs a subtitle file with the media whose name it starts "
                             f"with; no media file goes with {name} (film.mp4 takes film.srt "
                             "or film.en.srt).", code="bad_sync")  # fmt: skip


MAX_COST_LIMIT_USD = 10_000.0
"""The largest max_cost_usd accepted (a typo guard, not a budget)."""


def max_cost(value) -> float | None:
    """Parse max_cost_usd: None when absent or empty, else a number of dollars above 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        amount = float(value)
    except (TypeError, ValueError):
        amount = float("nan")
    if isinstance(value, bool) or not 0 < amount <= MAX_COST_LIMIT_USD:
        raise BadRequest(f"max_cost_usd must be an amount in USD above 0 and at most "
                         f"{MAX_COST_LIMIT_USD:,.0f}, such as 0.50; not {value!r}.",
                         code="bad_max_cost")  # fmt: skip
    return round(amount, 6)


def job_params(values, kind: str = "translate") -> tuple[dict, str]:
    """Validate kind, engine, target language, style, keep_running and max_cost_usd; return
    (params, kind)."""
    if kind not in KINDS:
        raise BadRequest(f"Unknown job kind {kind!r}; use 'translate' or 'analyze'.",
                         code="unknown_kind")  # fmt: skip
    config = context.config()
    engine, _ = check_request(config, values.get("engine") or None, None)
    translator = check_translator(config, engine, values.get("translator"))
    checked = [check_request(config, engine, code or None, translator)
               for code in target_languages(values) or [""]]  # fmt: skip
    languages = [language for _, language in checked]
    keep = flag(values.get("keep_running"), default=True)
    style = str(values.get("style") or styles.DEFAULT_STYLE).strip().lower()
    if style not in styles.STYLES:
        raise BadRequest(f"Unknown subtitle style {style!r}; choose one of: "
                         f"{', '.join(styles.STYLES)}.", code="unknown_style")  # fmt: skip
    params = {"target_language": languages[0], "engine": engine, "keep_running": keep}
    if translator:
        params["translator"] = translator  # who translates text (subtitle files, languages)
    if len(languages) > 1:
        params["target_languages"] = languages
    if flag(values.get("bilingual"), default=False, name="bilingual"):
        params["bilingual"] = True
    if flag(values.get("speaker_names"), default=False, name="speaker_names"):
        params["speaker_names"] = True  # "ANNA: " before each speaker's lines (SRT, WebVTT)
    mode = str(values.get("video") or "none").strip().lower()
    if mode not in video.MODES:
        raise BadRequest(f"video must be one of {', '.join(video.MODES)}, not {mode!r}.",
                         code="bad_video")  # fmt: skip
    if mode != "none":
        if kind != "translate":
            raise BadRequest("video applies to translate jobs only.", code="bad_video")
        params["video"] = mode
    if flag(values.get("sync"), default=False, name="sync"):
        if kind != "translate" or mode != "none":
            raise BadRequest("sync re-times subtitle files: it applies to translate jobs "
                             "without video output.", code="bad_sync")  # fmt: skip
        params["sync"] = True
    source = str(values.get("source_language") or "").strip().lower()
    if source:
        if source not in LANGUAGES:
            raise BadRequest(f"Unknown source language {source!r}; use an ISO 639-1 code such "
                             "as en.", code="unknown_language")  # fmt: skip
        params["source_language"] = source
    cap = max_cost(values.get("max_cost_usd"))
    if cap is not None and (engine != "local" or translator):  # local alone is free
        params["max_cost_usd"] = cap
    return params | {"style": style}, kind
