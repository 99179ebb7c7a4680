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


#: Like CHECKERS, but what they find is worth saying and must not stop the gateway (a host
#: without a speech model still runs: screening then sends every overflow caller to 110).
WARNERS: list[str] = [
    "gateway.transcripts.checks:warn_transcripts",
    "gateway.triage:warn_stale",
]


def _run(specs: list[str], config: Config) -> list[str]:
    found: list[str] = []
    for spec in specs:
        module, _, func = spec.partition(":")
        found.extend(getattr(importlib.import_module(module), func)(config))
    return found


def run_warnings(config: Config) -> list[str]:
    return _run(WARNERS, config)


def run_checks(config: Config) -> list[str]:
    return _run(CHECKERS, config)
