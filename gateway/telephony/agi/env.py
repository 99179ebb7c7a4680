"""The environment block Asterisk sends first on a FastAGI connection (``agi_*: value`` lines)."""

from __future__ import annotations

from gateway.telephony.agi.errors import AgiProtocolError

MAX_ENV_LINES = 256


def parse_env_line(line: str) -> tuple[str, str]:
    """``"agi_channel: SIP/1-0001"`` → ``("agi_channel", "SIP/1-0001")``; empty values are kept."""
    key, sep, value = line.partition(":")
    if not sep or not key.startswith("agi_") or " " in key:
        raise AgiProtocolError(f"malformed AGI environment line {line[:120]!r}")
    return key, value[1:] if value.startswith(" ") else value


def script_name(env: dict[str, str]) -> str:
    """The route: ``agi_network_script`` (FastAGI), else the last part of ``agi_request``."""
    name = env.get("agi_network_script")
    if name:
        return name.split("?", 1)[0]
    request = env.get("agi_request", "")
    return request.rsplit("/", 1)[-1].split("?", 1)[0]


def script_args(env: dict[str, str]) -> list[str]:
    """``agi_arg_1``, ``agi_arg_2``, … in order."""
    args = []
    i = 1
    while f"agi_arg_{i}" in env:
        args.append(env[f"agi_arg_{i}"])
        i += 1
    return args
