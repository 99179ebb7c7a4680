"""``linkage config check``: validate every configuration file."""

from __future__ import annotations

import sys

import click

from gateway.cli._common import emit_json
from gateway.config import ConfigError, load_config
from gateway.config.checks import run_checks, run_warnings


@click.group("config")
def config_group() -> None:
    """Configuration files under config/."""


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def check(ctx: click.Context, as_json: bool) -> None:
    """Validate the configuration; name the file and key of every error."""
    path = (ctx.find_root().obj or {}).get("config_path")
    warnings: list[str] = []
    try:
        config = load_config(path)
        errors = run_checks(config)
        warnings = run_warnings(config)
    except ConfigError as exc:
        config, errors = None, exc.errors
    if as_json:
        emit_json({"ok": not errors, "errors": errors, "warnings": warnings,
                   "config_dir": str(config.config_dir) if config else None})
        sys.exit(1 if errors else 0)
    for line in warnings:
        click.echo(f"! {line}", err=True)
    if errors:
        for line in errors:
            click.echo(f"✗ {line}", err=True)
    else:
        click.echo(f"✓ configuration in {config.config_dir} is valid")
    sys.exit(1 if errors else 0)


def register(group: click.Group) -> None:
    group.add_command(config_group)
