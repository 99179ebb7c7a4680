"""Creating Vosk recognisers for a model: free text with word times, or restricted to phrases."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from speech.errors import ModelError
from speech.model import Model


def check_phrases(model: Model, phrases: Sequence[str]) -> list[str]:
    """The phrases, stripped; :class:`ModelError` naming any word the model does not know.

    Vosk silently drops unknown words from a grammar, which would make a phrase match
    something else, so they are refused here.
    """
    cleaned = [" ".join(p.split()) for p in phrases]
    if not cleaned or any(not p for p in cleaned):
        raise ModelError("a phrase list needs at least one phrase and no empty ones")
    unknown = sorted({w for p in cleaned for w in p.split() if not model.has_word(w)})
    if unknown:
        raise ModelError(f"words not in the model's vocabulary ({model.path}): {', '.join(unknown)}")
    return cleaned


def new_recognizer(model: Model, sample_rate: int, phrases: Sequence[str] | None = None,
                   *, partial_words: bool = False, alternatives: int = 0) -> Any:
    """A ``vosk.KaldiRecognizer`` reporting word times (and, with ``phrases``, only those phrases)."""
    import vosk

    if phrases is not None:
        rec = vosk.KaldiRecognizer(model.vosk, float(sample_rate),
                                   json.dumps(check_phrases(model, phrases), ensure_ascii=False))
    else:
        rec = vosk.KaldiRecognizer(model.vosk, float(sample_rate))
    rec.SetWords(True)
    if partial_words:
        rec.SetPartialWords(True)
    if alternatives:
        rec.SetMaxAlternatives(alternatives)
    return rec
