"""``linkage user add|token``: console users and agency API tokens."""

from __future__ import annotations

import sys

import click

from gateway.cli._common import emit_json, get_config


@click.group("user")
def user_group() -> None:
    """Supervisor-console users and Open311 agency tokens."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["supervisor", "call_taker", "agency"]), required=True)
@click.option("--agency", "agency", default=None, help="Agency code (role agency).")
@click.option("--agent-id", default=None, help="calls.agent this call-taker answers as (default: NAME).")
@click.option("--grant-recordings", is_flag=True, help="Let an agency user hear its tickets' recordings.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def add(
    ctx: click.Context,
    name: str,
    role: str,
    agency: str | None,
    agent_id: str | None,
    grant_recordings: bool,
    password_stdin: bool,
) -> None:
    """Create a user; the password comes from a prompt or --password-stdin."""
    from gateway.console import db
    from gateway.console.auth import AuthError, Users

    config = get_config(ctx)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    conn = db.connect(config)
    try:
        user = Users(conn, config.agency_codes()).add(
            name, password, role, agency, grant_recordings, agent_id
        )
    except AuthError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        conn.close()
    emit_json({"created": user.public()})


@user_group.command("token")
@click.argument("name")
@click.pass_context
def token(ctx: click.Context, name: str) -> None:
    """Issue an Open311 bearer token for agency user NAME (printed once; only its hash is kept)."""
    from gateway.console import db
    from gateway.console.auth import ApiTokens, AuthError, Users

    config = get_config(ctx)
    conn = db.connect(config)
    try:
        user = Users(conn, config.agency_codes()).by_name(name)
        if user is None:
            click.echo(f"error: no user {name!r}", err=True)
            sys.exit(2)
        value = ApiTokens(conn).issue(user)
    except AuthError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        conn.close()
    emit_json({"agency": user.agency, "token": value})


@user_group.command("retention")
@click.pass_context
def retention(ctx: click.Context) -> None:
    """Delete recordings past recordings.retention_days now (the rows stay, marked deleted)."""
    import time

    from gateway.console import db
    from gateway.console.audit import AuditLog
    from gateway.console.retention import purge

    config = get_config(ctx)
    conn = db.connect(config)
    try:
        result = purge(conn, config.recordings_dir, config.gateway.recordings.retention_days, time.time())
        if result["deleted"] or result["already_missing"] or result["refused"]:
            AuditLog(conn).record(None, "retention", None, result, user_name="cli")
    finally:
        conn.close()
    emit_json(result)


def register(group: click.Group) -> None:
    group.add_command(user_group)
