"""AMI client against the real Asterisk 22 bytes, driven by StringTransport and Clock."""

from __future__ import annotations

import json
import logging

import pytest
from telephony_wire import ami_blocks, capture
from twisted.internet import defer, task
from twisted.internet.testing import StringTransport

from gateway.telephony.ami import (
    AmiActionError,
    AmiClient,
    AmiDisconnected,
    AmiProtocolError,
    AmiTimeout,
    parse_message,
    serialize_action,
)
from gateway.telephony.ami import actions as A

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
SECRET = "s3cret-ami-pass"


class FakeEndpoint:
    """Each connect() attaches a new protocol to a StringTransport (or fails when told)."""

    def __init__(self):
        self.transports: list[StringTransport] = []
        self.protocols = []
        self.fail_next = 0

    def connect(self, factory):
        if self.fail_next:
            self.fail_next -= 1
            return defer.fail(ConnectionRefusedError("connection refused"))
        proto = factory.buildProtocol(None)
        tr = StringTransport()
        proto.makeConnection(tr)
        self.transports.append(tr)
        self.protocols.append(proto)
        return defer.succeed(proto)


def sent_actions(tr: StringTransport) -> list[dict]:
    out = []
    for block in tr.value().decode().split("\r\n\r\n"):
        if block:
            out.append(dict(parse_message(block)))
    return out


def login(client, ep, index=-1):
    proto, tr = ep.protocols[index], ep.transports[index]
    proto.dataReceived(BANNER)
    login_action = sent_actions(tr)[-1]
    assert login_action["Action"] == "Login" and login_action["Secret"] == SECRET
    proto.dataReceived(f"Response: Success\r\nActionID: {login_action['ActionID']}\r\n"
                       "Message: Authentication accepted\r\n\r\n".encode())
    assert client.connected
    return proto, tr


def make_client(**kw):
    clock = task.Clock()
    ep = FakeEndpoint()
    client = AmiClient(ep, "linkage", lambda: SECRET, clock=clock, ping_interval_s=20,
                       action_timeout_s=5, reconnect_initial_s=1, reconnect_max_s=30, **kw)
    client.start()
    return client, ep, clock


def reply(proto, tr, text: str):
    """Answer the last sent action with ``text`` (its ActionID substituted for {aid})."""
    aid = sent_actions(tr)[-1]["ActionID"]
    proto.dataReceived(text.replace("{aid}", aid).replace("\n", "\r\n").encode())


def test_every_capture_message_parses():
    blocks = ami_blocks("ami-events-flow.txt") + ami_blocks("ami-actions.txt") + ami_blocks(
        "ami-events-sample.txt")
    assert len(blocks) > 200
    for b in blocks:
        m = parse_message(b[:-4].decode())
        assert m.get("Event") or m.get("Response")


def test_event_stream_delivered_in_order_any_chunking():
    client, ep, _clock = make_client()
    proto, _tr = login(client, ep)
    got = []
    client.on("*", lambda m: got.append(m["Event"]))
    data = capture("ami-events-flow.txt")
    for i in range(0, len(data), 7):
        proto.dataReceived(data[i:i + 7])
    expected = [b.split(b"\r\n", 1)[0][7:].decode() for b in ami_blocks("ami-events-flow.txt")]
    # list events in the flow carry ActionIDs of the capture's own client, never ours: all delivered
    assert got == expected


def test_filters_by_header_pattern():
    client, ep, _clock = make_client()
    proto, _tr = login(client, ep)
    joins = []
    client.on("ConfbridgeJoin", joins.append, Conference="incident-*", Channel="Local/12345@*")
    proto.dataReceived(capture("ami-events-flow.txt"))
    assert [j["Uniqueid"] for j in joins] == ["1795439665.6"]


def test_command_output_multiline_and_repeated_keys():
    client, ep, _clock = make_client()
    proto, tr = login(client, ep)
    got = []
    client.send_action({"Action": "Command", "Command": "core show channeltypes"}).addCallback(got.append)
    reply(proto, tr, "Response: Success\nActionID: {aid}\nMessage: Command output follows\n"
          "Output: Type  Description\nOutput: CBAnn  Conference Bridge\nOutput: 4 channel drivers.\n\n")
    assert got[0].getall("Output")[1] == "CBAnn  Conference Bridge"
    assert got[0].output.count("\n") == 2


