"""The whisper-asr-webservice API's side of a job: Bazarr sends raw 16 kHz mono s16le PCM
(`encode=false`), asks for `srt`, `vtt`, `txt`, `tsv` or `json`, and retries a request that
timed out with the same audio, which must join the job already running for it."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import BinaryIO

import redis

from .. import keys
from ..media.probe import SAMPLE_RATE

OUTPUTS = ("srt", "vtt", "txt", "tsv", "json")
"""The `output` formats whisper-asr-webservice offers; `srt` is ours by default."""

TASKS = ("transcribe", "translate")
"""`transcribe` keeps the spoken language; `translate` is into English (Whisper's meaning)."""

WAV_HEADER_BYTES = 44
"""A canonical PCM WAV header: RIFF, fmt and data chunk headers."""

MAX_WAV_DATA = 0xFFFFFFFF - 36
"""The most PCM bytes a WAV's 32-bit sizes can describe (about 37 hours at 16 kHz mono)."""

COPY_BYTES = 1024 * 1024
"""Bytes copied at a time when wrapping PCM, so memory does not grow with the upload."""

DEDUPE_TTL = 6 * 3600
"""Seconds a request's dedupe key points at its job (a job lasts at most JOB_TIMEOUT)."""


def wav_header(data_bytes: int, rate: int = SAMPLE_RATE, channels: int = 1,
               width: int = 2) -> bytes:  # fmt: skip
    """The 44-byte header of a PCM WAV holding `data_bytes` of samples."""
    if not 0 <= data_bytes <= MAX_WAV_DATA:
        raise ValueError(f"{data_bytes} bytes of PCM do not fit in one WAV file")
    block = channels * width
    return (
        b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, width * 8)
        + b"data" + struct.pack("<I", data_bytes)
    )  # fmt: skip


def wrap_pcm(source: BinaryIO, dest: Path, size: int) -> int:
    """Write `size` bytes of raw 16 kHz mono s16le PCM from `source` to `dest` as a WAV file
    (an odd last byte, half a sample, is dropped); returns the PCM bytes written."""
    data = size - size % 2
    with open(dest, "wb") as out:
        out.write(wav_header(data))
        left = data
        while left:
            block = source.read(min(COPY_BYTES, left))
            if not block:
                raise ValueError("the upload ended before its announced size")
            out.write(block)
            left -= len(block)
    return data


def dedupe_key(task: str, language: str | None, video_file: str | None, digest: str) -> str:
    """The Redis key naming the job for this request: the same media (`video_file` if given,
    else the audio's SHA-256) with the same task and language is the same job."""
    what = f"path:{video_file}" if video_file else f"sha256:{digest}"
    basis = json.dumps([task, language or "", what])
    return keys.library_request(hashlib.sha256(basis.encode()).hexdigest())


def claim(conn: redis.Redis, key: str, job_id: str) -> None:
    """Point the request's key at its job (for DEDUPE_TTL)."""
    conn.set(key, job_id, ex=DEDUPE_TTL)


def document(found: dict, output: str) -> str:
    """The job's JSON output (`{"language", "segments": [{"start", "end", "text"}]}`) in
    one of the `txt`, `tsv` or `json` formats of whisper-asr-webservice (SRT and VTT are the
    job's own files)."""
    segments = found.get("segments") or []
    lines = [" ".join(str(s.get("text", "")).split()) for s in segments]
    if output == "txt":
        return "".join(f"{line}\n" for line in lines)
    if output == "tsv":  # whisper's writer: integer milliseconds, a header line
        rows = [f"{round(1000 * s['start'])}\t{round(1000 * s['end'])}\t{line}"
                for s, line in zip(segments, lines, strict=True)]  # fmt: skip
        return "start\tend\ttext\n" + "".join(f"{row}\n" for row in rows)
    if output == "json":
        body = {
            "language": found.get("language"),
            "segments": [{"id": n, "start": s["start"], "end": s["end"], "text": line}
                         for n, (s, line) in enumerate(zip(segments, lines, strict=True))],
            "text": " ".join(lines),
        }  # fmt: skip
        return json.dumps(body, ensure_ascii=False)
    raise ValueError(f"no document of format {output!r}")
