"""Random sequences of agency updates against a reference model of the state machine."""

from __future__ import annotations

import itertools

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.tickets import InvalidTransition, TicketService
from gateway.tickets.states import FEEDBACK_TYPES, TRANSITIONS

DATA = {
    "arrived": {"scene_report": "到场"},
    "returned": {"reason": "不属本单位", "reroute_to": "housing"},
    "rated": {"satisfaction": "satisfied"},
    "extension_requested": {"reason": "复杂"},
}
COUNTER = itertools.count()


@pytest.fixture(scope="module")
def svc(redis_server, tmp_path_factory):
    from gateway.config import load_config
    from tests.conftest import ROOT

    redis.Redis.from_url(redis_server.url).flushall()
    return TicketService(
        redis.Redis.from_url(redis_server.url),
        load_config(ROOT / "config" / "gateway.yaml"),
        spool_dir=tmp_path_factory.mktemp("spool"),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(FEEDBACK_TYPES), min_size=1, max_size=12))
def test_random_updates_follow_the_model(svc, types):
    tid = f"SM-{next(COUNTER)}"
    svc.create(
        {
            "ticket_id": tid,
            "incident_id": "I",
            "source": "12345_direct",
            "agency": "water",
            "request_type": "complaint",
        }
    )
    status, agency, pending_ext, granted = "created", "water", False, 0
    for i, type_ in enumerate(types):
        ev = {"event_id": f"{tid}:{i}", "ticket_id": tid, "type": type_, "data": DATA.get(type_, {})}
        allowed = status in TRANSITIONS[type_][0]
        if type_ == "extension_requested":
            allowed = allowed and not pending_ext
        if type_ == "extension_granted":
            allowed = allowed and pending_ext and granted < 2
        if allowed:
            t = svc.apply_feedback(ev)
            if type_ == "returned":
                status, agency = "created", "hotline" if agency == "housing" else "housing"
            else:
                status = TRANSITIONS[type_][1] or status
            pending_ext = (pending_ext or type_ == "extension_requested") and type_ != "extension_granted"
            granted += type_ == "extension_granted"
        else:
            with pytest.raises(InvalidTransition, match=f"cannot apply '{type_}'"):
                svc.apply_feedback(ev)
        t = svc.get(tid)  # never dropped
        assert (t.status, t.agency, t.extension_pending, t.deadlines.extensions_granted) == (
            status,
            agency,
            pending_ext,
            granted,
        )
        assert svc.apply_feedback(ev).status == status  # a repeat changes nothing
