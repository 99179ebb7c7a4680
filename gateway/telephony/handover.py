"""Three-party 110 → 12345 hand-over (三方通话), one state machine per incident, driven by AMI.

1. Dual ``Redirect`` moves the caller and the call-taker together into ConfBridge room
   ``incident-<id>`` (dialplan context ``<context>``, extensions ``c<id>`` / ``t<id>``; the caller
   hears music on hold while alone in the room).
2. ``Originate`` (async, ``ChannelId`` preset) dials the 12345 queue and joins the room as ``a<id>``.
3. ``ConfbridgeJoin`` of that channel → ``joined``: the call-taker may leave.
4. No join within ``answer_timeout_s`` (or ``OriginateResponse: Failure``) → the 12345 leg is hung
   up, the caller stays with (or is sent back to) the call-taker, a callback ticket is created.
5. The caller hanging up mid-transfer cancels the 12345 leg.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall

from gateway.logs import log
from gateway.telephony.ami.errors import AmiError
from gateway.telephony.ami.message import AmiMessage
from gateway.telephony.calls import Call, CallTracker
from gateway.telephony.events import CallEvents

LOG = logging.getLogger("gateway.telephony.handover")
INCIDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ACTIVE = ("redirecting", "waiting")


class HandoverError(Exception):
    """A hand-over cannot start; ``status`` is the HTTP status that fits."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class HandoverSettings:
    answer_timeout_s: float = 30
    context: str = "linkage-handover"
    agent_channel: str = "Local/s@linkage-12345-dial/n"
    return_context: str = "linkage-110-return"
    recordings_dir: str = ""

    @classmethod
    def from_config(cls, config: Any) -> HandoverSettings:
        h = config.gateway.handover
        return cls(h.answer_timeout_s, h.context, h.agent_channel, h.return_context,
                   str(config.recordings_dir))


@dataclass
class Handover:
    incident_id: str
    call: Call
    agent_id: str
    trigger: str
    state: str = "redirecting"
    room: set[str] = field(default_factory=set)
    taker_left: bool = False
    timer: IDelayedCall | None = None
    outcome: str | None = None

    @property
    def conference(self) -> str:
        return f"incident-{self.incident_id}"

    def to_dict(self) -> dict[str, Any]:
        return {"incident_id": self.incident_id, "call_id": self.call.call_id, "state": self.state,
                "outcome": self.outcome, "conference": self.conference, "agent_channel_id": self.agent_id}


