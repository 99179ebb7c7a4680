"""The ``linkage`` console command.

Each module in this package is one command family and exposes ``register(group)``; modules
are discovered, so adding a command never edits this file.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from gateway import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="linkage")
@click.option(
    "--config",
    "config_path",
    envvar="LINKAGE_CONFIG",
    type=click.Path(dir_okay=False),
    default=None,
    help="gateway.yaml to use (default: ./config/gateway.yaml).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """联动网关 Linkage Gateway: 110 ↔ 12345 ↔ agencies."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path


def _register_all() -> None:
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(main)


_register_all()
