"""``linkage config check`` hook for the telephony settings (register ``gateway.telephony.checks:check``)."""

from __future__ import annotations

import re
from typing import Any

from gateway.telephony.overflow import parse_hours

_CONTEXT = re.compile(r"^[A-Za-z0-9_-]+$")


def check(config: Any) -> list[str]:
    gw = config.gateway
    errors = []
    try:
        parse_hours(gw.asterisk.overflow.hours_12345)
    except ValueError as exc:
        errors.append(f"gateway.yaml: asterisk.overflow.hours_12345: {exc}")
    for key in ("context", "return_context"):
        value = getattr(gw.handover, key)
        if not _CONTEXT.match(value):
            errors.append(f"gateway.yaml: handover.{key}: {value!r} is not a dialplan context name")
    if not re.match(r"^Local/[^@]+@[A-Za-z0-9_-]+(/n)?$", gw.handover.agent_channel):
        errors.append(f"gateway.yaml: handover.agent_channel: {gw.handover.agent_channel!r} must be "
                      "Local/<exten>@<context>[/n] (see dialplans/extensions_linkage.conf)")
    if gw.handover.answer_timeout_s >= gw.asterisk.fastagi.command_timeout_s * 10:
        errors.append("gateway.yaml: handover.answer_timeout_s: longer than a caller should wait")
    return errors
