"""Tracks live 110/12345 calls from AMI events and publishes their story as call events.

A call is keyed by the caller channel's ``Uniqueid`` (the ``call_id``); its ``incident_id`` comes
from the dialplan's ``UserEvent(LinkageCall, ...)`` (``Incident:`` header) or else the
``Linkedid``. The dialplan in ``dialplans/extensions_linkage.conf`` emits those user events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.telephony.ami.message import AmiMessage
from gateway.telephony.events import CallEvents


@dataclass
class Call:
    call_id: str
    channel: str
    linkedid: str
    incident_id: str
    caller: str = ""
    queue: str | None = None
    taker_channel: str | None = None
    taker_uniqueid: str | None = None
    desk: str = "110"
    ended: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "incident_id": self.incident_id, "channel": self.channel,
                "caller": self.caller, "queue": self.queue, "taker_channel": self.taker_channel,
                "desk": self.desk}


def _caller(msg: AmiMessage) -> str:
    num = str(msg.get("CallerIDNum", ""))
    return "" if num in ("<unknown>", "unknown") else num


class CallTracker:
    """Feed it every AMI event (``client.on("*", tracker.handle)``)."""

    def __init__(self, events: CallEvents):
        self.events = events
        self.calls: dict[str, Call] = {}
        self._by_taker: dict[str, str] = {}
        self._linked: dict[str, str] = {}  # linkedid -> incident, for legs the gateway originates
        self._legs: dict[str, str] = {}  # uniqueid -> incident of those legs' queueing side
        self.hangup_listeners: list[Callable[[Call], None]] = []

    def get(self, call_id: str) -> Call | None:
        call = self.calls.get(call_id)
        if call is None:  # accept the linkedid or the incident id too
            for c in self.calls.values():
                if call_id in (c.linkedid, c.incident_id):
                    return c
        return call

    def link(self, linkedid: str, incident_id: str) -> None:
        """Channels with this linkedid (e.g. the 12345 leg of a hand-over) belong to ``incident_id``."""
        self._linked[linkedid] = incident_id
        while len(self._linked) > 10000:
            self._linked.pop(next(iter(self._linked)))

    def is_gateway_leg(self, msg: AmiMessage) -> bool:
        """A channel the gateway originated (its linkedid was :meth:`link`-ed), e.g. the
        ``Local/s@linkage-12345-dial`` leg whose ``;2`` side runs ``Queue(12345)``."""
        linkedid = str(msg.get("Linkedid", ""))
        return linkedid in self._linked and str(msg.get("Uniqueid", "")) not in self.calls

    def _leg_queued(self, msg: AmiMessage) -> None:
        """The hand-over's 12345 leg queues for an agent: an event of the incident, not a new call
        (a real Asterisk run showed it otherwise became a second "110 call" of the incident)."""
        uid = str(msg.get("Uniqueid", ""))
        incident = self._linked[str(msg.get("Linkedid", ""))]
        self._legs[uid] = incident
        while len(self._legs) > 10000:
            self._legs.pop(next(iter(self._legs)))
        self.events.publish("queued", incident, uid, queue=str(msg.get("Queue")),
                            position=msg.get("Position"), leg="12345")

    def by_taker(self, uniqueid: str) -> Call | None:
        call_id = self._by_taker.get(uniqueid)
        return self.calls.get(call_id) if call_id else None

    def _ensure(self, msg: AmiMessage, incident: str | None = None) -> Call:
        uid = str(msg.get("Uniqueid", ""))
        call = self.calls.get(uid)
        if call is None:
            linkedid = str(msg.get("Linkedid", uid))
            incident = incident or self._linked.get(linkedid) or linkedid
            call = Call(uid, str(msg.get("Channel", "")), linkedid, incident, _caller(msg))
            self.calls[uid] = call
            self.events.publish("start", call.incident_id, uid, channel=call.channel,
                                caller=call.caller, context=msg.get("Context"))
        return call

    def handle(self, msg: AmiMessage) -> None:
        name = msg.get("Event")
        if name == "UserEvent" and msg.get("UserEvent") == "LinkageCall":
            self._user_event(msg)
        elif name == "QueueCallerJoin":
            if self.is_gateway_leg(msg):
                self._leg_queued(msg)
                return
            call = self._ensure(msg)
            call.queue = str(msg.get("Queue"))
            self.events.publish("queued", call.incident_id, call.call_id, queue=call.queue,
                                position=msg.get("Position"))
        elif name == "AgentConnect":
            uid = str(msg.get("Uniqueid", ""))
            call = self.calls.get(uid)
            if uid in self._legs:
                self.events.publish("joined", self._legs[uid], uid, party="12345_agent",
                                    queue=msg.get("Queue"), member=msg.get("MemberName"),
                                    hold_s=msg.get("HoldTime"))
            elif call is not None:
                call.taker_channel = str(msg.get("DestChannel", ""))
                call.taker_uniqueid = str(msg.get("DestUniqueid", ""))
                self._by_taker[call.taker_uniqueid] = call.call_id
                self.events.publish("joined", call.incident_id, call.call_id, party="taker",
                                    queue=msg.get("Queue"), member=msg.get("MemberName"),
                                    hold_s=msg.get("HoldTime"))
        elif name == "Hangup":
            uid = str(msg.get("Uniqueid", ""))
            self._legs.pop(uid, None)
            call = self.calls.get(uid)
            if call is not None:
                self.ended(call, cause=msg.get("Cause"), cause_txt=msg.get("Cause-txt"))
            elif uid in self._by_taker:
                taker_call = self.calls.get(self._by_taker.pop(uid))
                if taker_call is not None:
                    self.events.publish("left", taker_call.incident_id, taker_call.call_id,
                                        party="taker", reason="hangup", channel=msg.get("Channel"))

    def _user_event(self, msg: AmiMessage) -> None:
        stage = msg.get("Stage")
        incident = msg.get("Incident") or None
        call = self._ensure(msg, incident)
        if incident and call.incident_id != incident:
            call.incident_id = str(incident)
        if msg.get("Desk"):
            call.desk = str(msg.get("Desk"))
        if stage == "overflow":
            self.events.publish("overflowed", call.incident_id, call.call_id,
                                reason=msg.get("Reason"), queue=msg.get("Queue"))
        elif stage == "recording":
            call.extra.setdefault("recordings", []).extend(
                p for p in (msg.get("Mixed"), msg.get("CallerLeg"), msg.get("TakerLeg")) if p)

    def ended(self, call: Call, **data: Any) -> None:
        if call.ended:
            return
        call.ended = True
        self.events.publish("hungup", call.incident_id, call.call_id, **data)
        for listener in list(self.hangup_listeners):
            listener(call)
        self.calls.pop(call.call_id, None)
        if call.taker_uniqueid:
            self._by_taker.pop(call.taker_uniqueid, None)

    def resync(self, live_uniqueids: set[str]) -> None:
        """After an AMI reconnect: calls whose channel no longer exists ended while we were away."""
        for call in list(self.calls.values()):
            if call.call_id not in live_uniqueids:
                self.ended(call, cause="gone after AMI reconnect")
