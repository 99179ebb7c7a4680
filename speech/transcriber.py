"""Batch transcription of recordings with word-level timestamps."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from speech.audio import pcm_duration, read_pcm
from speech.errors import AudioError
from speech.model import Model
from speech.recognizer import new_recognizer
from speech.transcript import Transcript, Word

CHUNK_SECONDS = 0.5


def words_from_result(result: dict[str, Any], duration: float, speaker: str | None = None,
                      offset: float = 0.0) -> list[Word]:
    """Vosk's ``result`` list as :class:`Word` s, shifted by ``-offset``, clamped to the duration."""
    words = []
    for item in result.get("result", []):
        w = Word.from_vosk(item, speaker, -offset)
        end = max(0.0, min(w.end, duration))
        words.append(Word(w.text, max(0.0, min(w.start, end)), end, w.conf, speaker))
    return words


class Transcriber:
    """Transcribe whole recordings with one model at ``sample_rate`` (8 kHz telephone audio).

    The recogniser is kept and reset between files: a new one stalls ~0.5 s on its first
    speech while Vosk fills its graph caches. One instance is for one thread at a time
    (a lock enforces it); make one per thread to use more cores.
    """

    def __init__(self, model: Model, sample_rate: int = 8000, *, convert: bool = True):
        self.model = model
        self.sample_rate = sample_rate
        self.convert = convert
        self._rec: Any = None
        self._fed = 0  # samples this recogniser has taken: Vosk's times count from its first one
        self._lock = threading.Lock()

    def transcribe_file(self, path: str | os.PathLike[str], speaker: str | None = None) -> Transcript:
        """Read ``path`` (converting its format with sox unless ``convert=False``) and transcribe it."""
        return self.transcribe_pcm(read_pcm(path, self.sample_rate, convert=self.convert), speaker)

    def transcribe_pcm(self, pcm: bytes, speaker: str | None = None) -> Transcript:
        """Transcribe signed 16-bit mono PCM at the transcriber's rate."""
        if not pcm:
            raise AudioError("no audio samples to transcribe")
        if len(pcm) % 2:
            raise AudioError(f"16-bit PCM must have an even byte count, got {len(pcm)}")
        duration = pcm_duration(pcm, self.sample_rate)
        step = int(CHUNK_SECONDS * self.sample_rate) * 2
        words: list[Word] = []
        with self._lock:
            if self._rec is None:
                self._rec, self._fed = new_recognizer(self.model, self.sample_rate), 0
            rec = self._rec
            rec.Reset()
            offset = self._fed / self.sample_rate
            self._fed += len(pcm) // 2
            try:
                for i in range(0, len(pcm), step):
                    if rec.AcceptWaveform(pcm[i:i + step]):
                        words += words_from_result(json.loads(rec.Result()), duration, speaker, offset)
                words += words_from_result(json.loads(rec.FinalResult()), duration, speaker, offset)
            except Exception:
                self._rec = None  # never reuse a recogniser in an unknown state
                raise
        words.sort(key=lambda w: (w.start, w.end))
        return Transcript(tuple(words), round(duration, 3), (speaker,) if speaker else ())
