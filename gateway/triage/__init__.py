"""Offline triage: route a caller's words to a desk, the 12345 hotline and an agency, or review.

    clf = load_classifier("config/lexicon.yaml", config.agency_codes())
    clf.classify("路灯坏了三天了").route  # "hotline", agency "municipal"
"""

import importlib
import importlib.machinery

from gateway.triage.classifier import Classifier, load_classifier
from gateway.triage.lexicon import LexiconError
from gateway.triage.result import EMERGENCY_ROUTES, ROUTES, Match, TriageResult, is_emergency

# compiled by Cython when it and a C compiler are at hand (setup.py); the .py files are the source
COMPILED_MODULES = ("matcher", "classifier", "scope", "safety_net", "gram_table", "automaton",
                    "naive_bayes", "second_opinion", "normalise", "result")


def _files() -> dict[str, str]:
    """Each module of ``COMPILED_MODULES`` → the file it was imported from."""
    return {name: importlib.import_module(f"{__name__}.{name}").__file__ or "" for name in COMPILED_MODULES}


def compiled_modules() -> dict[str, bool]:
    """For each module of ``COMPILED_MODULES``: is the compiled extension the one imported?"""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return {name: file.endswith(suffixes) for name, file in _files().items()}


def warn_stale(config: object = None) -> list[str]:
    """``WARNERS`` entry: compiled modules older than their ``.py`` source shadow the edit."""
    from pathlib import Path

    out = []
    compiled = compiled_modules()
    for name, file in _files().items():
        source = Path(file).with_name(f"{name}.py")
        if compiled.get(name) and source.is_file() and source.stat().st_mtime > Path(file).stat().st_mtime:
            out.append(f"gateway/triage/{name}.py: newer than its compiled module, which is the one that "
                       "runs: rebuild with `pip install -e .` (or `python setup.py build_ext --inplace`)")
    return out


__all__ = [
    "COMPILED_MODULES",
    "EMERGENCY_ROUTES",
    "ROUTES",
    "Classifier",
    "LexiconError",
    "Match",
    "TriageResult",
    "compiled_modules",
    "is_emergency",
    "load_classifier",
    "warn_stale",
]
