"""Overflow screening: routing rules, the FastAGI handler over StringTransport, the pyst2 EAGI script."""

from __future__ import annotations

import math
import os
import struct
import subprocess
import sys
import wave
from datetime import datetime

import pytest
from telephony_wire import capture
from twisted.internet import defer, task
from twisted.internet.testing import StringTransport

from gateway.telephony.agi import FastAGIFactory, HandlerRegistry
from gateway.telephony.agi_handlers import OverflowHandlers
from gateway.telephony.events import CallEvents
from gateway.telephony.overflow import Screening, channel_safe, decide, in_hours

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = capture("agi-session-1-some_script.env.txt").replace(b"some_script", b"overflow_screening")


@pytest.mark.parametrize("triage, hours, nxt, prio, ticket", [
    ({"route": "police", "danger": True}, True, "110", 10, False),
    ({"route": "hotline", "danger": True, "agency": "gas"}, True, "110", 10, False),
    ({"route": "fire", "danger": False}, False, "110", 10, False),
    ({"route": "hotline", "agency": "water", "danger": False}, True, "12345", 0, True),
    ({"route": "hotline", "agency": "water", "danger": False}, False, "ticket", 0, True),
    ({"route": "not_accepted", "danger": False}, True, "not_accepted", 0, False),
    ({"route": "review", "danger": False}, True, "110", 0, False),
    ({}, True, "110", 0, False),
])
def test_decide(triage, hours, nxt, prio, ticket):
    d = decide(triage, in_hours=hours)
    assert (d.next, d.priority, d.ticket) == (nxt, prio, ticket)


def test_hours_and_channel_safe():
    assert in_hours("08:00-20:00", datetime(2026, 11, 23, 8, 0))
    assert not in_hours("08:00-20:00", datetime(2026, 11, 23, 20, 0))
    assert in_hours("22:00-06:00", datetime(2026, 11, 23, 23, 0))
    assert channel_safe('有人\n打架"快来"\x00', 10) == '有人 打架"快来"'


class Tickets:
    def __init__(self, fail=False):
        self.drafts, self.fail = [], fail

    def create(self, draft):
        if self.fail:
            return defer.fail(RuntimeError("redis down"))
        self.drafts.append(draft)
        return defer.succeed({"ticket_id": f"T{len(self.drafts)}"})


class Triage:
    """The triage API's result object shape: ``.to_dict()``."""

    def __init__(self, d):
        self.d = d

    def to_dict(self):
        return dict(self.d)


def run_handler(transcript, triage, *, hour=10, tickets=None, tmp_path, replies=None, env=ENV):
    published = []
    tickets = tickets or Tickets()

    class Pub:
        def publish(self, e):
            published.append(e)

    screening = Screening(transcribe=lambda p: defer.succeed(transcript), classify=lambda t: Triage(triage),
                          tickets=tickets, hours_12345="08:00-20:00",
                          now=lambda: datetime(2026, 11, 23, hour, 0))
    handlers = OverflowHandlers(screening, CallEvents(Pub()), tmp_path, max_record_s=30, silence_s=2,
                                run_blocking=lambda f, *a: defer.maybeDeferred(f, *a))
    reg = HandlerRegistry()
    handlers.register(reg)
    factory = FastAGIFactory(reg, clock=task.Clock())
    proto = factory.buildProtocol(None)
    tr = StringTransport()
    proto.makeConnection(tr)
    proto.dataReceived(env)
    default = ["200 result=0", "200 result=0 endpos=9000", "200 result=0 (timeout) endpos=24000"]
    for line in replies or default:
        proto.dataReceived(line.encode() + b"\n")
    sent = tr.value().decode().splitlines()
    for _ in range(8):  # answer every SET VARIABLE
        if tr.disconnecting:
            break
        proto.dataReceived(b"200 result=1\n")
        sent = tr.value().decode().splitlines()
    return sent, tickets, published, tr


