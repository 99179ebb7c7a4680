"""``POST /calls/{id}/transfer-to-12345``, ``GET /calls/{id}`` and ``GET /calls`` (the live calls,
for a call-taker's desktop) as a twisted.web resource.

The lead mounts it: ``root.putChild(b"calls", telephony.http_resource())`` behind the console's
login. ``{id}`` is the caller channel's uniqueid, its linkedid or the incident id.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from twisted.python.failure import Failure
from twisted.web import server
from twisted.web.resource import Resource

from gateway.logs import log
from gateway.telephony.handover import HandoverError, HandoverManager

LOG = logging.getLogger("gateway.telephony.http")


def _json(request: Any, status: int, body: dict[str, Any]) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"application/json; charset=utf-8")
    request.setHeader(b"cache-control", b"no-store")
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class CallsResource(Resource):
    isLeaf = True

    def __init__(self, handover: HandoverManager):
        super().__init__()
        self.handover = handover

    def _parts(self, request: Any) -> list[str]:
        return [p.decode("utf-8", "replace") for p in request.postpath if p]

    def render_GET(self, request: Any) -> bytes:
        parts = self._parts(request)
        if not parts:  # the live calls, oldest first, each with its hand-over if one is running
            calls = []
            for call in self.handover.tracker.calls.values():
                if call.ended:
                    continue
                ho = self.handover.get(call.incident_id)
                calls.append({**call.to_dict(), "handover": ho.to_dict() if ho else None})
            return _json(request, 200, {"calls": calls})
        if len(parts) != 1:
            return _json(request, 404, {"error": "not found"})
        call = self.handover.tracker.get(parts[0])
        ho = self.handover.get(call.incident_id if call else parts[0])
        if call is None and ho is None:
            return _json(request, 404, {"error": f"no call {parts[0]!r}"})
        return _json(request, 200, {"call": call.to_dict() if call else None,
                                    "handover": ho.to_dict() if ho else None})

    def render_POST(self, request: Any) -> Any:
        parts = self._parts(request)
        if len(parts) != 2 or parts[1] not in ("transfer-to-12345", "release-taker"):
            return _json(request, 404, {"error": "not found"})
        call_id, verb = parts
        if verb == "release-taker":
            call = self.handover.tracker.get(call_id)
            d = self.handover.release_taker(call.incident_id if call else call_id)
            d.addCallback(lambda _: {"released": True})
        else:
            if not self.handover.ami.connected:
                return _json(request, 503, {"error": "Asterisk manager connection is down"})
            d = self.handover.start(call_id, trigger="http")

        def ok(body: dict[str, Any]) -> None:
            request.write(_json(request, 202 if verb != "release-taker" else 200, body))
            request.finish()

        def failed(f: Failure) -> None:
            if f.check(HandoverError):
                request.write(_json(request, f.value.status, {"error": str(f.value)}))
            else:
                log(LOG, logging.ERROR, "transfer request failed", call_id=call_id, error=f.getErrorMessage())
                request.write(_json(request, 500, {"error": "internal error"}))
            request.finish()

        d.addCallbacks(ok, failed)
        return server.NOT_DONE_YET
