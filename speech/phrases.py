"""Phrase-list recognition: which of a few known phrases did the caller say (IVR menus)?"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from speech.audio import read_pcm
from speech.model import Model
from speech.recognizer import check_phrases, new_recognizer


def similarity(heard: str, phrase: str) -> float:
    """Word-overlap F1 between what was heard and a phrase, tie-broken by character similarity."""
    a, b = heard.split(), phrase.split()
    if not a or not b:
        return 0.0
    common = sum((Counter(a) & Counter(b)).values())
    f1 = 2 * common / (len(a) + len(b))
    return round(f1 + 0.01 * SequenceMatcher(None, "".join(a), "".join(b)).ratio(), 4)


def match_phrase(heard: str, phrases: Sequence[str]) -> tuple[str | None, float]:
    """The phrase closest to ``heard`` and its score (``None``, 0 when nothing overlaps)."""
    best, score = None, 0.0
    for p in phrases:
        s = similarity(heard, p)
        if s > score:
            best, score = p, s
    return best, score


@dataclass(frozen=True)
class PhraseMatch:
    phrase: str | None   # the chosen phrase, None when nothing matched well enough
    score: float         # 0..~1
    heard: str           # the recogniser's best text
    alternatives: tuple[str, ...] = ()


class PhraseRecognizer:
    """A recogniser restricted to ``phrases`` that picks the phrase a recording says.

    Vosk's grammar mode lets the decoder join phrase words freely, so the answer is the
    phrase closest to the n-best texts; below ``min_score`` it is ``None``.
    """

    def __init__(self, model: Model, phrases: Sequence[str], sample_rate: int = 8000,
                 min_score: float = 0.3, alternatives: int = 3):
        self.model = model
        self.phrases = check_phrases(model, phrases)
        self.sample_rate = sample_rate
        self.min_score = min_score
        self._rec: Any = new_recognizer(model, sample_rate, self.phrases, alternatives=alternatives)
        self._lock = threading.Lock()

    def recognize_file(self, path: str | os.PathLike[str]) -> PhraseMatch:
        return self.recognize_pcm(read_pcm(path, self.sample_rate))

    def recognize_pcm(self, pcm: bytes) -> PhraseMatch:
        with self._lock:
            self._rec.Reset()
            self._rec.AcceptWaveform(pcm)
            result = json.loads(self._rec.FinalResult())
        alts = [a.get("text", "") for a in result.get("alternatives", [])] or [result.get("text", "")]
        best, score = None, 0.0
        for rank, text in enumerate(alts):
            phrase, s = match_phrase(text, self.phrases)
            s *= 1.0 - 0.05 * rank
            if phrase is not None and s > score:
                best, score = phrase, s
        if score < self.min_score:
            best = None
        return PhraseMatch(best, round(score, 4), alts[0] if alts else "", tuple(alts))
