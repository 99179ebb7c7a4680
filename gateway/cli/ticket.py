"""``linkage ticket create/show/schema/work``."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

import click

from gateway.cli._common import emit_json, get_config


def _service(config, with_archive: bool = True):
    from gateway.archive import Archive
    from gateway.redisconn import connect
    from gateway.tickets import TicketService

    archive = Archive(config.archive_path) if with_archive else None
    return TicketService(connect(config), config, archive=archive), archive


@click.group("ticket")
def ticket_group() -> None:
    """Tickets (工单): create, show, the JSON Schema, the background worker."""


@ticket_group.command("create")
@click.option("--agency", help="agency or desk code (see config/agencies.yaml)")
@click.option("--route", help="police|fire|medical|emergency|hotline|not_accepted|review [hotline]")
@click.option(
    "--source", help="[12345_direct]", type=click.Choice(["110_transfer", "overflow_ivr", "12345_direct"])
)
@click.option("--incident", "incident_id", help="incident id (default: a new one)")
@click.option("--ticket-id", help="idempotency: creating the same id twice is one ticket")
@click.option("--caller", help="caller number as received")
@click.option(
    "--request-type", help="consultation|help|complaint|report|suggestion (or 咨询/求助/投诉/举报/建议)"
)
@click.option("--urgency", type=click.Choice(["emergency", "urgent", "normal"]))
@click.option("--category")
@click.option("--location")
@click.option("--summary")
@click.option("--joint", "joint_agencies", multiple=True, help="joint agency (repeatable)")
@click.option(
    "--draft",
    "draft_file",
    type=click.File("r", encoding="utf-8"),
    help="a JSON draft (file or - for stdin); options override its keys",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def create(ctx: click.Context, draft_file, as_json: bool, **opts) -> None:
    """Create one ticket and queue it to its agency."""
    from gateway.tickets import TicketError
    from gateway.tickets.service import new_ticket_id

    config = get_config(ctx)
    draft = json.load(draft_file) if draft_file else {}
    for k, v in opts.items():
        if v is not None and v != ():
            draft[k] = list(v) if k == "joint_agencies" else v
    draft.setdefault("route", "hotline")
    draft.setdefault("source", "12345_direct")
    draft["incident_id"] = draft.get("incident_id") or "I" + new_ticket_id()[1:]
    svc, _ = _service(config)
    try:
        t = svc.create({k: v for k, v in draft.items() if v is not None})
    except TicketError as exc:
        click.echo(f"✗ {exc}", err=True)
        sys.exit(2)
    if as_json:
        emit_json(t.model_dump(mode="json"))
        return
    spooled = " (Redis down: spooled, will replay)" if svc.spool.count() else ""
    click.echo(f"✓ ticket {t.ticket_id} → {t.agency or '-'} [{t.status}]{spooled}")
    click.echo(
        f"  caller {t.caller.raw!r} → {t.caller.e164 or '-'} ({'valid' if t.caller.valid else 'INVALID'}, "
        f"{t.caller.kind})"
    )
    dl = t.deadlines
    for label, v in (
        ("hand-over due", dl.handover_due_at),
        ("arrival due", dl.arrival_due_at),
        ("work order due", dl.due_at),
    ):
        if v:
            click.echo(f"  {label:<15} {v}")
    if dl.calendar_unannounced:
        click.echo("  ! deadline crosses a year no calendar knows: counted on weekends alone")


@ticket_group.command("show")
@click.argument("ticket_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, ticket_id: str, as_json: bool) -> None:
    """A ticket and its history (from Redis and the archive)."""
    config = get_config(ctx)
    svc, archive = _service(config)
    t = svc.get(ticket_id)
    history = archive.history(ticket_id) if archive else []
    if t is None and not history:
        click.echo(f"✗ no ticket {ticket_id}", err=True)
        sys.exit(1)
    if as_json:
        emit_json({"ticket": t.model_dump(mode="json") if t else None, "history": history})
        return
    if t:
        click.echo(f"{t.ticket_id}  {t.status}  agency={t.agency}  route={t.route}  type={t.request_type}")
        click.echo(f"  incident {t.incident_id}  source {t.source}  caller {t.caller.e164 or t.caller.raw}")
        click.echo(f"  {t.summary}")
        click.echo(f"  due {t.deadlines.due_at or '-'}  arrival {t.deadlines.arrival_due_at or '-'}")
    for ev in history:
        click.echo(
            f"  {ev['at']}  {ev['type']:<20} {ev['status_from'] or '':>9} → {ev['status_to'] or ''}"
            f"  {ev['actor'] or ''}"
        )


@ticket_group.command("schema")
@click.option("--check", is_flag=True, help="exit 1 when docs/ticket.schema.json is not current")
def schema(check: bool) -> None:
    """Write docs/ticket.schema.json from the ticket model."""
    from gateway.tickets.model import SCHEMA_PATH, schema_text, write_schema

    if check:
        current = SCHEMA_PATH.exists() and SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()
        click.echo(f"{'✓' if current else '✗'} {SCHEMA_PATH} {'is current' if current else 'is stale'}")
        sys.exit(0 if current else 1)
    changed = write_schema()
    click.echo(f"{'wrote' if changed else 'unchanged'} {SCHEMA_PATH}")


@ticket_group.command("work")
@click.option("--name", default=None, help="consumer name (default: host-pid)")
@click.option("--quiet", is_flag=True, help="no progress lines")
@click.pass_context
def work(ctx: click.Context, name: str | None, quiet: bool) -> None:
    """Run the background worker: feedback, archive, claims, spool replay, trimming, 督办."""
    from gateway.tickets.worker import GatewayWorker

    config = get_config(ctx)
    svc, archive = _service(config)
    name = name or f"{os.uname().nodename}-{os.getpid()}"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    totals: dict[str, int] = {}

    def progress(done: dict[str, int]) -> None:
        for k, v in done.items():
            totals[k] = totals.get(k, 0) + v
        if not quiet:
            click.echo("  ".join(f"{k}={v}" for k, v in totals.items()), err=True)

    click.echo(f"worker {name}: running (Ctrl-C to stop)", err=True)
    GatewayWorker(svc, archive, name).run(stop, progress=progress)


def register(group: click.Group) -> None:
    group.add_command(ticket_group)
