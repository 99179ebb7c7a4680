"""``linkage agency consume/feedback``: the reference agency client."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

import click

from gateway.cli._common import emit_json, get_config


@click.group("agency")
def agency_group() -> None:
    """Agency side: read an agency's ticket queue, post feedback."""


@agency_group.command("consume")
@click.option("--agency", required=True, help="agency code, e.g. water")
@click.option("--name", default=None, help="consumer name in the agency's group (default: host-pid)")
@click.option("--handle", is_flag=True, help="also report arrived + handled (a demo agency that fixes all)")
@click.option("--count", type=int, default=0, help="stop after this many tickets (0: run until Ctrl-C)")
@click.option("--idle-exit", type=float, default=0, help="stop after this many seconds with nothing new")
@click.option("--json", "as_json", is_flag=True, help="one JSON line per ticket")
@click.pass_context
def consume(
    ctx: click.Context,
    agency: str,
    name: str | None,
    handle: bool,
    count: int,
    idle_exit: float,
    as_json: bool,
) -> None:
    """Print each ticket of AGENCY's queue, post delivered/accepted (and handled), ack."""
    import time

    from gateway.agency import AgencyConsumer
    from gateway.redisconn import connect

    config = get_config(ctx)
    try:
        consumer = AgencyConsumer(
            connect(config), config, agency, name or f"{os.uname().nodename}-{os.getpid()}"
        )
    except ValueError as exc:
        click.echo(f"✗ {exc}", err=True)
        sys.exit(2)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    seen, last_new = 0, time.monotonic()
    if not as_json:
        click.echo(f"consuming tickets:{agency} as {consumer.name} (Ctrl-C to stop)", err=True)
    while not stop.is_set() and not (count and seen >= count):
        batch = consumer.read(count=min(50, count - seen) if count else 50, block_ms=500)
        if not batch:
            if idle_exit and time.monotonic() - last_new >= idle_exit:
                break
            continue
        last_new = time.monotonic()
        for d in batch:
            # Show it first, then report, then ack: a crash in between shows a ticket twice
            # (it comes back to this group), never zero times.
            t = d.ticket
            events = [consumer.event(d, "delivered"), consumer.event(d, "accepted")]
            if handle:
                events += [
                    consumer.event(d, "arrived", scene_report="到场核实"),
                    consumer.event(d, "handled", result="已处置"),
                ]
            seen += 1
            if as_json:
                emit_json(
                    {
                        "entry_id": d.entry_id,
                        "claimed": d.claimed,
                        "ticket": t.model_dump(mode="json"),
                        "posted": [e["type"] for e in events],
                    }
                )
            else:
                click.echo(
                    f"[{seen}] {t.ticket_id}{' CALL BACK' if t.kind == 'callback' else ''} "
                    f"{t.request_type or t.route} {t.urgency} "
                    f"due {t.deadlines.due_at or t.deadlines.arrival_due_at or '-'}"
                    f"{' (taken over)' if d.claimed else ''}\n     {t.location or ''} {t.summary}"
                )
            sys.stdout.flush()
            consumer.post(events)
            consumer.ack(d)
    if not as_json:
        click.echo(f"{seen} ticket(s) consumed", err=True)


@agency_group.command("feedback")
@click.argument("ticket_id")
@click.option("--agency", required=True)
@click.option(
    "--type",
    "type_",
    required=True,
    type=click.Choice(
        [
            "accepted",
            "arrived",
            "handled",
            "returned",
            "extension_requested",
            "extension_granted",
            "closed",
            "rated",
        ]
    ),
)
@click.option(
    "--data", "data_json", default="{}", help='JSON, e.g. {"reason": "...", "reroute_to": "housing"}'
)
@click.option("--hop", type=int, default=None, help="which routing of the ticket (default: current)")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def feedback(
    ctx: click.Context,
    ticket_id: str,
    agency: str,
    type_: str,
    data_json: str,
    hop: int | None,
    as_json: bool,
) -> None:
    """Post one agency update to feedback:<agency>."""
    from gateway.redisconn import connect
    from gateway.tickets import TicketService
    from gateway.tickets.model import iso, utcnow

    config = get_config(ctx)
    svc = TicketService(connect(config), config)
    t = svc.get(ticket_id)
    if t is None:
        click.echo(f"✗ no ticket {ticket_id}", err=True)
        sys.exit(1)
    ev = {
        "event_id": f"{ticket_id}:{t.hop if hop is None else hop}:{type_}",
        "ticket_id": ticket_id,
        "type": type_,
        "at": iso(utcnow()),
        "actor": agency,
        "data": json.loads(data_json),
    }
    entry = svc.post_feedback(agency, ev)
    if as_json:
        emit_json({"entry_id": entry, "event": ev})
    else:
        click.echo(f"✓ posted {type_} for {ticket_id} (feedback:{agency} {entry})")


def register(group: click.Group) -> None:
    group.add_command(agency_group)
