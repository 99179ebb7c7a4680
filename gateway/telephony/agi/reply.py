"""Parse the replies Asterisk sends to AGI commands (see ``res/res_agi.c``).

Forms handled: ``200 result=N``, ``200 result=N (data)``, ``200 result=N (data) endpos=N``,
``200 result=N endpos=N``, interim ``100 ...`` lines, ``510``, ``511``, single-line ``520`` and the
multi-line ``520-`` … ``520 End of proper usage.`` block. The inline ``HANGUP`` notice is handled by
the session, never here.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from gateway.telephony.agi.errors import (
    AgiDeadChannel,
    AgiError,
    AgiInvalidCommand,
    AgiProtocolError,
    AgiUsageError,
)

# Greedy data group: the last ")" that is followed only by " key=value" pairs closes the data.
_RESULT_RE = re.compile(r"^200 result=(\S*)(?: \((.*)\))?((?: [A-Za-z_]+=\S*)*)\s*$")
MAX_USAGE_LINES = 200


class AgiReply(NamedTuple):
    """A ``200`` reply: ``result`` as sent (often an integer), ``data`` inside the parentheses."""

    result: str
    data: str | None = None
    endpos: int | None = None
    extra: dict[str, str] | None = None

    @property
    def value(self) -> int | None:
        """``result`` as an integer, or ``None`` when it is not one (e.g. GET DATA digits stay str)."""
        try:
            return int(self.result)
        except ValueError:
            return None

    @property
    def failed(self) -> bool:
        return self.result == "-1"


def parse_result_line(line: str) -> AgiReply:
    """Parse one ``200 result=...`` line; raise :class:`AgiProtocolError` on anything else."""
    if line.startswith("200 result=") and " " not in line[11:]:
        return AgiReply(line[11:])  # the common bare form, e.g. "200 result=1"
    m = _RESULT_RE.match(line)
    if m is None:
        raise AgiProtocolError(f"malformed AGI reply line {line[:120]!r}")
    result, data, tail = m.groups()
    endpos = None
    extra: dict[str, str] | None = None
    if tail:
        for pair in tail.split():
            key, _, val = pair.partition("=")
            if key == "endpos":
                try:
                    endpos = int(val)
                except ValueError:
                    raise AgiProtocolError(f"malformed endpos in {line[:120]!r}") from None
            else:
                extra = extra or {}
                extra[key] = val
    return AgiReply(result, data, endpos, extra)


class ReplyParser:
    """Feed reply lines one at a time; :meth:`feed` returns an :class:`AgiReply`, raises an
    :class:`AgiError` for an error reply, or returns ``None`` while more lines are needed."""

    __slots__ = ("_usage",)

    def __init__(self) -> None:
        self._usage: list[str] | None = None

    @property
    def in_block(self) -> bool:
        return self._usage is not None

    def feed(self, line: str, command: str = "") -> AgiReply | None:
        if self._usage is not None:
            if line.startswith("520 "):
                usage = "\n".join(self._usage)
                self._usage = None
                raise AgiUsageError("invalid command syntax", command, usage)
            if len(self._usage) >= MAX_USAGE_LINES:
                self._usage = None
                raise AgiProtocolError(f"520 usage block longer than {MAX_USAGE_LINES} lines", command)
            self._usage.append(line)
            return None
        if line.startswith("200 "):
            return parse_result_line(line)
        code = line[:3]
        if code == "100":
            return None  # "100 result=0 Trying..." — the real reply follows
        if code == "510" and line[3:4] in (" ", ""):
            raise AgiInvalidCommand(line[4:] or "invalid or unknown command", command)
        if code == "511" and line[3:4] in (" ", ""):
            raise AgiDeadChannel(line[4:] or "command not permitted on a dead channel", command)
        if code == "520":
            if line[3:4] == "-":
                self._usage = []
                return None
            if line[3:4] in (" ", ""):
                raise AgiUsageError(line[4:] or "invalid command syntax", command)
        raise AgiProtocolError(f"unexpected AGI reply line {line[:120]!r}", command)


__all__ = ["AgiError", "AgiReply", "ReplyParser", "parse_result_line"]