def test_event_list_collected_queue_status_from_capture():
    client, ep, _clock = make_client()
    proto, tr = login(client, ep)
    got = []
    client.queue_status("q110").addCallback(got.append)
    text = capture("ami-actions.txt").decode()
    section = text.split("ActionID: harness-16\r\nQueue: q110\r\n\r\n### received\r\n", 1)[1]
    section = section.split("### sent", 1)[0].replace("harness-16", sent_actions(tr)[-1]["ActionID"])
    proto.dataReceived(section.encode())
    resp, events = got[0]
    assert resp["EventList"] == "start"
    assert [e["Event"] for e in events] == ["QueueParams", "QueueMember"]
    assert events[1]["Location"] == "Local/agent@harness-agent-phone/n"
    assert events[1]["PausedReason"] == ""


def test_error_responses_from_capture():
    client, ep, _clock = make_client()
    proto, tr = login(client, ep)
    errs = []
    client.hangup("Local/nobody@nowhere-00000000;1").addErrback(lambda f: errs.append(f.value))
    reply(proto, tr, "Response: Error\nActionID: {aid}\nMessage: No such channel\n\n")
    assert isinstance(errs[0], AmiActionError) and errs[0].message == "No such channel"
    rooms = []
    client.confbridge_list("no-such-room").addCallback(rooms.append)
    reply(proto, tr, "Response: Error\nActionID: {aid}\nMessage: No active conferences.\n\n")
    assert rooms == [[]]


def test_originate_response_event_reaches_handlers():
    client, ep, _clock = make_client()
    proto, tr = login(client, ep)
    got, events = [], []
    client.on("OriginateResponse", events.append)
    client.originate("Local/12345@from-linkage", context="linkage-handover", exten="4711",
                     channel_id="inc-4711-12345").addCallback(got.append)
    sent = sent_actions(tr)[-1]
    assert sent["ChannelId"] == "inc-4711-12345" and sent["Async"] == "true"
    reply(proto, tr, "Response: Success\nActionID: {aid}\nMessage: Originate successfully queued\n\n"
          "Event: OriginateResponse\nPrivilege: call,all\nActionID: {aid}\nResponse: Failure\n"
          "Channel: Local/12345@from-linkage\nReason: 0\nUniqueid: <unknown>\n\n")
    assert got[0].success
    assert events[0]["Response"] == "Failure"


def test_action_builders_wire_form():
    action = A.redirect("Local/110@in-1;2", "linkage-handover", "4711", extra_channel="PJSIP/agent-1")
    wire = serialize_action({"ActionID": "x", **action}).decode()
    assert "ExtraChannel: PJSIP/agent-1\r\nExtraContext: linkage-handover\r\nExtraExten: 4711\r\n" in wire
    org = A.originate("Local/q@ctx", context="c", exten="e", variables={"A": "1", "B": "2"})
    wire = serialize_action(org).decode()
    assert "Variable: A=1\r\nVariable: B=2\r\n" in wire
    assert A.confbridge_kick("incident-1", "PJSIP/x")["Action"] == "ConfbridgeKick"
    assert A.mixmonitor("PJSIP/x", "/r/a.wav", "r(/r/a-in.wav)t(/r/a-out.wav)")["Options"].startswith("r(")
    assert A.stop_mixmonitor("PJSIP/x")["Action"] == "StopMixMonitor"
    assert A.setvar("X", "1", "PJSIP/x")["Value"] == "1"
    assert A.getvar("X", "PJSIP/x")["Variable"] == "X"
    with pytest.raises(ValueError):
        serialize_action({"Action": "Setvar", "Value": "1\r\nAction: Hangup"})
    with pytest.raises(ValueError):
        A.originate("Local/x@y")


def test_secret_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    from gateway.logs import JsonFormatter

    client, ep, _clock = make_client()
    proto = ep.protocols[0]
    proto.dataReceived(BANNER)
    reply(proto, ep.transports[0], "Response: Error\nActionID: {aid}\nMessage: Authentication failed\n\n")
    proto.connectionLost(None)
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert lines and all(SECRET not in line for line in lines)
    assert any("login failed: Authentication failed" in json.loads(line).get("error", "") for line in lines)
    assert client.state()["last_error"] == "login failed: Authentication failed"


