"""``linkage run``: the long-running gateway service."""

from __future__ import annotations

import logging
import sys

import click

from gateway.cli._common import get_config
from gateway.config.checks import run_checks, run_warnings
from gateway.logs import log, setup_logging

LOG = logging.getLogger("gateway")


@click.command("run")
@click.option("--log-level", default=None, help="debug, info, warning (default: $LINKAGE_LOG_LEVEL or info).")
@click.pass_context
def run(ctx: click.Context, log_level: str | None) -> None:
    """Run the gateway: HTTP console and APIs, FastAGI, AMI, ticket queues."""
    setup_logging(log_level)
    config = get_config(ctx)
    errors = run_checks(config)
    if errors:
        for line in errors:
            click.echo(f"config error: {line}", err=True)
        sys.exit(2)
    for line in run_warnings(config):
        log(LOG, logging.WARNING, "configuration warning", warning=line)
    from twisted.internet import reactor
    from twisted.internet.error import CannotListenError

    from gateway.service.app import build_gateway

    gateway = build_gateway(config)
    try:
        gateway.service.startService()
    except CannotListenError as exc:
        gateway.service.stopService()
        reason = exc.socketError.strerror if exc.socketError else str(exc)
        click.echo(f"linkage gateway: cannot listen on {exc.interface}:{exc.port}: {reason} "
                   "(another gateway running? change http.listen or asterisk.fastagi.listen)", err=True)
        sys.exit(3)
    reactor.addSystemEventTrigger("before", "shutdown", gateway.service.stopService)
    log(LOG, logging.INFO, "linkage gateway running", http=config.gateway.http.listen)
    click.echo(f"linkage gateway: http://{config.gateway.http.listen}/  (Ctrl-C to stop)", err=True)
    reactor.run()


def register(group: click.Group) -> None:
    group.add_command(run)
