"""``/healthz`` and ``/metrics`` resources."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from twisted.web import resource
from twisted.web.server import Request

from gateway import __version__

Probe = Callable[[], dict[str, Any]]


class HealthResource(resource.Resource):
    """JSON health: each named probe reports ``{"ok": bool, ...}``; 503 when a required one fails."""

    isLeaf = True

    def __init__(self, probes: dict[str, Probe], required: set[str] | None = None):
        super().__init__()
        self.probes = probes
        self.required = required if required is not None else set(probes)

    def render_GET(self, request: Request) -> bytes:
        checks: dict[str, Any] = {}
        for name, probe in self.probes.items():
            try:
                checks[name] = probe()
            except Exception as exc:  # a probe must never break the health page
                checks[name] = {"ok": False, "error": str(exc)}
        failing = [n for n, c in checks.items() if not c.get("ok")]
        hard = [n for n in failing if n in self.required]
        status = "fail" if hard else ("degraded" if failing else "ok")
        request.setResponseCode(503 if hard else 200)
        request.setHeader(b"content-type", b"application/json; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        body = {"status": status, "version": __version__, "checks": checks}
        return json.dumps(body, ensure_ascii=False).encode()


class MetricsResource(resource.Resource):
    """Prometheus text exposition of the default registry."""

    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", CONTENT_TYPE_LATEST.encode())
        return generate_latest(REGISTRY)
