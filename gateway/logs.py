"""Structured (JSON-lines) logging that masks phone numbers and never prints secrets."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from typing import Any

# 7+ digit runs, optionally with +, spaces or dashes inside: phone numbers, ID-like digits.
_PHONE_RE = re.compile(r"(?<!\d)(\+?\d[\d \-]{5,}\d)(?!\d)")
_SECRET_KEYS = re.compile(r"(secret|password|passwd|token|authorization)", re.I)
_registered_secrets: set[str] = set()
# identifiers the gateway makes itself (from Asterisk's UNIQUEID/LINKEDID, never from caller-ID):
# kept whole so log lines can be correlated; a phone number never lands in them
_ID_KEYS = frozenset({"uniqueid", "linkedid", "call_id", "incident_id", "ticket_id", "event_id",
                      "recording_id", "agent_id", "job_id"})


def mask_phone(text: str) -> str:
    """Keep the first three and last two digits of every phone-like run: ``138******78``."""

    def _mask(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(1))
        if len(digits) < 7:
            return m.group(1)
        return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]

    return _PHONE_RE.sub(_mask, text)


def register_secret(value: str | None) -> None:
    """Never let ``value`` reach a log line (AMI secret, HTTP signing key...)."""
    if value and len(value) >= 4:
        _registered_secrets.add(value)


def scrub(text: str) -> str:
    for s in _registered_secrets:
        text = text.replace(s, "***")
    return mask_phone(text)


def _clean(value: Any, key: str = "") -> Any:
    if key and _SECRET_KEYS.search(key):
        return "***"
    if isinstance(value, str):
        if key.lower() in _ID_KEYS:
            for s in _registered_secrets:
                value = value.replace(s, "***")
            return value
        return scrub(value)
    if isinstance(value, dict):
        return {k: _clean(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and any ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            doc.update(_clean(fields))
        if record.exc_info:
            doc["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False, default=str)


def setup_logging(level: str | None = None, stream: Any = None) -> None:
    """Route the stdlib and Twisted logs to JSON lines on stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel((level or os.environ.get("LINKAGE_LOG_LEVEL") or "INFO").upper())


def log(logger: logging.Logger, level: int, msg: str, **fields: Any) -> None:
    """``log(LOG, logging.INFO, "ticket created", ticket_id=..., caller=...)``."""
    logger.log(level, msg, extra={"fields": fields})