def test_reconnect_with_exponential_backoff_and_resync():
    client, ep, clock = make_client()
    resyncs = []
    client.on_resync(lambda c: resyncs.append(c.connects_total))
    proto, _tr = login(client, ep)
    assert resyncs == [1]
    ep.fail_next = 4
    proto.connectionLost(None)
    assert client.state()["connected"] is False and "connection lost" in client.state()["last_error"]
    delays = []
    for _ in range(4):
        before = len(ep.protocols)
        waited = 0.0
        while len(ep.protocols) == before and client.failures < 6:
            pending = [c.getTime() for c in clock.getDelayedCalls()]
            step = min(pending) - clock.seconds()
            clock.advance(step)
            waited += step
            if client.state()["last_error"].startswith("connect failed"):
                break
        delays.append(waited)
    assert delays == [1, 2, 4, 8]
    clock.advance(16)
    assert len(ep.protocols) == 2
    login(client, ep)
    assert resyncs == [1, 2] and client.state()["last_error"] is None


def test_backoff_caps_at_max():
    _client, ep, clock = make_client()
    ep.fail_next = 100
    ep.protocols[0].connectionLost(None)
    for _ in range(10):
        clock.advance(30)
    calls = clock.getDelayedCalls()
    assert calls and calls[0].getTime() - clock.seconds() <= 30


def test_ping_keepalive_and_dead_link_detection():
    client, ep, clock = make_client()
    proto, tr = login(client, ep)
    clock.advance(20)
    assert sent_actions(tr)[-1]["Action"] == "Ping"
    reply(proto, tr, "Response: Success\nActionID: {aid}\nPing: Pong\nTimestamp: 1.0\n\n")
    clock.advance(20)
    assert sent_actions(tr)[-1]["Action"] == "Ping"
    clock.advance(20)  # unanswered
    assert tr.disconnecting and "ping failed" in client.state()["last_error"]


def test_pending_actions_fail_when_connection_drops():
    client, ep, _clock = make_client()
    proto, _tr = login(client, ep)
    errs = []
    client.hangup("PJSIP/a").addErrback(lambda f: errs.append(f.value))
    proto.connectionLost(None)
    assert isinstance(errs[0], AmiDisconnected)
    d = client.hangup("PJSIP/a")
    d.addErrback(lambda f: errs.append(f.value))
    assert isinstance(errs[1], AmiDisconnected)


def test_action_timeout():
    client, ep, clock = make_client()
    _proto, _tr = login(client, ep)
    errs = []
    client.hangup("PJSIP/a").addErrback(lambda f: errs.append(f.value))
    clock.advance(5)
    assert isinstance(errs[0], AmiTimeout)


@pytest.mark.parametrize("data", [b"HTTP/1.1 400 Bad Request\r\n\r\n", b"x" * 2000])
def test_bad_banner_drops_connection(data):
    _client, ep, _clock = make_client()
    ep.protocols[0].dataReceived(data)
    assert ep.transports[0].disconnecting


def test_oversized_message_drops_connection_and_fails_pending():
    client, ep, _clock = make_client()
    proto, tr = login(client, ep)
    errs = []
    client.hangup("PJSIP/a").addErrback(lambda f: errs.append(f.value))
    proto.dataReceived(b"Event: X\r\nData: " + b"a" * (1 << 20) + b"\r\n")
    assert isinstance(errs[0], AmiProtocolError) and tr.disconnecting


def test_truncated_message_then_lost_is_not_delivered():
    client, ep, _clock = make_client()
    proto, _tr = login(client, ep)
    got = []
    client.on("*", got.append)
    proto.dataReceived(b"Event: Hangup\r\nChannel: PJSIP/a\r\n")
    proto.connectionLost(None)
    assert got == [] and not client.connected


def test_handler_exception_does_not_stop_others():
    client, ep, _clock = make_client()
    proto, _tr = login(client, ep)
    got = []
    client.on("Hangup", lambda m: 1 / 0)
    client.on("Hangup", got.append)
    proto.dataReceived(b"Event: Hangup\r\nChannel: PJSIP/a\r\n\r\n")
    assert len(got) == 1


def test_missing_secret_is_an_error_not_a_crash():
    clock = task.Clock()
    ep = FakeEndpoint()
    client = AmiClient(ep, "linkage", lambda: None, clock=clock)
    client.start()
    ep.protocols[0].dataReceived(BANNER)
    assert ep.transports[0].disconnecting
    assert client.state()["last_error"] == "AMI secret is not set"
