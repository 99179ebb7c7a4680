"""``linkage asterisk check``: verify a live Asterisk is set up as docs/asterisk.md describes."""

from __future__ import annotations

import sys
from typing import Any

import click

from gateway.cli._common import emit_json, get_config

GLOBALS = ("LINKAGE_FASTAGI", "LINKAGE_REC_DIR", "LINKAGE_OVERFLOW", "LINKAGE_110_TIMEOUT",
           "LINKAGE_12345_TIMEOUT", "LINKAGE_HANDOVER_TIMEOUT")
QUEUES = ("110", "12345")


async def _check(config: Any, reactor: Any) -> dict[str, Any]:
    from twisted.internet import defer, task
    from twisted.internet.endpoints import TCP4ClientEndpoint

    from gateway.telephony.ami import AmiClient

    ami_cfg = config.gateway.asterisk.ami
    endpoint = TCP4ClientEndpoint(reactor, ami_cfg.host, ami_cfg.port, timeout=ami_cfg.connect_timeout_s)
    client = AmiClient(endpoint, ami_cfg.username, ami_cfg.secret, clock=reactor,
                       action_timeout_s=ami_cfg.action_timeout_s, reconnect_initial_s=0.3, reconnect_max_s=1)
    report: dict[str, Any] = {"ami": f"{ami_cfg.host}:{ami_cfg.port}", "problems": []}
    client.start()
    try:
        for _ in range(int(ami_cfg.connect_timeout_s * 10) + 20):
            if client.connected or client.failures >= 3:
                break
            await task.deferLater(reactor, 0.1, lambda: None)
        report["ami_connected"] = client.connected
        if not client.connected:
            report["problems"].append(f"AMI login failed: {client.last_error}")
            return report
        values = {}
        for name in GLOBALS:
            values[name] = await client.getvar(name)
            if not values[name]:
                report["problems"].append(f"global {name} is not set ([globals] in extensions.conf)")
        report["globals"] = values
        if values.get("LINKAGE_REC_DIR") and values["LINKAGE_REC_DIR"] != str(config.recordings_dir):
            report["problems"].append(f"LINKAGE_REC_DIR {values['LINKAGE_REC_DIR']} differs from the "
                                      f"gateway's recordings dir {config.recordings_dir}")
        listen = config.gateway.asterisk.fastagi.listen
        if values.get("LINKAGE_FASTAGI") and not values["LINKAGE_FASTAGI"].endswith(listen.rsplit(":", 1)[1]):
            report["problems"].append(f"LINKAGE_FASTAGI {values['LINKAGE_FASTAGI']} does not point at "
                                      f"asterisk.fastagi.listen {listen}")
        report["queues"] = {}
        for queue in QUEUES:
            _resp, events = await client.queue_status(queue)
            params = [e for e in events if e.get("Event") == "QueueParams"]
            members = [e for e in events if e.get("Event") == "QueueMember"]
            report["queues"][queue] = {"exists": bool(params), "members": len(members)}
            if not params:
                report["problems"].append(f"queue {queue} does not exist (queues.conf)")
            elif not members:
                report["problems"].append(f"queue {queue} has no members yet")
        _resp, channels = await client.core_show_channels()
        report["channels"] = len(channels)
    except Exception as exc:  # report, do not crash: this is a diagnosis tool
        report["problems"].append(f"{type(exc).__name__}: {exc}")
    finally:
        client.stop()
        await defer.succeed(None)
    return report


def register(group: click.Group) -> None:
    @group.group("asterisk")
    def asterisk_group() -> None:
        """The Asterisk PBX the gateway attaches to (AMI, FastAGI, dialplan)."""

    @asterisk_group.command("check")
    @click.pass_context
    def check(ctx: click.Context) -> None:
        """Log in to AMI and check globals, queues and recordings dir; JSON report, exit 1 on problems."""
        from twisted.internet import defer, task

        config = get_config(ctx)
        result: dict[str, Any] = {}

        def run(reactor: Any) -> Any:
            return defer.ensureDeferred(_check(config, reactor)).addCallback(result.update)

        try:
            task.react(run)
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise
        emit_json(result)
        sys.exit(1 if result.get("problems") else 0)
