"""Supervisor console: search and replay of recorded, transcribed calls; dashboard; Open311 read API."""

from __future__ import annotations

import time
from collections.abc import Callable

from twisted.web.resource import Resource

from gateway.config import Config


def build_console(
    config: Config, clock: Callable[[], float] = time.time, secret: bytes | None = None
) -> Resource:
    """The root resource serving the console pages, ``/api/``, ``/media/`` and ``/open311/``.

    Mount it at ``/``; ``putChild`` on it (``healthz``, ``metrics``) takes precedence. Its
    :class:`~gateway.console.app.Console` state is at ``.console`` (``run_retention()``).
    """
    from gateway.console.app import Console, ConsoleRoot

    return ConsoleRoot(Console(config, clock=clock, secret=secret))


def schedule_retention(root: Resource, interval_s: float = 3600, clock: object | None = None):
    """Run recording retention now and every ``interval_s`` on the reactor (or a ``task.Clock``).

    Returns the started :class:`twisted.internet.task.LoopingCall`; ``.stop()`` ends it.
    """
    from twisted.internet import task

    loop = task.LoopingCall(root.console.run_retention)  # type: ignore[attr-defined]
    if clock is not None:
        loop.clock = clock
    loop.start(interval_s, now=True)
    return loop


__all__ = ["build_console", "schedule_retention"]
