"""Regressions found by running the shipped dialplans on a real Asterisk 22.10.1 (docs/asterisk.md,
"Verified against Asterisk 22"); each test replays the bytes that run produced
(``tests/telephony/captures/``)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from telephony_wire import CAPTURES_LOCAL, Recorder, logged_in_client
from twisted.internet import defer, task
from twisted.internet.testing import StringTransport

from gateway.telephony.agi import FastAGIFactory, HandlerRegistry
from gateway.telephony.agi_handlers import OverflowHandlers
from gateway.telephony.ami.message import parse_message
from gateway.telephony.calls import CallTracker
from gateway.telephony.events import CallEvents
from gateway.telephony.handover import HandoverManager, HandoverSettings
from gateway.telephony.overflow import Screening


def agi_session(name: str) -> list[dict]:
    lines = (CAPTURES_LOCAL / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines[1:]]


def replay_agi(name: str, *, record_takes_s: float, command_timeout_s: float = 30.0,
               max_record_s: int = 60, triage: dict | None = None) -> tuple[list[str], list[str], Recorder]:
    """Run the overflow handler against a real session: each line the gateway sends gets Asterisk's
    recorded reply, after the recorded delay (``RECORD FILE`` after ``record_takes_s``)."""
    session = agi_session(name)
    transcript = next(c["data"] for c in session if c["data"].startswith("SET VARIABLE LINKAGE_TRANSCRIPT"))
    transcript = transcript.split(" ", 3)[3].strip().strip('"')
    record = next(c for c in session if c["data"].startswith("RECORD FILE")).get("data")
    rec_dir = Path(record.split()[2]).parent
    published = Recorder()
    screening = Screening(transcribe=lambda p: defer.succeed(transcript),
                          classify=lambda t: dict(triage or {"route": "review", "danger": False}),
                          tickets=Recorder(), hours_12345="08:00-20:00",
                          now=lambda: datetime(2026, 11, 23, 10, 0))  # the capture was made in 12345's hours
    handlers = OverflowHandlers(screening, CallEvents(published), rec_dir, max_record_s=max_record_s,
                                silence_s=3, run_blocking=lambda f, *a: defer.maybeDeferred(f, *a))
    reg = HandlerRegistry()
    handlers.register(reg)
    clock = task.Clock()
    factory = FastAGIFactory(reg, command_timeout_s=command_timeout_s, clock=clock)
    proto = factory.buildProtocol(None)
    tr = StringTransport()
    proto.makeConnection(tr)
    first_command = next(i for i, c in enumerate(session) if c["dir"] == "S>")
    for chunk in session[:first_command]:  # the environment, split as the socket split it
        proto.dataReceived(chunk["data"].encode())
    replies = [c["data"] for c in session[first_command:] if c["dir"] == "A>"]
    answered = 0
    while replies and not tr.disconnecting:
        lines = tr.value().decode().splitlines()
        if len(lines) == answered:
            break
        command = lines[answered]
        answered += 1
        step = record_takes_s if command.startswith("RECORD FILE") else 0.01
        for _ in range(int(step * 10)):
            clock.advance(0.1)  # the factory's sweeper runs on this clock
        if tr.disconnecting:
            break
        proto.dataReceived(replies.pop(0).encode())
    captured = [c["data"].rstrip("\n") for c in session if c["dir"] == "S>"]
    return tr.value().decode().splitlines(), captured, published


def test_real_overflow_session_replays_exactly():
    sent, captured, _pub = replay_agi("agi-overflow-screening-review.jsonl", record_takes_s=9)
    assert sent == captured


def test_record_file_may_last_longer_than_the_command_timeout():
    """Real run: a caller still talking 30 s after the beep had the FastAGI session closed by the
    server's 30 s command timeout (``FastAGI command timed out ... RECORD FILE``); the recording was
    lost and the caller sent to 110 unscreened. RECORD FILE now has its own cap plus a margin."""
    sent, captured, pub = replay_agi("agi-overflow-screening-review.jsonl", record_takes_s=45)
    assert sent == captured
    assert sent[-1] == 'SET VARIABLE LINKAGE_NEXT "110"'
    screened = [e for e in pub.items if e["data"].get("stage") == "screened"]
    assert screened and screened[0]["data"]["reason"].startswith("review")


def test_a_recording_past_its_own_cap_still_times_out():
    sent, _captured, _pub = replay_agi("agi-overflow-screening-review.jsonl", record_takes_s=80)
    assert sent[-1].startswith("RECORD FILE") and not any(s.startswith("SET VARIABLE") for s in sent)


def test_real_hotline_session_sets_agency_and_12345():
    sent, captured, _pub = replay_agi("agi-overflow-screening-hotline.jsonl", record_takes_s=5,
                                      triage={"route": "hotline", "agency": "municipal", "danger": False})
    assert sent == captured
    assert 'SET VARIABLE LINKAGE_AGENCY "municipal"' in sent


# -- AMI: the hand-over as Asterisk 22 reported it ------------------------------------------------

def ami_messages(name: str) -> list[bytes]:
    data = (CAPTURES_LOCAL / name).read_bytes()
    return [b + b"\r\n\r\n" for b in data.split(b"\r\n\r\n") if b.strip()]


def test_handover_12345_leg_is_not_a_new_call():
    """Real run: the ``;2`` side of the originated ``Local/s@linkage-12345-dial`` leg runs
    ``Queue(12345)``; its ``QueueCallerJoin``/``AgentConnect`` made the tracker open a second "call"
    (desk 110, the 12345 agent as its "taker"), which ``GET /calls/<incident>`` then returned and a
    second transfer could have been started on."""
    blocks = ami_messages("ami-handover-feature-code.txt")
    msgs = [parse_message(b[:-4].decode()) for b in blocks]
    caller = next(m for m in msgs if m.get("Event") == "QueueCallerJoin")
    incident = caller["Linkedid"]
    agent_id = f"{caller['Uniqueid']}-12345"
    client, tr, clock = logged_in_client()
    published, tickets = Recorder(), Recorder()
    tracker = CallTracker(CallEvents(published))
    mgr = HandoverManager(client, tracker, tracker.events, tickets, HandoverSettings(), clock=clock)
    client.on("*", tracker.handle)
    client.on("*", mgr.handle)
    handover_seen = False
    for b in blocks:
        if b.startswith(b"Event: ConfbridgeLeave"):
            break  # all three in the room: look at the state here
        tr.proto.dataReceived(b)
        if not handover_seen and incident in mgr.active:
            handover_seen = True
            assert [a["Action"] for a in tr.actions[-2:]] == ["Redirect", "Originate"]
            assert tr.actions[-1]["ChannelId"] == agent_id
    assert handover_seen, "the LinkageHandover user event started the hand-over"
    assert list(tracker.calls) == [caller["Uniqueid"]]
    assert tracker.get(incident).call_id == caller["Uniqueid"]
    assert mgr.get(incident).state == "joined"
    joined = [(e["data"].get("party"), e["data"].get("queue"))
              for e in published.items if e["type"] == "joined"]
    assert ("taker", "110") in joined and ("12345_agent", "12345") in joined
    assert ("taker", "12345") not in joined
    assert all(e["incident_id"] == incident for e in published.items)


def test_no_answer_then_caller_hangup_from_real_events():
    """The second real run: an HTTP hand-over whose 12345 agent never answered (gateway timer), then
    a second one the caller hung up on; replayed, the states come out as they did live."""
    blocks = ami_messages("ami-handover-no-answer-then-caller-hangup.txt")
    msgs = [parse_message(b[:-4].decode()) for b in blocks]
    caller = next(m for m in msgs if m.get("Event") == "QueueCallerJoin" and m.get("Queue") == "110")
    incident = caller["Linkedid"]
    client, tr, clock = logged_in_client()
    published, tickets = Recorder(), Recorder()
    tracker = CallTracker(CallEvents(published))
    mgr = HandoverManager(client, tracker, tracker.events, tickets, HandoverSettings(answer_timeout_s=30),
                          clock=clock)
    client.on("*", tracker.handle)
    client.on("*", mgr.handle)
    started = 0
    for b, m in zip(blocks, msgs, strict=True):
        # the gateway started each hand-over (HTTP) right before Asterisk created the 12345 leg
        if m.get("Event") == "Newchannel" and "linkage-12345-dial" in str(m.get("Channel")) \
                and str(m.get("Channel")).endswith(";1"):
            if started == 1:
                clock.advance(30)  # the first one: nobody answered
                assert mgr.get(incident).state == "no_answer"
            mgr.start(caller["Uniqueid"])
            started += 1
        tr.proto.dataReceived(b)
    assert started == 2
    assert mgr.get(incident).state == "caller_hung_up"
    assert [t["kind"] for t in tickets.items] == ["callback"]
    assert list(tracker.calls) == []  # the 12345 legs never became calls
    hangups = [a for a in tr.actions if a["Action"] == "Hangup"]
    assert len(hangups) == 2  # the unanswered leg, then the leg of the abandoned transfer


def test_record_file_failure_is_named_not_a_missing_file(caplog):
    """Real run without the core sound ``beep``: ``RECORD FILE ... BEEP`` answered at once with
    ``200 result=-1 (randomerror) endpos=0`` and wrote nothing; the gateway then reported "audio file
    not found" from the transcriber. Now it logs the failure with its likely cause and never tries
    to transcribe a file that was not written."""
    sent, captured, pub = replay_agi("agi-overflow-record-failed-no-beep.jsonl", record_takes_s=0.01)
    assert sent[:3] == captured[:3] and sent[2].startswith("RECORD FILE")  # the capture then went on
    assert "EXEC StartMusicOnHold" in captured and "EXEC StartMusicOnHold" not in sent  # to "screen"
    assert sent[-2:] == ['SET VARIABLE LINKAGE_ROUTE "review"', 'SET VARIABLE LINKAGE_NEXT "110"']
    screened = [e["data"] for e in pub.items if e["data"].get("stage") == "screened"]
    assert screened == [{"stage": "screened", "next": "110", "route": None, "danger": False,
                         "reason": "recording failed (randomerror)", "caller_hung_up": False}]
    failed = [r for r in caplog.records if r.getMessage() == "overflow recording failed; caller goes to 110"]
    assert failed and "beep" in failed[0].fields["hint"] and failed[0].fields["asterisk"] == "randomerror"
    assert not any("transcription failed" in r.getMessage() for r in caplog.records)


# -- AMI: every action the gateway uses, answered with the live PBX's bytes ------------------------

def real_replies() -> dict[str, str]:
    """``ami-actions-real.txt``: ``### sent`` action, ``### received`` bytes; keyed by the action's
    ActionID in the capture (its replies carry that id, swapped for the live one on replay)."""
    out = {}
    text = (CAPTURES_LOCAL / "ami-actions-real.txt").read_bytes().decode()
    for part in text.split("### sent\r\n")[1:]:
        sent, _, received = part.partition("### received\r\n")
        received = received.split("### ", 1)[0]
        aid = dict(parse_message(sent.strip("\r\n")))["ActionID"]
        out[aid] = received.replace(f"ActionID: {aid}\r\n", "ActionID: {aid}\r\n")
    return out


def test_real_action_replies_parse():
    r = real_replies()
    client, tr, _clock = logged_in_client({
        "ConfbridgeList": r["cbl-1"], "CoreShowChannels": r["csc-1"], "Redirect": r["redir-1"],
        "Getvar": r["gv-global"], "Originate": r["linkage-handover-tap-agent-1"],
        "ConfbridgeKick": r["kick-1"], "Hangup": r["hup-1"], "QueueStatus": r["qs-12345"]})
    results = {}

    def keep(name):
        return lambda v: results.__setitem__(name, v)

    client.confbridge_list("incident-1795453528.52").addCallback(keep("members"))
    client.core_show_channels().addCallback(keep("channels"))
    client.redirect("Local/110@from-trunk-00000019;2", "linkage-handover", "c1", 1,
                    extra_channel="Local/1101@lktest-answer-0000001f;1", extra_exten="t1").addCallback(
        keep("redirect"))
    client.getvar("LINKAGE_REC_DIR").addCallback(keep("getvar"))
    client.originate("Local/s@linkage-12345-dial/n", context="linkage-handover", exten="a1",
                     channel_id="x", action_id="linkage-handover-x").addCallback(keep("originate"))
    client.confbridge_kick("incident-1795453528.52", "Local/1101@lktest-answer-0000001f;1").addCallback(
        keep("kick"))
    client.hangup("no-such-channel").addErrback(lambda f: results.__setitem__("hangup", f.value.message))
    client.queue_status("12345").addCallback(keep("queue"))
    assert results["getvar"] == "/var/lib/linkage/recordings"
    tr.replies.update({"Setvar": r["sv-1"], "Getvar": r["gv-chan"], "MixMonitor": r["mm-1"],
                       "StopMixMonitor": r["smm-1"]})
    client.setvar("LINKAGE_NOTE", "test", "Local/110@from-trunk-0000005a;2").addCallback(keep("setvar"))
    client.getvar("LINKAGE_NOTE", "Local/110@from-trunk-0000005a;2").addCallback(keep("getvar_chan"))
    client.mixmonitor("Local/110@from-trunk-0000005a;2", "/tmp/x.wav", "b").addCallback(keep("mixmonitor"))
    client.stop_mixmonitor("Local/110@from-trunk-0000005a;2").addCallback(keep("stop_mixmonitor"))
    assert results["setvar"]["Message"] == "Variable Set" and results["getvar_chan"] == "test"
    assert results["mixmonitor"].success and results["stop_mixmonitor"].success
    assert [m["Channel"] for m in results["members"]] == ["Local/110@from-trunk-00000019;2",
                                                          "Local/1101@lktest-answer-0000001f;1"]
    assert len(results["channels"][1]) == 4
    assert results["redirect"]["Message"] == "Dual Redirect successful"
    assert results["getvar"] == "/var/lib/linkage/recordings"
    assert results["originate"]["Message"] == "Originate successfully queued"
    assert results["kick"]["Message"] == "User kicked"
    assert results["hangup"] == "No such channel"
    _resp, events = results["queue"]
    assert [e["Event"] for e in events] == ["QueueParams"] and events[0]["Queue"] == "12345"


def test_real_originate_failure_event_falls_back_at_once():
    """The live ``OriginateResponse: Failure`` (queue 12345 empty) ends the hand-over without waiting
    for the answer timeout."""
    blocks = ami_messages("ami-handover-feature-code.txt")
    msgs = [parse_message(b[:-4].decode()) for b in blocks]
    text = (CAPTURES_LOCAL / "ami-actions-real.txt").read_bytes().split(b"(events connection)\r\n", 1)[1]
    failure = text.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    failed_for = parse_message(failure[:-4].decode())["Uniqueid"]  # <caller uniqueid>-12345
    caller_uid = failed_for.removesuffix("-12345")
    client, tr, clock = logged_in_client()
    tickets = Recorder()
    tracker = CallTracker(CallEvents(Recorder()))
    mgr = HandoverManager(client, tracker, tracker.events, tickets, HandoverSettings(), clock=clock)
    client.on("*", tracker.handle)
    client.on("*", mgr.handle)
    caller = next(m for m in msgs if m.get("Event") == "QueueCallerJoin")
    for b, m in zip(blocks, msgs, strict=True):  # up to the call-taker answering
        tr.proto.dataReceived(b.replace(caller["Uniqueid"].encode(), caller_uid.encode()))
        if m.get("Event") == "AgentConnect":
            break
    mgr.start(caller_uid)
    incident = tracker.get(caller_uid).incident_id
    assert mgr.get(incident).state == "waiting"
    tr.proto.dataReceived(failure)
    assert mgr.get(incident).state == "no_answer" and "originate failed" in mgr.get(incident).outcome
    assert [t["kind"] for t in tickets.items] == ["callback"]
