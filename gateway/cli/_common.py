"""Helpers shared by the command modules."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from gateway.config import Config, ConfigError, load_config


def get_config(ctx: click.Context) -> Config:
    """Load the configuration named on the command line, or exit 2 listing every error."""
    path = (ctx.find_root().obj or {}).get("config_path")
    try:
        return load_config(path)
    except ConfigError as exc:
        for line in exc.errors:
            click.echo(f"config error: {line}", err=True)
        sys.exit(2)


def emit_json(obj: Any) -> None:
    """One JSON document on stdout, UTF-8, not escaped."""
    click.echo(json.dumps(obj, ensure_ascii=False, default=str))
