"""TicketService: create tickets onto their agency's stream, apply feedback, spool when Redis is down."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.cluster import RedisCluster

from gateway.config import Config
from gateway.logs import log
from gateway.phone import normalize
from gateway.tickets import metrics
from gateway.tickets.deadlines import DeadlineCalculator, ExtensionRefused
from gateway.tickets.keys import ARCHIVE_GROUP, FEEDBACK_GROUP, QUEUE_GROUP, UNROUTED, Keys
from gateway.tickets.model import (
    EMERGENCY_ROUTES,
    REQUEST_TYPES_ZH,
    Caller,
    RecordingRef,
    Ticket,
    iso,
    parse_time,
    utcnow,
)
from gateway.tickets.spool import Spool
from gateway.tickets.states import FEEDBACK_TYPES, EarlyEvent, InvalidTransition, is_early, next_status
from gateway.tickets.streams import ensure_group, s

if TYPE_CHECKING:
    from gateway.archive import Archive

LOG = logging.getLogger(__name__)
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)
DRAFT_KEYS = {
    "ticket_id",
    "incident_id",
    "source",
    "caller",
    "location",
    "route",
    "agency",
    "joint_agencies",
    "category",
    "request_type",
    "urgency",
    "summary",
    "transcript_excerpt",
    "recordings",
    "keywords",
    "triage",
    "created_at",
    "kind",
}
FINISHED_TTL_S = 7 * 86400  # closed tickets and re-route tombstones leave Redis (the archive keeps them)
REROUTE_FALLBACK = "hotline"  # a return with no valid target goes back to the 12345 desk for dispatch

# Create a ticket once: doc, queue entry and "created" event in one slot, atomically. A ticket
# re-routed back to an agency that returned it earlier replaces that agency's tombstone (higher hop).
_CREATE_LUA = """
local hop = redis.call('HGET', KEYS[1], 'hop')
if hop and tonumber(hop) >= tonumber(ARGV[3]) then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 and not hop then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'doc', ARGV[1], 'seen', ARGV[5], 'hop', ARGV[3])
if ARGV[6] == '1' then
  redis.call('XADD', KEYS[2], '*', 'ticket_id', ARGV[2], 'hop', ARGV[3], 'doc', ARGV[1], 't', ARGV[7])
end
redis.call('XADD', KEYS[3], '*', 'event', ARGV[4] .. ', "ticket": ' .. ARGV[1] .. '}')
return 1
"""


class TicketError(ValueError):
    """A draft that cannot become a ticket; the message names what is wrong."""


class UnknownAgency(TicketError):
    pass


class BadEvent(ValueError):
    """A feedback event that can never be applied (dead-lettered with this reason)."""


class FeedbackEvent(BaseModel):
    """An agency update on the ``feedback`` stream."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1)
    ticket_id: str = Field(min_length=1)
    type: str
    at: str | None = None
    actor: str | None = None
    hop: int | None = Field(None, description="the routing the update is about (stale ones are rejected)")
    data: dict[str, Any] = Field(default_factory=dict)