class HandoverManager:
    """Starts and follows hand-overs. Feed every AMI event to :meth:`handle`."""

    def __init__(self, ami: Any, tracker: CallTracker, events: CallEvents, tickets: Any,
                 settings: HandoverSettings, clock: Any = None):
        if clock is None:
            from twisted.internet import reactor as clock
        self.ami = ami
        self.tracker = tracker
        self.events = events
        self.tickets = tickets
        self.settings = settings
        self.clock = clock
        self.active: dict[str, Handover] = {}
        self.finished: dict[str, Handover] = {}
        self._by_agent: dict[str, Handover] = {}
        self._attempts: dict[str, int] = {}  # call id -> hand-overs started for it
        tracker.hangup_listeners.append(self._caller_hung_up)
        self.ticket_errors: list[str] = []

    # -- start ----------------------------------------------------------------------------------
    @defer.inlineCallbacks
    def start(self, call_id: str, trigger: str = "http") -> Any:
        """Begin the hand-over for the live call ``call_id`` (caller uniqueid, linkedid or incident)."""
        call = self.tracker.get(call_id)
        if call is None:
            raise HandoverError(f"no live call {call_id!r}", 404)
        if not call.taker_channel:
            raise HandoverError("the call is not connected to a call-taker yet", 409)
        if not INCIDENT_RE.match(call.incident_id):
            raise HandoverError(f"incident id {call.incident_id!r} cannot name a room", 422)
        if call.incident_id in self.active:
            raise HandoverError("a hand-over is already running for this incident", 409)
        attempt = self._attempts[call.call_id] = self._attempts.get(call.call_id, 0) + 1
        while len(self._attempts) > 10000:
            self._attempts.pop(next(iter(self._attempts)))
        # every attempt's 12345 leg has its own ChannelId: late events of an earlier one never
        # touch a later one
        agent_id = f"{call.call_id}-12345" + (f"-{attempt}" if attempt > 1 else "")
        ho = Handover(call.incident_id, call, agent_id, trigger)
        self.active[ho.incident_id] = ho
        self._by_agent[ho.agent_id] = ho
        self.tracker.link(ho.agent_id, ho.incident_id)  # the originated 12345 leg's linkedid
        self.events.publish("transferred", ho.incident_id, call.call_id, stage="started",
                            trigger=trigger, conference=ho.conference)
        ctx = self.settings.context
        try:
            yield self.ami.redirect(call.channel, ctx, f"c{ho.incident_id}", 1,
                                    extra_channel=call.taker_channel, extra_exten=f"t{ho.incident_id}")
        except AmiError as exc:
            self._finish(ho, "failed", f"redirect failed: {exc}")
            raise HandoverError(f"could not move the call into the conference: {exc}", 502) from exc
        if ho.state != "redirecting":  # caller hung up while the redirect was in flight
            return ho.to_dict()
        ho.state = "waiting"
        ho.timer = self.clock.callLater(self.settings.answer_timeout_s, self._no_answer, ho)
        try:
            yield self.ami.originate(
                self.settings.agent_channel, action_id=f"linkage-handover-{ho.agent_id}", context=ctx,
                exten=f"a{ho.incident_id}", priority=1,
                channel_id=ho.agent_id, other_channel_id=f"{ho.agent_id}-2",
                caller_id=f'"110 {ho.incident_id}" <{call.caller or "110"}>',
                timeout_ms=int(self.settings.answer_timeout_s * 1000),
                variables={"__LINKAGE_INCIDENT": ho.incident_id, "__LINKAGE_CALL_ID": call.call_id,
                           "__LINKAGE_ROLE": "agent12345"})
        except AmiError as exc:
            log(LOG, logging.WARNING, "12345 originate failed", incident_id=ho.incident_id, error=str(exc))
            if ho.state == "waiting":
                self._no_answer(ho, reason=f"originate failed: {exc}")
        return ho.to_dict()

    def release_taker(self, incident_id: str) -> defer.Deferred[Any]:
        """Take the call-taker out of the room once 12345 has joined (the two others stay)."""
        ho = self.active.get(incident_id) or self.finished.get(incident_id)
        if ho is None or ho.state != "joined" or not ho.call.taker_channel:
            return defer.fail(HandoverError("12345 has not joined this hand-over", 409))
        return self.ami.confbridge_kick(ho.conference, ho.call.taker_channel)

    def state(self) -> dict[str, Any]:
        return {"handovers_active": len(self.active)}

    def get(self, incident_id: str) -> Handover | None:
        return self.active.get(incident_id) or self.finished.get(incident_id)

    # -- AMI events -----------------------------------------------------------------------------
    def handle(self, msg: AmiMessage) -> None:
        name = msg.get("Event")
        if name == "ConfbridgeJoin":
            ho = self._for_conference(msg)
            if ho is not None:
                self._joined(ho, str(msg.get("Uniqueid", "")), msg)
        elif name == "ConfbridgeLeave":
            ho = self._for_conference(msg)
            if ho is not None:
                self._left(ho, str(msg.get("Uniqueid", "")), msg)
        elif name == "OriginateResponse" and msg.get("Response") == "Failure":
            aid = str(msg.get("ActionID", ""))
            ho = self._by_agent.get(aid.removeprefix("linkage-handover-")) if aid else None
            ho = ho or self._by_agent.get(str(msg.get("Uniqueid", "")))
            if ho is not None and ho.state == "waiting":
                self._no_answer(ho, reason=f"originate failed (reason {msg.get('Reason')})")
        elif name == "Hangup":
            ho = self._by_agent.get(str(msg.get("Uniqueid", "")))
            if ho is not None and ho.state == "waiting":
                self._no_answer(ho, reason="12345 leg hung up before joining")
        elif name == "UserEvent" and msg.get("UserEvent") == "LinkageHandover":
            call_id = str(msg.get("CallId") or "")
            call = self.tracker.get(call_id) if call_id else self.tracker.by_taker(str(msg.get("Uniqueid")))
            if call is None:
                log(LOG, logging.WARNING, "feature code for an unknown call", call_id=call_id)
                return
            self.start(call.call_id, trigger="feature_code").addErrback(
                lambda f: log(LOG, logging.WARNING, "feature-code hand-over refused",
                              call_id=call.call_id, error=f.getErrorMessage()))

    def _for_conference(self, msg: AmiMessage) -> Handover | None:
        conf = str(msg.get("Conference", ""))
        if conf.startswith("incident-"):
            return self.active.get(conf[9:])
        return None

    def _joined(self, ho: Handover, uid: str, msg: AmiMessage) -> None:
        ho.room.add(uid)
        if uid == ho.agent_id and ho.state == "waiting":
            ho.state = "joined"
            self._cancel_timer(ho)
            self.events.publish("joined", ho.incident_id, ho.call.call_id, party="12345",
                                channel=msg.get("Channel"), conference=ho.conference)
        elif uid == ho.call.call_id:
            self.events.publish("joined", ho.incident_id, ho.call.call_id, party="caller",
                                conference=ho.conference)

    def _left(self, ho: Handover, uid: str, msg: AmiMessage) -> None:
        ho.room.discard(uid)
        party = ("caller" if uid == ho.call.call_id else "12345" if uid == ho.agent_id
                 else "taker" if uid == ho.call.taker_uniqueid else "other")
        if party == "taker":
            ho.taker_left = True
        self.events.publish("left", ho.incident_id, ho.call.call_id, party=party, reason="conference",
                            channel=msg.get("Channel"), conference=ho.conference)
        if ho.state == "joined" and party in ("caller", "12345"):
            self._finish(ho, "completed", f"{party} left the conference")

    # -- outcomes -------------------------------------------------------------------------------
    def _no_answer(self, ho: Handover, reason: str = "12345 did not answer in time") -> None:
        if ho.state != "waiting":
            return
        self._cancel_timer(ho)
        ho.state = "no_answer"
        log(LOG, logging.INFO, "12345 did not take the hand-over; caller back with the call-taker",
            incident_id=ho.incident_id, reason=reason)
        self.ami.hangup(ho.agent_id).addErrback(lambda f: None)  # may already be gone
        if ho.taker_left or not ho.call.taker_channel:
            # nobody from 110 is in the room: the caller goes back to the 110 queue, top priority
            self.ami.redirect(ho.call.channel, self.settings.return_context, ho.incident_id, 1).addErrback(
                lambda f: log(LOG, logging.ERROR, "could not return the caller to 110",
                              incident_id=ho.incident_id, error=f.getErrorMessage()))
        self.events.publish("transferred", ho.incident_id, ho.call.call_id, stage="no_answer",
                            reason=reason, returned_to="110")
        self._callback_ticket(ho, reason)
        self._finish(ho, "no_answer", reason)

    def _caller_hung_up(self, call: Call) -> None:
        ho = self.active.get(call.incident_id)
        if ho is None or ho.call.call_id != call.call_id:
            return
        if ho.state in ACTIVE:
            self._cancel_timer(ho)
            if ho.state == "waiting":
                self.ami.hangup(ho.agent_id).addErrback(lambda f: None)
            self.events.publish("transferred", ho.incident_id, call.call_id, stage="caller_hung_up")
            self._finish(ho, "caller_hung_up", "caller hung up during the hand-over")
        else:
            self._finish(ho, "completed", "caller hung up after the hand-over")

    def _finish(self, ho: Handover, state: str, why: str) -> None:
        self._cancel_timer(ho)
        ho.state = state
        ho.outcome = why
        self.active.pop(ho.incident_id, None)
        self._by_agent.pop(ho.agent_id, None)
        self.finished[ho.incident_id] = ho
        while len(self.finished) > 1000:
            self.finished.pop(next(iter(self.finished)))

    def _cancel_timer(self, ho: Handover) -> None:
        if ho.timer is not None and ho.timer.active():
            ho.timer.cancel()
        ho.timer = None

    def _callback_ticket(self, ho: Handover, reason: str) -> None:
        call = ho.call
        draft = {
            "incident_id": ho.incident_id, "source": "110_transfer", "caller": call.caller,
            "route": "hotline", "agency": None,
            "summary": f"110 hand-over to 12345 not answered ({reason}); call the citizen back",
            "transcript_excerpt": str(call.extra.get("transcript", ""))[:500],
            "recordings": list(call.extra.get("recordings", [])),
            "triage": dict(call.extra.get("triage", {})),
            "kind": "callback",
        }
        d = defer.maybeDeferred(self.tickets.create, draft)

        def failed(f: Any) -> None:
            self.ticket_errors.append(f.getErrorMessage())
            log(LOG, logging.ERROR, "callback ticket could not be created", incident_id=ho.incident_id,
                error=f.getErrorMessage())

        d.addErrback(failed)

    # -- after an AMI reconnect -----------------------------------------------------------------
    @defer.inlineCallbacks
    def resync(self, ami: Any = None) -> Any:
        """Rebuild what happened while AMI was away: who is in each active room, which calls ended."""
        ami = ami or self.ami
        _resp, channels = yield ami.core_show_channels()
        live = {str(c.get("Uniqueid")) for c in channels}
        self.tracker.resync(live)  # ends calls (and their hand-overs) whose caller is gone
        for ho in list(self.active.values()):
            members = yield ami.confbridge_list(ho.conference)
            uids = {str(m.get("Uniqueid")) for m in members}
            ho.room = uids
            if ho.state == "waiting" and ho.agent_id in uids:
                ho.state = "joined"
                self._cancel_timer(ho)
                self.events.publish("joined", ho.incident_id, ho.call.call_id, party="12345",
                                    conference=ho.conference, via="resync")
            if ho.call.taker_uniqueid and ho.call.taker_uniqueid not in live:
                ho.taker_left = True
        return {"channels": len(live), "handovers": len(self.active)}

