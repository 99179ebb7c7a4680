"""The hand-over state machine fed the real capture's event sequence (no sockets, Clock time)."""

from __future__ import annotations

import json

from telephony_wire import (
    CALLER_UID,
    INCIDENT,
    TAKER_UID,
    Recorder,
    event_named,
    flow_blocks,
    linkage_call_event,
    logged_in_client,
)
from twisted.web.test.requesthelper import DummyRequest

from gateway.telephony.calls import CallTracker
from gateway.telephony.events import CallEvents
from gateway.telephony.handover import HandoverManager, HandoverSettings
from gateway.telephony.http import CallsResource

AGENT_UID = f"{CALLER_UID}-12345"


def setup(replies=None):
    client, tr, clock = logged_in_client(replies)
    published, tickets = Recorder(), Recorder()
    tracker = CallTracker(CallEvents(published))
    mgr = HandoverManager(client, tracker, tracker.events, tickets,
                          HandoverSettings(answer_timeout_s=30), clock=clock)
    client.on("*", tracker.handle)
    client.on("*", mgr.handle)
    return client, tr, clock, mgr, published, tickets


def feed(tr, blocks):
    for b in blocks:
        tr.proto.dataReceived(b)


def until_connected(tr):
    """Start of the capture: caller queued and answered by the call-taker."""
    flow = flow_blocks(AGENT_UID)
    feed(tr, [linkage_call_event()])
    feed(tr, event_named(flow, "QueueCallerJoin") + event_named(flow, "AgentConnect"))
    return flow


def test_full_handover_from_capture():
    _client, tr, clock, mgr, pub, tickets = setup()
    flow = until_connected(tr)
    result = []
    mgr.start(CALLER_UID).addCallback(result.append)
    redirect = tr.named("Redirect")[0]
    assert redirect["Channel"] == "Local/110@harness-in-00000000;2"
    assert redirect["ExtraChannel"] == "Local/agent@harness-agent-phone-00000001;1"
    assert (redirect["Context"], redirect["Exten"], redirect["ExtraExten"]) == (
        "linkage-handover", f"c{INCIDENT}", f"t{INCIDENT}")
    originate = tr.named("Originate")[0]
    assert originate["ChannelId"] == AGENT_UID and originate["Exten"] == f"a{INCIDENT}"
    assert "__LINKAGE_INCIDENT=4711" in originate["Variable"]
    assert result[0]["state"] == "waiting"
    feed(tr, event_named(flow, "ConfbridgeJoin") + event_named(flow, "ConfbridgeLeave", Uniqueid=TAKER_UID))
    assert mgr.get(INCIDENT).state == "joined"
    clock.advance(60)  # the answer timer was cancelled: no callback ticket, no hang-up
    assert tickets.items == [] and tr.named("Hangup") == []
    feed(tr, event_named(flow, "Hangup", Uniqueid=CALLER_UID))
    assert mgr.get(INCIDENT).state == "completed"
    assert pub.types() == [
        ("start", None), ("queued", None), ("joined", "taker"), ("transferred", "started"),
        ("joined", "caller"), ("joined", "12345"), ("left", "taker"), ("hungup", None)]
    assert all(e["incident_id"] == INCIDENT and e["at"].endswith("Z") for e in pub.items)


def test_12345_not_answering_brings_caller_back_and_creates_callback_ticket():
    _client, tr, clock, mgr, pub, tickets = setup()
    flow = until_connected(tr)
    mgr.start(CALLER_UID)
    feed(tr, event_named(flow, "ConfbridgeJoin", Uniqueid=CALLER_UID))
    clock.advance(29.9)
    assert tickets.items == []
    clock.advance(0.2)
    assert tr.named("Hangup")[0]["Channel"] == AGENT_UID
    assert mgr.get(INCIDENT).state == "no_answer"
    # the call-taker is still in the room with the caller: nobody is redirected back
    assert len(tr.named("Redirect")) == 1
    draft = tickets.items[0]
    assert draft["kind"] == "callback" and draft["source"] == "110_transfer"
    assert draft["caller"] == "13800000000" and draft["incident_id"] == INCIDENT
    assert ("transferred", "no_answer") in pub.types()


