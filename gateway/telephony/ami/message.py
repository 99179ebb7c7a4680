"""AMI messages: ``Key: value`` lines ended by CRLF, a message ended by an empty line.

Repeated keys (``Output:`` of ``Command``, ``Variable:``) keep every value: the key then maps to a
list, and :meth:`AmiMessage.getall` always returns one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_FORBIDDEN = ("\r", "\n")


class AmiMessage(dict):
    """One response or event; the first line names which (``Response:`` or ``Event:``)."""

    __slots__ = ()

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    @property
    def success(self) -> bool:
        return self.get("Response") in ("Success", "Goodbye", "Follows")

    def getall(self, key: str) -> list[str]:
        value = self.get(key)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    @property
    def output(self) -> str:
        """The ``Output:`` lines of a ``Command`` response, joined by newlines."""
        return "\n".join(self.getall("Output"))


def parse_message(text: str) -> AmiMessage:
    """Parse one message (without the terminating blank line). Lines without ``": "`` are kept
    as ``Output`` (older Asterisk printed command output raw); repeated keys become lists."""
    lines = text.split("\r\n")
    try:
        msg = AmiMessage([line.split(": ", 1) for line in lines])
    except ValueError:  # a line without ": "
        return _parse_slow(text)
    if len(msg) != len(lines):  # repeated keys (or empty lines)
        return _parse_slow(text)
    return msg


def _parse_slow(text: str) -> AmiMessage:
    msg = AmiMessage()
    for line in text.split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":"):
                key, value = line[:-1], ""
            elif not line:
                continue
            else:
                key, value = "Output", line
        if key in msg:
            prev = msg[key]
            if isinstance(prev, list):
                prev.append(value)
            else:
                msg[key] = [prev, value]
        else:
            msg[key] = value
    return msg


def serialize_action(action: Mapping[str, Any]) -> bytes:
    """``{"Action": "Ping", "ActionID": "x"}`` → the CRLF wire form. List values repeat the key;
    a value holding CR or LF is refused (header injection)."""
    out = []
    for key, value in action.items():
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else (value,)
        for v in values:
            s = str(v)
            if any(c in s for c in _FORBIDDEN) or any(c in key for c in _FORBIDDEN):
                raise ValueError(f"AMI {key} value contains a line break")
            out.append(f"{key}: {s}\r\n")
    out.append("\r\n")
    return "".join(out).encode("utf-8")
