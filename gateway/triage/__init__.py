"""Offline triage: route a caller's words to a desk, the 12345 hotline and an agency, or review.

    clf = load_classifier("config/lexicon.yaml", config.agency_codes())
    clf.classify("路灯坏了三天了").route  # "hotline", agency "municipal"
"""

from gateway.triage.classifier import Classifier, load_classifier
from gateway.triage.lexicon import LexiconError
from gateway.triage.result import EMERGENCY_ROUTES, ROUTES, Match, TriageResult, is_emergency

__all__ = [
    "EMERGENCY_ROUTES",
    "ROUTES",
    "Classifier",
    "LexiconError",
    "Match",
    "TriageResult",
    "is_emergency",
    "load_classifier",
]