def test_emergency_transcript_goes_back_to_110_top_priority(tmp_path):
    sent, tickets, published, tr = run_handler(
        "我家楼下有人打架 有人受伤了", {"route": "police", "danger": True, "agency": None}, tmp_path=tmp_path)
    assert sent[0] == "ANSWER" and sent[1].startswith("STREAM FILE linkage/overflow-describe")
    assert sent[2].startswith(f"RECORD FILE {tmp_path}/overflow-1795439672.9 wav")
    assert sent[2].endswith("30000 BEEP s=2")
    assert 'SET VARIABLE LINKAGE_PRIORITY "10"' in sent
    assert 'SET VARIABLE LINKAGE_TRANSCRIPT "我家楼下有人打架 有人受伤了"' in sent
    assert sent[-1] == 'SET VARIABLE LINKAGE_NEXT "110"'
    assert tickets.drafts == [] and tr.disconnecting
    assert published[0]["data"]["danger"] is True and published[0]["type"] == "overflowed"


def test_non_emergency_in_hours_ticket_and_12345(tmp_path):
    sent, tickets, _published, _tr = run_handler(
        "小区停水三天了", {"route": "hotline", "agency": "water", "danger": False}, tmp_path=tmp_path)
    assert sent[-1] == 'SET VARIABLE LINKAGE_NEXT "12345"'
    assert 'SET VARIABLE LINKAGE_AGENCY "water"' in sent
    d = tickets.drafts[0]
    assert d["source"] == "overflow_ivr" and d["agency"] == "water" and d["triage"]["route"] == "hotline"
    assert d["recordings"][0].endswith("overflow-1795439672.9.wav")


def test_non_emergency_out_of_hours_ticket_only(tmp_path):
    sent, tickets, *_ = run_handler("路灯坏了", {"route": "hotline", "agency": "municipal"}, hour=23,
                                    tmp_path=tmp_path)
    assert sent[-1] == 'SET VARIABLE LINKAGE_NEXT "ticket"' and tickets.drafts[0]["kind"] == "callback"


def test_not_accepted_and_ticket_failure(tmp_path):
    sent, *_ = run_handler("我要打官司", {"route": "not_accepted"}, tmp_path=tmp_path)
    assert sent[-1] == 'SET VARIABLE LINKAGE_NEXT "not_accepted"'
    sent, *_ = run_handler("停水", {"route": "hotline", "agency": "water"}, tickets=Tickets(fail=True),
                           tmp_path=tmp_path)
    assert sent[-1] == 'SET VARIABLE LINKAGE_NEXT "110"'


def test_caller_hangs_up_while_recording(tmp_path):
    sent, tickets, published, _tr = run_handler(
        "停水", {"route": "hotline", "agency": "water"}, tmp_path=tmp_path,
        replies=["200 result=0", "200 result=0 endpos=9000", "HANGUP", "200 result=-1 (hangup) endpos=8000"])
    assert tickets.drafts and published[0]["data"]["caller_hung_up"] is True
    assert not any(s.startswith("SET VARIABLE") for s in sent)


HANGUP_REPLIES = ["200 result=0", "200 result=0 endpos=9000", "HANGUP", "200 result=-1 (hangup) endpos=8000"]


