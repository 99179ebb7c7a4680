"""``linkage report rates/overdue``: per-agency 响应率 解决率 满意率, and 督办."""

from __future__ import annotations

import click

from gateway.cli._common import emit_json, get_config


@click.group("report")
def report_group() -> None:
    """Reports from the archive."""


def _pct(v: float | None) -> str:
    return "   -  " if v is None else f"{v * 100:5.1f}%"


@report_group.command("rates")
@click.option("--since", help="ISO time (UTC), inclusive")
@click.option("--until", help="ISO time (UTC), exclusive")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def rates(ctx: click.Context, since: str | None, until: str | None, as_json: bool) -> None:
    """Response, resolution and satisfaction rates per agency (definitions: docs/tickets.md)."""
    from gateway.archive import Archive

    rows = Archive(get_config(ctx).archive_path).rates(since, until)
    if as_json:
        emit_json({"since": since, "until": until, "agencies": rows})
        return
    click.echo(f"{'agency':<18}{'assigned':>9}{'响应率':>8}{'解决率':>8}{'满意率':>8}  (rated)")
    for r in rows:
        click.echo(
            f"{r['agency']:<18}{r['assigned']:>9}  {_pct(r['response_rate'])}  {_pct(r['resolution_rate'])}"
            f"  {_pct(r['satisfaction_rate'])}  ({r['rated']})"
        )
    if not rows:
        click.echo("(no tickets in the archive for this period)")


@report_group.command("overdue")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def overdue(ctx: click.Context, as_json: bool) -> None:
    """Raise 督办 (escalated) events for open tickets past a deadline; list the new ones."""
    from gateway.archive import Archive

    events = Archive(get_config(ctx).archive_path).escalate_overdue()
    if as_json:
        emit_json(events)
        return
    for ev in events:
        click.echo(
            f"督办 {ev['ticket_id']} {ev['data']['agency']} {ev['data']['deadline']}"
            f" due {ev['data']['due_at']}"
        )
    click.echo(f"{len(events)} new escalation(s)")


def register(group: click.Group) -> None:
    group.add_command(report_group)
