"""Paths to the real Asterisk 22 captures in ``shared/asterisk/``."""

from __future__ import annotations

import os
from pathlib import Path

from twisted.internet import defer

from gateway.telephony.ami.message import parse_message
from tests.conftest import SHARED

# In a worktree the shared dir is not beside the clone; fall back to the dev location.
CAPTURES = next(p for p in (Path(os.environ.get("LINKAGE_SHARED", SHARED)) / "asterisk",
                            SHARED / "asterisk", Path("/work/shared/asterisk")) if p.is_dir())


# Captures from the dialplans in this repository running on a real Asterisk 22 (docs/asterisk.md,
# "Verified against Asterisk 22"), kept beside the tests.
CAPTURES_LOCAL = Path(__file__).resolve().parent / "captures"


def capture(name: str) -> bytes:
    return (CAPTURES / name).read_bytes()


def ami_blocks(name: str) -> list[bytes]:
    """The CRLF-framed messages of an AMI capture file (``### sent`` sections of ami-actions skipped)."""
    data = capture(name)
    out = []
    for block in data.split(b"\r\n\r\n"):
        block = block.strip(b"\r\n")
        if block.startswith(b"Event:") or block.startswith(b"Response:"):
            out.append(block + b"\r\n\r\n")
    return out


# The capture's three-party run: caller 1795439660.1 (queue q110), call-taker 1795439660.2,
# 12345 leg 1795439665.6, room incident-4711.
CALLER_UID = "1795439660.1"
TAKER_UID = "1795439660.2"
AGENT_CAPTURE_UID = "1795439665.6"
INCIDENT = "4711"


def flow_blocks(agent_uid: str | None = None) -> list[bytes]:
    """ami-events-flow.txt as framed messages; the 12345 leg's uniqueid replaced by ``agent_uid``
    (the gateway presets it with Originate's ChannelId)."""
    out = []
    for b in ami_blocks("ami-events-flow.txt"):
        if agent_uid:
            b = b.replace(AGENT_CAPTURE_UID.encode(), agent_uid.encode())
        out.append(b)
    return out


def linkage_call_event(stage: str = "start", uid: str = CALLER_UID, incident: str = INCIDENT,
                       **headers: str) -> bytes:
    """The UserEvent our dialplan sends (``UserEvent(LinkageCall,Stage: ...,Incident: ...)``),
    framed exactly as Asterisk 22 frames a UserEvent (see ami-events-sample.txt)."""
    lines = ["Event: UserEvent", "Privilege: user,all", "Channel: Local/110@harness-in-00000000;2",
             "ChannelState: 6", "ChannelStateDesc: Up", "CallerIDNum: 13800000000",
             "CallerIDName: Caller", "ConnectedLineNum: <unknown>", "ConnectedLineName: <unknown>",
             "Language: en", "AccountCode: ", "Context: linkage-110-in", "Exten: 110", "Priority: 3",
             f"Uniqueid: {uid}", "Linkedid: 1795439660.0", "UserEvent: LinkageCall",
             f"Stage: {stage}", f"Incident: {incident}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def event_named(blocks: list[bytes], name: str, **match: str) -> list[bytes]:
    out = []
    for b in blocks:
        m = parse_message(b[:-4].decode())
        if m.get("Event") == name and all(m.get(k) == v for k, v in match.items()):
            out.append(b)
    return out


class RespondingTransport:
    """Wraps a StringTransport: every action written gets Asterisk 22's reply at once
    (``replies[action]`` overrides, a callable may return raw bytes). ``actions`` keeps all sent."""

    def __init__(self, replies=None):
        from twisted.internet.testing import StringTransport

        self.inner = StringTransport()
        self.replies = replies or {}
        self.actions: list[dict] = []
        self.proto = None

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def write(self, data: bytes) -> None:
        self.inner.write(data)
        for block in data.decode().split("\r\n\r\n"):
            if not block:
                continue
            action = dict(parse_message(block))
            self.actions.append(action)
            name, aid = action["Action"], action["ActionID"]
            spec = self.replies.get(name)
            if callable(spec):
                spec = spec(action)
            if spec is None:
                spec = DEFAULT_REPLIES.get(name, "Response: Success\r\nActionID: {aid}\r\n\r\n")
            if spec:
                self.proto.dataReceived(spec.replace("{aid}", aid).encode())

    def named(self, name: str) -> list[dict]:
        return [a for a in self.actions if a["Action"] == name]


DEFAULT_REPLIES = {
    "Login": "Response: Success\r\nActionID: {aid}\r\nMessage: Authentication accepted\r\n\r\n",
    "Redirect": "Response: Success\r\nActionID: {aid}\r\nMessage: Dual Redirect successful\r\n\r\n",
    "Originate": "Response: Success\r\nActionID: {aid}\r\nMessage: Originate successfully queued\r\n\r\n",
    "Hangup": "Response: Success\r\nActionID: {aid}\r\nMessage: Channel Hungup\r\n\r\n",
    "CoreShowChannels": "Response: Success\r\nActionID: {aid}\r\nEventList: start\r\n"
                        "Message: Channels will follow\r\n\r\nEvent: CoreShowChannelsComplete\r\n"
                        "ActionID: {aid}\r\nEventList: Complete\r\nListItems: 0\r\n\r\n",
}


def logged_in_client(replies=None, clock=None):
    """An AmiClient logged in over a RespondingTransport (no sockets)."""
    from twisted.internet import defer, task

    from gateway.telephony.ami import AmiClient

    clock = clock or task.Clock()
    tr = RespondingTransport(replies)

    class Endpoint:
        def connect(self, factory):
            proto = factory.buildProtocol(None)
            tr.proto = proto
            proto.makeConnection(tr)
            return defer.succeed(proto)

    client = AmiClient(Endpoint(), "linkage", "secret-x", clock=clock, ping_interval_s=1000)
    client.start()
    tr.proto.dataReceived(b"Asterisk Call Manager/11.0.0\r\n")
    assert client.connected
    return client, tr, clock


class Recorder:
    """Stands in for the call-event publisher and the ticket service: keeps what each was given."""

    def __init__(self):
        self.items = []

    def publish(self, event):
        self.items.append(event)

    def create(self, draft):
        self.items.append(draft)
        return defer.succeed({"ticket_id": "T-1"})

    def types(self):
        return [(e["type"], e["data"].get("party") or e["data"].get("stage")) for e in self.items]