def test_no_answer_after_taker_left_returns_caller_to_110():
    _client, tr, clock, mgr, _pub, _tickets = setup()
    flow = until_connected(tr)
    mgr.start(CALLER_UID)
    feed(tr, event_named(flow, "ConfbridgeLeave", Uniqueid=TAKER_UID))
    clock.advance(30)
    back = tr.named("Redirect")[1]
    assert (back["Channel"], back["Context"], back["Exten"]) == (
        "Local/110@harness-in-00000000;2", "linkage-110-return", INCIDENT)


def test_originate_failure_is_no_answer_at_once():
    _client, tr, _clock, mgr, _pub, tickets = setup()
    until_connected(tr)
    mgr.start(CALLER_UID)
    originate = tr.named("Originate")[0]
    assert originate["ActionID"] == f"linkage-handover-{AGENT_UID}"
    tr.proto.dataReceived(  # as Asterisk 22 reports a failed async originate (ami-actions.txt)
        ("Event: OriginateResponse\r\nPrivilege: call,all\r\n"
         f"ActionID: {originate['ActionID']}\r\nResponse: Failure\r\n"
         "Channel: Local/s@linkage-12345-dial/n\r\nContext: linkage-handover\r\nExten: a4711\r\n"
         "Reason: 0\r\nUniqueid: <unknown>\r\nCallerIDNum: <unknown>\r\n\r\n").encode())
    assert mgr.get(INCIDENT).state == "no_answer" and tickets.items[0]["kind"] == "callback"


def test_a_second_attempt_has_its_own_12345_leg_and_ignores_the_first_ones_late_events():
    _client, tr, clock, mgr, _pub, tickets = setup()
    flow = until_connected(tr)
    mgr.start(CALLER_UID)
    feed(tr, event_named(flow, "ConfbridgeJoin", Uniqueid=CALLER_UID))
    clock.advance(30.1)  # nobody at 12345: the caller stays with the call-taker
    assert mgr.get(INCIDENT).state == "no_answer"
    mgr.start(CALLER_UID)  # the call-taker tries again
    second = tr.named("Originate")[1]
    assert second["ChannelId"] == f"{AGENT_UID}-2" and second["ActionID"].endswith(f"{AGENT_UID}-2")
    # the first attempt's leg reports its hang-up late: the second attempt goes on waiting
    feed(tr, [f"Event: Hangup\r\nPrivilege: call,all\r\nChannel: Local/s@linkage-12345-dial-0000000a;1\r\n"
              f"Uniqueid: {AGENT_UID}\r\nLinkedid: {AGENT_UID}\r\nCause: 16\r\n\r\n".encode()])
    assert mgr.get(INCIDENT).state == "waiting" and len(tickets.items) == 1
    feed(tr, event_named(flow_blocks(f"{AGENT_UID}-2"), "ConfbridgeJoin", Uniqueid=f"{AGENT_UID}-2"))
    assert mgr.get(INCIDENT).state == "joined"


def test_caller_hangs_up_mid_transfer():
    _client, tr, clock, mgr, pub, tickets = setup()
    flow = until_connected(tr)
    mgr.start(CALLER_UID)
    feed(tr, event_named(flow, "Hangup", Uniqueid=CALLER_UID))
    assert mgr.get(INCIDENT).state == "caller_hung_up"
    assert tr.named("Hangup")[0]["Channel"] == AGENT_UID
    clock.advance(60)
    assert tickets.items == []
    assert ("transferred", "caller_hung_up") in pub.types() and ("hungup", None) in pub.types()


def test_redirect_error_refuses_and_keeps_call():
    err = "Response: Error\r\nActionID: {aid}\r\nMessage: Channel does not exist: x\r\n\r\n"
    _client, tr, _clock, mgr, _pub, _tickets = setup({"Redirect": err})
    until_connected(tr)
    errors = []
    mgr.start(CALLER_UID).addErrback(lambda f: errors.append(f.value))
    assert errors[0].status == 502 and tr.named("Originate") == []
    assert mgr.get(INCIDENT).state == "failed"


def test_feature_code_user_event_starts_handover():
    _client, tr, _clock, mgr, _pub, _tickets = setup()
    until_connected(tr)
    tr.proto.dataReceived(
        ("Event: UserEvent\r\nPrivilege: user,all\r\nChannel: Local/agent@harness-agent-phone-00000001;1\r\n"
         f"Uniqueid: {TAKER_UID}\r\nLinkedid: 1795439660.0\r\nUserEvent: LinkageHandover\r\n"
         f"CallId: {CALLER_UID}\r\n\r\n").encode())
    assert len(tr.named("Redirect")) == 1 and mgr.get(INCIDENT).trigger == "feature_code"


