"""Streaming recognition for the IVR: 20 ms frames in, partial and final results out.

Audio arrives as signed 16-bit mono frames (EAGI file descriptor 3: 320 bytes per 20 ms at
8 kHz). :meth:`StreamingRecognizer.feed` returns events at once, so a danger word in a
*partial* can hand the caller back to 110 before they finish speaking.

End of speech: after words have been heard, ``end_silence_ms`` of audio quieter than
``silence_dbfs`` closes the utterance; Vosk's own endpointing (the trailing-silence rules in
the model's ``conf/model.conf``, 0.5–2 s) applies too. The utterance's *final* event then
carries ``end_of_speech=True``.
"""

from __future__ import annotations

import json
import math
import os
import queue
import random
import struct
import sys
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from speech.model import Model
from speech.recognizer import new_recognizer
from speech.transcript import Word

FRAME_MS = 20


def dbfs(pcm: bytes) -> float:
    """Level of 16-bit little-endian PCM in dB relative to full scale (-inf for digital silence)."""
    samples = array("h", pcm[: len(pcm) - len(pcm) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        return -math.inf
    mean_square = sum(x * x for x in samples) / len(samples)
    return 10 * math.log10(mean_square / 32768**2) if mean_square else -math.inf


@dataclass(frozen=True)
class Event:
    """``partial``: words so far (may change); ``final``: an utterance's settled words."""

    type: Literal["partial", "final"]
    text: str
    at: float                      # seconds of audio fed when the event was produced
    words: tuple[Word, ...] = field(default=())
    end_of_speech: bool = False    # final produced by endpointing (not by finish())

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "text": self.text, "at": round(self.at, 3),
                "end_of_speech": self.end_of_speech,
                "words": [{"text": w.text, "start": w.start, "end": w.end, "conf": w.conf}
                          for w in self.words]}


def _words(items: list[dict[str, Any]], offset: float) -> tuple[Word, ...]:
    return tuple(Word.from_vosk(i, None, -offset) for i in items)


class StreamingRecognizer:
    """One caller's audio stream; ``phrases`` restricts it to a phrase list (IVR menus).

    ``end_silence_ms=None`` leaves end-of-speech detection to Vosk's endpointer alone.
    Partials are asked of Vosk at most every ``partial_interval_ms`` of audio (each costs a
    best-path search; 0 asks on every chunk).
    ``partial_words=True`` adds word times to partials, but Vosk then reports them ~1 s later
    (measured: first partial 2.1 s instead of 0.9 s into an utterance), so it is off by default.
    """

    def __init__(self, model: Model, sample_rate: int = 8000, phrases: Sequence[str] | None = None,
                 *, end_silence_ms: int | None = 600, silence_dbfs: float = -40.0,
                 partial_interval_ms: int = 100, partial_words: bool = False, recognizer: Any = None):
        self.model = model
        self.sample_rate = sample_rate
        self.phrases = list(phrases) if phrases is not None else None
        self.end_silence_bytes = None if end_silence_ms is None else end_silence_ms * sample_rate * 2 // 1000
        self.silence_dbfs = silence_dbfs
        self.partial_interval_bytes = partial_interval_ms * sample_rate * 2 // 1000
        self._next_partial = 0  # audio position (bytes) at which to ask Vosk for a partial again
        self._quiet = 0  # bytes of trailing quiet audio since the last loud chunk
        self._rec = recognizer or new_recognizer(model, sample_rate, self.phrases,
                                                 partial_words=partial_words)
        self._carry = b""
        self._bytes = 0
        self._base = 0  # bytes fed before the last reset: Vosk's times count from its first sample
        self._partial = ""

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio fed since the last reset."""
        return self._bytes / (2 * self.sample_rate)

    def feed(self, data: bytes) -> list[Event]:
        """Take the next chunk of 16-bit PCM (any length; an odd byte waits for its pair)."""
        data = self._carry + data
        usable = len(data) - len(data) % 2
        self._carry = data[usable:]
        if not usable:
            return []
        self._bytes += usable
        chunk = data[:usable]
        if self._rec.AcceptWaveform(chunk):
            return self._final(json.loads(self._rec.Result()), end_of_speech=True)
        if self.end_silence_bytes is not None:
            self._quiet = self._quiet + usable if dbfs(chunk) < self.silence_dbfs else 0
            if self._partial and self._quiet >= self.end_silence_bytes:
                return self._final(json.loads(self._rec.FinalResult()), end_of_speech=True)
        if self._bytes < self._next_partial:
            return []
        self._next_partial = self._bytes + self.partial_interval_bytes
        partial = json.loads(self._rec.PartialResult())
        text = partial.get("partial", "")
        if text and text != self._partial:
            self._partial = text
            words = _words(partial.get("partial_result", []), self._offset)
            return [Event("partial", text, self.audio_seconds, words)]
        return []

    def finish(self) -> list[Event]:
        """End of the stream (hang-up, DTMF, timeout): the last utterance's final, if any words."""
        self._carry = b""
        return self._final(json.loads(self._rec.FinalResult()), end_of_speech=False)

    def reset(self) -> None:
        """Forget the current stream; the recogniser stays warm for the next caller."""
        self._rec.Reset()
        self._base += self._bytes
        self._carry, self._bytes, self._partial, self._quiet, self._next_partial = b"", 0, "", 0, 0

    def _final(self, result: dict[str, Any], end_of_speech: bool) -> list[Event]:
        self._partial, self._quiet = "", 0
        text = result.get("text", "")
        if not text:
            return []
        return [Event("final", text, self.audio_seconds, _words(result.get("result", []), self._offset),
                      end_of_speech)]

    @property
    def _offset(self) -> float:
        return self._base / (2 * self.sample_rate)


def read_frames(fd: int = 3, sample_rate: int = 8000, frame_ms: int = FRAME_MS) -> Iterator[bytes]:
    """Whole frames of audio from a file descriptor (EAGI gives the caller's audio on fd 3).

    Short reads are joined into full frames; at end of file a last partial frame is yielded.
    ``for frame in read_frames(): events = rec.feed(frame)``.
    """
    size = sample_rate * 2 * frame_ms // 1000
    buf = b""
    while True:
        chunk = os.read(fd, size - len(buf))
        if not chunk:
            if buf:
                yield buf
            return
        buf += chunk
        if len(buf) == size:
            yield buf
            buf = b""


def warmup_audio(sample_rate: int, seconds: float = 1.0, seed: int = 8000) -> bytes:
    """Deterministic noise bursts: enough to fill part of a new recogniser's graph caches."""
    rnd = random.Random(seed)
    n = int(sample_rate * seconds)
    return struct.pack(f"<{n}h", *(int(max(-32000, min(32000, rnd.gauss(0, 3000)))) for _ in range(n)))


class RecognizerPool:
    """Warm streaming recognisers for concurrent IVR calls (a new one stalls ~0.5 s at first).

    ``with pool.recognizer() as rec: ...`` lends one and resets it afterwards. ``warmup`` is
    audio fed once to each at creation; a real speech recording warms best, noise by default.
    Other keyword ``options`` (``end_silence_ms``, ``silence_dbfs``) go to each recogniser.
    """

    def __init__(self, model: Model, size: int = 2, sample_rate: int = 8000,
                 phrases: Sequence[str] | None = None, warmup: bytes | None = None, **options: Any):
        if size < 1:
            raise ValueError("a recogniser pool needs at least one recogniser")
        self.size = size
        self._free: queue.LifoQueue[StreamingRecognizer] = queue.LifoQueue()
        audio = warmup if warmup is not None else warmup_audio(sample_rate)
        for _ in range(size):
            rec = StreamingRecognizer(model, sample_rate, phrases, **options)
            if audio:
                rec.feed(audio)
                rec.finish()
            rec.reset()
            self._free.put(rec)

    def acquire(self, timeout: float | None = None) -> StreamingRecognizer:
        """A free recogniser; ``queue.Empty`` when none frees up within ``timeout`` seconds."""
        return self._free.get(timeout=timeout)

    def release(self, rec: StreamingRecognizer) -> None:
        rec.reset()
        self._free.put(rec)

    @contextmanager
    def recognizer(self, timeout: float | None = None) -> Iterator[StreamingRecognizer]:
        rec = self.acquire(timeout)
        try:
            yield rec
        finally:
            self.release(rec)

    @property
    def available(self) -> int:
        return self._free.qsize()