def new_ticket_id(now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    return f"T{now:%Y%m%d%H%M%S}{secrets.token_hex(4)}"


def _event(
    ticket: Ticket,
    type_: str,
    *,
    event_id: str,
    status_from: str | None,
    at: str,
    actor: str | None = None,
    data: dict[str, Any] | None = None,
    doc: str | bool | None = None,
) -> str:
    """An event as JSON text carrying the ticket snapshot after it (``doc``: the ticket's JSON, if
    known; ``False``: leave the object open for the create script to append the snapshot)."""
    head = {
        "event_id": event_id,
        "ticket_id": ticket.ticket_id,
        "type": type_,
        "status_from": status_from,
        "status_to": ticket.status,
        "at": at,
        "actor": actor,
        "data": {"agency": ticket.agency, "version": ticket.version, **(data or {})},
    }
    text = json.dumps(head, ensure_ascii=False)[:-1]
    return text if doc is False else text + ', "ticket": ' + (doc or ticket.to_json()) + "}"


class TicketService:
    """Tickets on Redis Streams: ``create``, ``get``, ``apply_feedback``; spools when Redis is down."""

    def __init__(
        self,
        redis: redis.Redis,
        config: Config,
        archive: Archive | None = None,
        spool_dir: str | Path | None = None,
    ):
        self.redis = redis
        self.config = config
        self.archive = archive
        self.keys = Keys(config.redis.key_prefix)
        self.deadlines = DeadlineCalculator(config)
        self.spool = Spool(spool_dir or config.data_dir / "spool")
        self._create = redis.register_script(_CREATE_LUA)
        self._ready: set[str] = set()
        self._cluster = isinstance(redis, RedisCluster)

    # ---- codes -------------------------------------------------------------------------------
    def queue_codes(self) -> list[str]:
        """Every code that has a queue: agencies, then desks."""
        return sorted(self.config.agencies.agencies) + sorted(self.config.agencies.desks)

    def slot_codes(self) -> list[str]:
        return [*self.queue_codes(), UNROUTED]

    def _check_agency(self, code: str, what: str = "agency") -> str:
        if code not in self.config.agencies.agencies and code not in self.config.agencies.desks:
            raise UnknownAgency(f"unknown {what} {code!r}; valid codes: {', '.join(self.queue_codes())}")
        return code

    # ---- building ----------------------------------------------------------------------------
    def build(self, draft: dict[str, Any]) -> Ticket:
        """Validate a draft and compute its caller, agency and deadlines (no I/O)."""
        unknown = set(draft) - DRAFT_KEYS
        if unknown:
            raise TicketError(f"unknown draft keys {sorted(unknown)}; allowed: {sorted(DRAFT_KEYS)}")
        try:
            now = parse_time(draft["created_at"]) if draft.get("created_at") else utcnow()
        except (TypeError, ValueError):
            raise TicketError(
                f"invalid ticket draft: created_at {draft['created_at']!r} is not an ISO time"
            ) from None
        route = draft.get("route") or "hotline"
        agency = draft.get("agency") or None
        if agency:
            self._check_agency(agency)
        elif route in EMERGENCY_ROUTES:
            agency = route
        elif route == "review":
            agency = REROUTE_FALLBACK
        elif route == "hotline":
            raise UnknownAgency(
                f"route 'hotline' needs an agency; valid codes: {', '.join(self.queue_codes())}"
            )
        joint = [self._check_agency(a, "joint agency") for a in draft.get("joint_agencies") or []]
        rtype = draft.get("request_type")
        rtype = REQUEST_TYPES_ZH.get(rtype, rtype) if rtype else None
        caller = draft.get("caller")
        raw = caller.get("raw", "") if isinstance(caller, dict) else (caller or "")
        phone = normalize(raw)
        triage = draft.get("triage")
        keywords = draft.get("keywords") or (triage or {}).get("keywords") or []
        urgency = draft.get("urgency") or ("emergency" if route in EMERGENCY_ROUTES else "normal")
        recs = []
        for i, r in enumerate(draft.get("recordings") or []):
            try:
                recs.append(
                    RecordingRef(recording_id=r) if isinstance(r, str) else RecordingRef.model_validate(r)
                )
            except ValidationError as exc:
                msgs = [f"recordings.{i}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
                raise TicketError("invalid ticket draft: " + "; ".join(msgs)) from None
        try:
            ticket = Ticket(
                ticket_id=draft.get("ticket_id") or new_ticket_id(now),
                incident_id=draft.get("incident_id") or "",
                source=draft.get("source"),
                kind=draft.get("kind") or "work_order",
                caller=Caller(raw=phone.raw, e164=phone.e164, valid=phone.valid, kind=phone.kind),
                location=draft.get("location"),
                route=route,
                agency=agency,
                joint_agencies=joint,
                category=draft.get("category"),
                request_type=rtype,
                urgency=urgency,
                summary=draft.get("summary") or "",
                transcript_excerpt=draft.get("transcript_excerpt"),
                recordings=recs,
                keywords=[str(k) for k in keywords],
                triage=triage,
                deadlines=self.deadlines.compute(
                    created=now, route=route, agency=agency, request_type=rtype, urgency=urgency
                ),
                created_at=iso(now),
                updated_at=iso(now),
            )
        except ValidationError as exc:
            msgs = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            raise TicketError("invalid ticket draft: " + "; ".join(msgs)) from None
        if not ticket.incident_id:
            raise TicketError("invalid ticket draft: incident_id is required")
        return ticket

    # ---- create ------------------------------------------------------------------------------
    def create(self, draft: dict[str, Any]) -> Ticket:
        """Create (idempotently by ``ticket_id``) and queue a ticket; spool it when Redis is down."""
        ticket = self.build(draft)
        try:
            if self.spool.files():
                self.replay_spool()
            stored = self._store([ticket])[0]
            metrics.REDIS_UP.set(1)
            return stored
        except REDIS_DOWN as exc:
            metrics.REDIS_UP.set(0)
            self._ready.clear()
            self.spool.put(ticket.ticket_id, ticket.to_json())
            metrics.SPOOL_WRITES.inc()
            metrics.TICKETS_SPOOLED.set(self.spool.count())
            log(
                LOG, logging.WARNING, "redis down: ticket spooled", ticket_id=ticket.ticket_id, error=str(exc)
            )
            return ticket

    def create_many(self, drafts: list[dict[str, Any]]) -> list[Ticket]:
        """Pipelined create (no spooling: raises when Redis is down)."""
        return self._store([self.build(d) for d in drafts])

    def _ensure(self, agency: str) -> None:
        if agency in self._ready:
            return
        if agency != UNROUTED:
            ensure_group(self.redis, self.keys.queue(agency), QUEUE_GROUP)
            ensure_group(self.redis, self.keys.feedback(agency), FEEDBACK_GROUP)
        ensure_group(self.redis, self.keys.events(agency), ARCHIVE_GROUP)
        self._ready.add(agency)

    def _store(self, tickets: list[Ticket]) -> list[Ticket]:
        for slot in {t.agency or UNROUTED for t in tickets}:
            self._ensure(slot)
        if self._cluster:  # redis-py cannot pipeline scripts on a Cluster: one round trip each
            res = []
            for t in tickets:
                slot = t.agency or UNROUTED
                res.append(self.redis.set(self.keys.where(t.ticket_id), slot, nx=True))
                res.append(
                    self._create_call(self.redis, t, slot, "created", status_from=None, data={"hop": t.hop})
                )
        else:
            pipe = self.redis.pipeline(transaction=False)
            for t in tickets:
                slot = t.agency or UNROUTED
                pipe.set(self.keys.where(t.ticket_id), slot, nx=True)
                self._create_call(pipe, t, slot, "created", status_from=None, data={"hop": t.hop})
            res = pipe.execute()
        out = []
        for i, t in enumerate(tickets):
            if res[2 * i + 1]:
                metrics.TICKETS_CREATED.labels(t.agency or UNROUTED).inc()
                out.append(t)
            else:
                out.append(self.get(t.ticket_id) or t)
        return out

    def _create_call(
        self,
        client: Any,
        t: Ticket,
        slot: str,
        type_: str,
        *,
        status_from: str | None,
        data: dict[str, Any],
        event_id: str | None = None,
        seen: list[str] | None = None,
    ) -> Any:
        doc = t.to_json()
        ev = _event(
            t,
            type_,
            event_id=event_id or f"{t.ticket_id}:{t.hop}:{type_}",
            status_from=status_from,
            at=t.updated_at,
            data=data,
            doc=False,  # the script appends the snapshot: the doc crosses the wire once
        )
        return self._create(
            keys=[self.keys.doc(slot, t.ticket_id), self.keys.queue(slot), self.keys.events(slot)],
            args=[
                doc,
                t.ticket_id,
                t.hop,
                ev,
                json.dumps(seen or []),
                "0" if slot == UNROUTED else "1",
                int(utcnow().timestamp() * 1000),
            ],
            client=client,
        )

    def replay_spool(self) -> int:
        """Store every spooled ticket (oldest first); returns how many were replayed."""
        n = 0
        with self.spool.replaying() as mine:
            if not mine:
                return 0
            for path in self.spool.files():
                try:
                    ticket = Ticket.model_validate_json(path.read_text(encoding="utf-8"))
                except (ValidationError, OSError, UnicodeDecodeError) as exc:
                    kept = self.spool.quarantine(path)
                    log(
                        LOG, logging.ERROR, "unreadable spool file kept aside", path=str(kept), error=str(exc)
                    )
                    continue
                self._store([ticket])
                path.unlink()
                n += 1
        if n:
            metrics.TICKETS_SPOOLED.set(self.spool.count())
            log(LOG, logging.INFO, "spool replayed", tickets=n)
        return n

    # ---- read --------------------------------------------------------------------------------
    def where(self, ticket_id: str) -> str | None:
        slot = self.redis.get(self.keys.where(ticket_id))
        return s(slot) if slot is not None else None

    def get(self, ticket_id: str) -> Ticket | None:
        """The ticket from Redis, else from the archive (closed tickets leave Redis after a week)."""
        slot = self.where(ticket_id)
        if slot:
            doc = self.redis.hget(self.keys.doc(slot, ticket_id), "doc")
            if doc:
                return Ticket.model_validate_json(doc)
        if self.archive is not None:
            doc = self.archive.get_ticket(ticket_id)
            if doc:
                return Ticket.model_validate(doc)
        return None

    # ---- feedback ----------------------------------------------------------------------------
    def apply_feedback(
        self,
        event: dict[str, Any],
        *,
        ack: tuple[str, str, str] | None = None,
        agency: str | None = None,
        defer_early: bool = False,
    ) -> Ticket:
        """Apply one agency update through the state machine.

        Idempotent by ``event_id``. An impossible transition is recorded as a
        ``rejected_transition`` event, then raised as :class:`InvalidTransition`. A malformed
        event or unknown ticket raises :class:`BadEvent`. ``ack`` = (stream, group, entry id)
        is acknowledged with the change. ``agency``: the agency the update came from (an update
        from an agency that no longer holds the ticket is rejected). ``defer_early``: raise
        :class:`EarlyEvent`, recording nothing, for an update whose predecessor has not been
        applied yet (``handled`` while still ``delivered``).
        """
        try:
            ev = FeedbackEvent.model_validate(event)
        except ValidationError as exc:
            raise BadEvent(
                "malformed feedback: "
                + "; ".join(f"{'.'.join(map(str, e['loc'])) or '(event)'}: {e['msg']}" for e in exc.errors())
            ) from None
        if ev.type not in FEEDBACK_TYPES:
            raise BadEvent(f"unknown feedback type {ev.type!r}; known: {', '.join(FEEDBACK_TYPES)}")
        slot = self.where(ev.ticket_id)
        if slot is None:
            raise BadEvent(f"unknown ticket {ev.ticket_id!r}")
        if ev.at:
            try:
                parse_time(ev.at)
            except ValueError:
                raise BadEvent(f"bad time 'at': {ev.at!r}") from None
        at = iso(utcnow())  # events are stamped when applied; the agency's own time is data.reported_at
        key = self.keys.doc(slot, ev.ticket_id)
        while True:
            with self.redis.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)
                    raw = pipe.hgetall(key)
                    if not raw:
                        raise BadEvent(f"ticket {ev.ticket_id!r} is no longer in Redis")
                    fields = {s(k): s(v) for k, v in raw.items()}
                    ticket = Ticket.model_validate_json(fields["doc"])
                    seen: list[str] = json.loads(fields.get("seen") or "[]")
                    if ev.event_id in seen:  # a repeat: already applied
                        pipe.unwatch()
                        if ev.type == "returned" and fields.get("moved_to"):
                            return self._finish_reroute(ticket, fields["moved_to"], ev, ack, seen)
                        if ack:
                            self.redis.xack(ack[0], ack[1], ack[2])
                        return ticket
                    if fields.get("moved_to"):
                        pipe.unwatch()
                        slot = fields["moved_to"]
                        key = self.keys.doc(slot, ev.ticket_id)
                        continue
                    try:
                        if ev.hop is not None and ev.hop != ticket.hop:
                            raise InvalidTransition(
                                ticket.ticket_id,
                                ticket.status,
                                ev.type,
                                f"the update is about routing #{ev.hop}; "
                                f"the ticket is at routing #{ticket.hop}",
                            )
                        if agency and ticket.agency != agency:
                            raise InvalidTransition(
                                ticket.ticket_id,
                                ticket.status,
                                ev.type,
                                f"the ticket is now with {ticket.agency}; {agency}'s update does not apply",
                            )
                        if defer_early and is_early(ticket.status, ev.type):
                            raise EarlyEvent(
                                ticket.ticket_id, ticket.status, ev.type, "its predecessor is missing"
                            )
                        updated, data = self._transition(ticket, ev, at)
                    except EarlyEvent:
                        pipe.unwatch()
                        raise
                    except InvalidTransition as err:
                        self._reject(pipe, slot, key, ticket, ev, err, seen, at, ack)
                        raise
                    seen.append(ev.event_id)
                    doc = updated.to_json()
                    pipe.multi()
                    if ev.type == "returned":
                        target = self._reroute_target(ticket, data)
                        data["rerouted_to"] = target
                        pipe.hset(key, mapping={"doc": doc, "seen": json.dumps(seen), "moved_to": target})
                        pipe.expire(key, FINISHED_TTL_S)
                    else:
                        pipe.hset(key, mapping={"doc": doc, "seen": json.dumps(seen)})
                    self._xadd_event(pipe, slot, updated, ev, ticket.status, at, data, doc)
                    if ack and ev.type != "returned":
                        pipe.xack(ack[0], ack[1], ack[2])
                    if updated.status == "closed":
                        pipe.expire(key, FINISHED_TTL_S)
                    pipe.execute()
                except redis.WatchError:
                    continue
            if updated.status == "closed":  # the pointer lives in its own slot: a separate command
                self.redis.expire(self.keys.where(ev.ticket_id), FINISHED_TTL_S)
            metrics.FEEDBACK_APPLIED.labels(ev.type).inc()
            if ev.type == "delivered":
                metrics.TICKETS_DELIVERED.labels(slot).inc()
            if ev.type == "returned":
                return self._finish_reroute(updated, data["rerouted_to"], ev, ack, seen)
            return updated

    def apply_feedback_run(
        self,
        events: list[dict[str, Any]],
        *,
        ack: tuple[str, str, str] | None = None,
        agency: str | None = None,
        defer_early: bool = False,
    ) -> int:
        """Apply the leading updates of ``events`` that concern one ticket in one transaction.

        Returns how many were dealt with (applied or repeats); the caller applies the rest one
        by one with :meth:`apply_feedback` (a return, an error, another ticket). ``ack`` is
        acknowledged only when all of ``events`` were dealt with here.
        """
        evs: list[FeedbackEvent] = []
        for raw in events:
            try:
                ev = FeedbackEvent.model_validate(raw)
            except ValidationError:
                break
            if (
                ev.type not in FEEDBACK_TYPES
                or ev.type == "returned"
                or (evs and ev.ticket_id != evs[0].ticket_id)
            ):
                break
            if ev.at:
                try:
                    parse_time(ev.at)
                except ValueError:
                    break
            evs.append(ev)
        if len(evs) < 2:
            return 0  # nothing to gain over apply_feedback
        slot = self.where(evs[0].ticket_id)
        if slot is None:
            return 0
        key = self.keys.doc(slot, evs[0].ticket_id)
        while True:
            with self.redis.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)
                    raw_doc = pipe.hgetall(key)
                    fields = {s(k): s(v) for k, v in raw_doc.items()}
                    if not fields or fields.get("moved_to"):
                        return 0
                    ticket = Ticket.model_validate_json(fields["doc"])
                    seen: list[str] = json.loads(fields.get("seen") or "[]")
                    applied: list[tuple[FeedbackEvent, str, Ticket, dict[str, Any]]] = []
                    done = 0
                    for ev in evs:
                        if ev.event_id in seen:
                            done += 1
                            continue
                        if (
                            (agency and ticket.agency != agency)
                            or (ev.hop is not None and ev.hop != ticket.hop)
                            or (defer_early and is_early(ticket.status, ev.type))
                        ):
                            break
                        try:
                            updated, data = self._transition(ticket, ev, iso(utcnow()))
                        except InvalidTransition:
                            break
                        applied.append((ev, ticket.status, updated, data))
                        seen.append(ev.event_id)
                        ticket = updated
                        done += 1
                    if not applied:
                        pipe.unwatch()
                        if done == len(events) and ack:
                            self.redis.xack(ack[0], ack[1], ack[2])
                        return done
                    doc = ticket.to_json()
                    pipe.multi()
                    pipe.hset(key, mapping={"doc": doc, "seen": json.dumps(seen)})
                    for ev, status_from, updated, data in applied:
                        snap = doc if updated is ticket else None
                        self._xadd_event(pipe, slot, updated, ev, status_from, updated.updated_at, data, snap)
                    if ack and done == len(events):
                        pipe.xack(ack[0], ack[1], ack[2])
                    if ticket.status == "closed":
                        pipe.expire(key, FINISHED_TTL_S)
                    pipe.execute()
                except redis.WatchError:
                    continue
            for ev, _f, _u, _d in applied:
                metrics.FEEDBACK_APPLIED.labels(ev.type).inc()
                if ev.type == "delivered":
                    metrics.TICKETS_DELIVERED.labels(slot).inc()
            if ticket.status == "closed":
                self.redis.expire(self.keys.where(ticket.ticket_id), FINISHED_TTL_S)
            return done

    def _reroute_target(self, ticket: Ticket, data: dict[str, Any]) -> str:
        target = data.get("reroute_to")
        valid = target in self.config.agencies.agencies or target in self.config.agencies.desks
        return target if valid and target != ticket.agency else REROUTE_FALLBACK

    def _transition(self, ticket: Ticket, ev: FeedbackEvent, at: str) -> tuple[Ticket, dict[str, Any]]:
        status = next_status(ticket.ticket_id, ticket.status, ev.type)
        t = ticket.model_copy(deep=True)
        data = dict(ev.data)
        if ev.at:
            data["reported_at"] = ev.at
        if ev.type == "arrived":
            data.setdefault("arrived_at", ev.at or at)
            if not data.get("scene_report"):
                raise InvalidTransition(t.ticket_id, t.status, ev.type, "arrived needs a scene_report")
        elif ev.type == "returned":
            if not str(data.get("reason") or "").strip():
                raise InvalidTransition(t.ticket_id, t.status, ev.type, "a return (退单) needs a reason")
        elif ev.type == "extension_requested":
            if t.extension_pending:
                raise InvalidTransition(t.ticket_id, t.status, ev.type, "an extension is already pending")
            t.extension_pending = True
        elif ev.type == "extension_granted":
            if not t.extension_pending:
                raise InvalidTransition(t.ticket_id, t.status, ev.type, "no extension was requested")
            try:
                t.deadlines = self.deadlines.extend(
                    t.deadlines, created=parse_time(t.created_at), request_type=t.request_type
                )
            except ExtensionRefused as exc:
                raise InvalidTransition(t.ticket_id, t.status, ev.type, str(exc)) from None
            t.extension_pending = False
            data["due_at"] = t.deadlines.due_at
        elif ev.type == "rated":
            if data.get("satisfaction") not in ("satisfied", "basically_satisfied", "dissatisfied"):
                raise InvalidTransition(
                    t.ticket_id,
                    t.status,
                    ev.type,
                    "satisfaction must be satisfied, basically_satisfied or dissatisfied",
                )
            t.satisfaction = data["satisfaction"]
        t.status = status  # type: ignore[assignment]
        t.updated_at = at
        t.version += 1
        return t, data

    def _xadd_event(self, pipe: Any, slot: str, ticket: Ticket, ev: FeedbackEvent, status_from: str,
                    at: str, data: dict[str, Any], doc: str | None) -> None:
        """Queue the ticket event for ``ev`` on the agency's event stream (inside ``pipe``)."""
        event = _event(ticket, ev.type, event_id=ev.event_id, status_from=status_from, at=at,
                       actor=ev.actor, data=data, doc=doc)
        pipe.xadd(self.keys.events(slot), {"event": event})

    def _reject(
        self,
        pipe: Any,
        slot: str,
        key: str,
        ticket: Ticket,
        ev: FeedbackEvent,
        err: InvalidTransition,
        seen: list[str],
        at: str,
        ack: tuple[str, str, str] | None,
    ) -> None:
        seen.append(ev.event_id)
        pipe.multi()
        pipe.hset(key, "seen", json.dumps(seen))
        pipe.xadd(
            self.keys.events(slot),
            {
                "event": _event(
                    ticket,
                    "rejected_transition",
                    event_id=f"{ev.event_id}:rejected",
                    status_from=ticket.status,
                    at=at,
                    actor=ev.actor,
                    data={"attempted": ev.type, "error": str(err), "event": ev.model_dump()},
                )
            },
        )
        if ack:
            pipe.xack(ack[0], ack[1], ack[2])
        pipe.execute()
        metrics.FEEDBACK_REJECTED.inc()
        log(LOG, logging.WARNING, "transition rejected", ticket_id=ticket.ticket_id, error=str(err))

    def _finish_reroute(
        self,
        returned: Ticket,
        target: str,
        ev: FeedbackEvent,
        ack: tuple[str, str, str] | None,
        seen: list[str],
    ) -> Ticket:
        """退单, second half: the copy at ``target`` (idempotent), the pointer, then the ack.

        The returned ticket (a tombstone marked ``moved_to``) is written first, so a crash here is
        completed by the repeat of the same feedback entry: the ticket is never dropped.
        """
        new = returned.model_copy(deep=True)
        new.previous_agencies = [*returned.previous_agencies, returned.agency or ""]
        new.agency, new.hop, new.status = target, returned.hop + 1, "created"
        new.version = returned.version + 1
        new.updated_at = max(returned.updated_at, iso(utcnow()))
        self._ensure(target)
        created = self._create_call(
            self.redis,
            new,
            target,
            "rerouted",
            status_from="returned",
            event_id=f"{ev.event_id}:rerouted",
            data={"from": returned.agency, "to": target, "reason": ev.data.get("reason")},
            seen=seen,  # the copy remembers the updates already applied: a repeat re-routes nothing
        )
        self.redis.set(self.keys.where(returned.ticket_id), target)
        if ack:
            self.redis.xack(ack[0], ack[1], ack[2])
        if created:
            log(
                LOG,
                logging.INFO,
                "ticket re-routed",
                ticket_id=returned.ticket_id,
                frm=returned.agency,
                to=target,
            )
        return new

    # ---- posting feedback (agency side) ------------------------------------------------------
    def post_feedback(self, agency: str, event: dict[str, Any]) -> str:
        """Put an agency update on ``feedback:<agency>`` (what an agency client does)."""
        return s(
            self.redis.xadd(self.keys.feedback(agency), {"event": json.dumps(event, ensure_ascii=False)})
        )