def test_start_refused_for_unknown_or_unanswered_calls():
    _client, tr, _clock, mgr, _pub, _tickets = setup()
    errors = []
    mgr.start("nope").addErrback(lambda f: errors.append(f.value.status))
    feed(tr, [linkage_call_event()])
    mgr.start(CALLER_UID).addErrback(lambda f: errors.append(f.value.status))
    assert errors == [404, 409]


def _post(resource, path):
    req = DummyRequest(path.encode().split(b"/"))
    req.method = b"POST"
    body = resource.render(req)
    if isinstance(body, bytes):
        req.write(body)
    return req.responseCode, json.loads(b"".join(req.written))


def test_http_transfer_endpoint():
    _client, tr, _clock, mgr, _pub, _tickets = setup()
    resource = CallsResource(mgr)
    assert _post(resource, "nope/transfer-to-12345")[0] == 404
    until_connected(tr)
    code, body = _post(resource, f"{CALLER_UID}/transfer-to-12345")
    assert code == 202 and body["state"] == "waiting" and body["conference"] == f"incident-{INCIDENT}"
    assert _post(resource, f"{CALLER_UID}/transfer-to-12345")[0] == 409
    tr.proto.connectionLost(None)
    assert _post(resource, f"{CALLER_UID}/transfer-to-12345")[0] == 503


def _get(resource, path):
    req = DummyRequest([p for p in path.encode().split(b"/") if p])
    body = resource.render(req)
    return req.responseCode or 200, json.loads(body)


def test_http_live_calls_list_for_the_desktop():
    _client, tr, _clock, mgr, _pub, _tickets = setup()
    resource = CallsResource(mgr)
    assert _get(resource, "") == (200, {"calls": []})
    until_connected(tr)
    code, body = _get(resource, "")
    [call] = body["calls"]
    assert code == 200 and call["call_id"] == CALLER_UID and call["incident_id"] == INCIDENT
    assert call["taker_channel"] and call["handover"] is None
    _post(resource, f"{CALLER_UID}/transfer-to-12345")
    assert _get(resource, "")[1]["calls"][0]["handover"]["state"] == "waiting"


def test_resync_after_reconnect_sees_join_and_ended_calls():
    _client, tr, _clock, mgr, _pub, _tickets = setup()
    until_connected(tr)
    mgr.start(CALLER_UID)
    room = ("Response: Success\r\nActionID: {aid}\r\nEventList: start\r\n\r\n"
            f"Event: ConfbridgeList\r\nActionID: {{aid}}\r\nConference: incident-{INCIDENT}\r\n"
            f"Uniqueid: {AGENT_UID}\r\n\r\n"
            "Event: ConfbridgeListComplete\r\nActionID: {aid}\r\nEventList: Complete\r\nListItems: 1\r\n\r\n")
    chans = ("Response: Success\r\nActionID: {aid}\r\nEventList: start\r\n\r\n"
             f"Event: CoreShowChannel\r\nActionID: {{aid}}\r\nUniqueid: {CALLER_UID}\r\n\r\n"
             "Event: CoreShowChannelsComplete\r\nActionID: {aid}\r\nEventList: Complete\r\n\r\n")
    tr.replies.update({"ConfbridgeList": room, "CoreShowChannels": chans})
    out = []
    mgr.resync().addCallback(out.append)
    assert mgr.get(INCIDENT).state == "joined" and out[0]["handovers"] == 1
    assert mgr.get(INCIDENT).taker_left is True  # taker channel not in CoreShowChannels


def test_12345_leg_events_carry_the_incident():
    """The originated leg has its own linkedid (its ChannelId); its queue events still name the incident."""
    _client, tr, _clock, mgr, pub, _tickets = setup()
    until_connected(tr)
    mgr.start(CALLER_UID)
    tr.proto.dataReceived(
        ("Event: QueueCallerJoin\r\nPrivilege: agent,all\r\n"
         "Channel: Local/s@linkage-12345-dial-00000009;2\r\n"
         f"CallerIDNum: 13800000000\r\nUniqueid: {AGENT_UID}-2\r\nLinkedid: {AGENT_UID}\r\n"
         "Queue: 12345\r\nPosition: 1\r\nCount: 1\r\n\r\n").encode())
    queued = [e for e in pub.items if e["type"] == "queued"]
    assert queued[-1]["data"]["queue"] == "12345" and queued[-1]["incident_id"] == INCIDENT
