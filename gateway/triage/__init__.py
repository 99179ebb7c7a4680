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
COMPILED_MODULES = ("matcher", "classifier", "scope", "safety_net")


def compiled_modules() -> dict[str, bool]:
    """For each module of ``COMPILED_MODULES``: is the compiled extension the one imported?"""
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return {name: (importlib.import_module(f"{__name__}.{name}").__file__ or "").endswith(suffixes)
            for name in COMPILED_MODULES}


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
]