@pytest.mark.parametrize(("transcript", "triage", "route", "urgency"), [
    ("楼下有人拿刀砍人", {"route": "police", "danger": True}, "police", "emergency"),
    ("厨房冒烟了", {"route": "fire", "danger": True}, "fire", "emergency"),
    ("好像有点危险", {"route": "review", "danger": True}, "police", "emergency"),
    ("", {}, "police", "emergency"),  # nothing understood: 110 calls an abandoned call back
    ("我想问一下那个事情", {"route": "review", "danger": False}, "review", "urgent"),
])
def test_caller_who_hangs_up_on_the_way_back_to_110_gets_a_call_back(tmp_path, transcript, triage,
                                                                      route, urgency):
    env = ENV.replace(b"agi_callerid: unknown", b"agi_callerid: 13800138000")
    sent, tickets, published, tr = run_handler(transcript, triage, tmp_path=tmp_path,
                                               replies=HANGUP_REPLIES, env=env)
    assert len(tickets.drafts) == 1
    d = tickets.drafts[0]
    assert (d["route"], d["urgency"], d["kind"], d["agency"]) == (route, urgency, "callback", None)
    assert d["caller"] == "13800138000" and d["recordings"][0].endswith(".wav") and "回拨" in d["summary"]
    assert transcript[:4] in d["summary"]
    assert published[0]["data"]["callback_ticket"] == "T1" and published[0]["data"]["caller_hung_up"]
    assert not any(s.startswith("SET VARIABLE") for s in sent) and tr.disconnecting


def test_hotline_caller_who_hangs_up_has_one_ticket_not_two(tmp_path):
    _sent, tickets, published, _tr = run_handler("小区停水三天了", {"route": "hotline", "agency": "water"},
                                                tmp_path=tmp_path, replies=HANGUP_REPLIES)
    assert [d["kind"] for d in tickets.drafts] == ["work_order"]
    assert published[0]["data"]["callback_ticket"] is None


def test_call_back_that_cannot_be_queued_is_logged_critical(tmp_path, caplog):
    _sent, _tickets, published, tr = run_handler(
        "有人晕倒了", {"route": "medical", "danger": True}, tickets=Tickets(fail=True), tmp_path=tmp_path,
        replies=HANGUP_REPLIES)
    assert tr.disconnecting and published[0]["data"]["callback_ticket"] is None
    assert any(r.levelname == "CRITICAL" and "call-back" in r.getMessage() for r in caplog.records)


def _tone_then_silence(seconds_tone=0.5, seconds_silence=3.0):
    tone = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                    for i in range(int(8000 * seconds_tone)))
    return tone + b"\x00\x00" * int(8000 * seconds_silence)


def test_eagi_script_records_fd3_with_pyst2(tmp_path):
    """Run the real script as Asterisk would: AGI on stdin/stdout, caller audio on fd 3."""
    audio_r, audio_w = os.pipe()
    env = capture("agi-eagi-local.env.txt")
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "agi_scripts", "screening_eagi.py"),
                             str(tmp_path), "10", "1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            pass_fds=(audio_r, 3), env={**os.environ, "PYTHONPATH": ROOT},
                            preexec_fn=lambda: os.dup2(audio_r, 3))
    os.close(audio_r)
    proc.stdin.write(env)
    proc.stdin.flush()
    commands = []

    def expect(reply: bytes):
        commands.append(proc.stdout.readline().decode().strip())
        proc.stdin.write(reply)
        proc.stdin.flush()

    expect(b"200 result=0\n")                       # ANSWER
    os.write(audio_w, b"\x11\x00" * 4000)           # audio during the prompt: drained
    expect(b"200 result=0 endpos=8000\n")           # STREAM FILE prompt
    expect(b"200 result=0 endpos=1000\n")           # STREAM FILE beep
    os.write(audio_w, _tone_then_silence())
    expect(b"200 result=1\n")                       # SET VARIABLE
    expect(b"200 result=1\n")                       # VERBOSE
    os.close(audio_w)
    assert proc.wait(timeout=10) == 0
    assert commands[0] == "ANSWER" and commands[1].startswith("STREAM FILE linkage/overflow-describe")
    path = tmp_path / "overflow-1795439679.15.wav"
    assert commands[3] == f'SET VARIABLE "LINKAGE_SCREEN_FILE" "{path}"'
    with wave.open(str(path)) as w:
        assert w.getframerate() == 8000 and w.getnchannels() == 1
        seconds = w.getnframes() / 8000
    assert 1.4 <= seconds <= 1.6  # the tone plus one second of silence, not the whole buffer
