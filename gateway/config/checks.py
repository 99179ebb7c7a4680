"""Extra validations run by ``linkage config check`` beyond the schema of each file.

Each entry is ``"module:function"``; the function takes a :class:`Config` and returns a list of
``file: key: message`` strings (empty when all is well).
"""

from __future__ import annotations

import importlib

from gateway.config.models import Config

CHECKERS: list[str] = [
    "gateway.tickets.checks:check_calendar",
    "gateway.transcripts.checks:check_transcripts",
    "gateway.triage.lexicon:check_config",
    "gateway.triage.safety_net:check_config",
    "gateway.telephony.checks:check",
]


def run_checks(config: Config) -> list[str]:
    errors: list[str] = []
    for spec in CHECKERS:
        module, _, func = spec.partition(":")
        errors.extend(getattr(importlib.import_module(module), func)(config))
    return errors
