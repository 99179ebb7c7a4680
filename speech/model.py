"""Load a Vosk model once per process and share it; clear errors for a wrong path.

A model is ~250 MB on disk and ~530 MB resident, so every caller in a process shares one
instance per path (:func:`load_model` caches it).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speech.errors import ModelError

GET_MODELS = (
    "get a model from https://alphacephei.com/vosk/models (vosk-model-small-cn-0.22 or "
    "vosk-model-cn-0.22), unzip it and point LINKAGE_VOSK_MODEL or speech.model_path at the folder "
    "(see docs/speech.md)"
)

_cache: dict[Path, Model] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Model:
    """A loaded Vosk model: ``vosk`` is the ``vosk.Model`` the recognisers share."""

    path: Path
    vosk: Any = field(repr=False)
    load_seconds: float = 0.0

    @property
    def supports_phrases(self) -> bool:
        """Whether the graph can be restricted to a phrase list at run time (small models' HCLr+Gr).

        Big models (one static ``HCLG.fst``, e.g. vosk-model-cn-0.22) decode free text even when
        given phrases; :class:`speech.PhraseRecognizer` then picks the closest phrase to that.
        """
        return (self.path / "graph" / "HCLr.fst").is_file() and (self.path / "graph" / "Gr.fst").is_file()

    def has_word(self, word: str) -> bool:
        """Whether ``word`` is in the model's vocabulary (phrase lists may only use those)."""
        return self.vosk.vosk_model_find_word(word) >= 0


def check_model_dir(path: Path) -> None:
    """Raise :class:`ModelError` unless ``path`` looks like a Vosk model folder."""
    if not path.exists():
        raise ModelError(f"speech model not found: {path} does not exist; {GET_MODELS}")
    if not path.is_dir():
        raise ModelError(f"speech model path {path} is a file, not a model folder; {GET_MODELS}")
    missing = [p for p in ("am/final.mdl", "conf/model.conf") if not (path / p).is_file()]
    graph = path / "graph"
    if not ((graph / "HCLG.fst").is_file() or (graph / "HCLr.fst").is_file()):
        missing.append("graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)")
    if missing:
        nested = [c.name for c in path.iterdir() if c.is_dir() and (c / "am" / "final.mdl").is_file()]
        hint = f"; did you mean the folder inside it, {path / nested[0]}?" if nested else f"; {GET_MODELS}"
        raise ModelError(f"{path} is not a Vosk model folder: missing {', '.join(missing)}{hint}")


def load_model(path: str | os.PathLike[str]) -> Model:
    """The model at ``path``, loaded on first use and shared by every later caller."""
    resolved = Path(path).expanduser().resolve()
    with _lock:
        cached = _cache.get(resolved)
        if cached is not None:
            return cached
        check_model_dir(resolved)
        import vosk

        vosk.SetLogLevel(int(os.environ.get("LINKAGE_VOSK_LOG_LEVEL", "-1")))
        started = time.perf_counter()
        try:
            handle = vosk.Model(str(resolved))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise ModelError(f"Vosk could not load the model in {resolved}: {exc}; {GET_MODELS}") from exc
        model = Model(resolved, handle, time.perf_counter() - started)
        _cache[resolved] = model
        return model


def resolve_model_path(explicit: str | os.PathLike[str] | None = None,
                       env: str = "LINKAGE_VOSK_MODEL") -> Path:
    """``explicit`` if given, else ``$LINKAGE_VOSK_MODEL``; :class:`ModelError` when neither is set."""
    if explicit:
        return Path(explicit)
    value = os.environ.get(env)
    if value:
        return Path(value)
    raise ModelError(f"no speech model configured: set {env} or speech.model_path; {GET_MODELS}")
