"""End to end over real loopback sockets: the gateway's telephony stage (build_telephony) against a
scripted AMI server and a scripted FastAGI client replaying Asterisk 22 message sequences."""

from __future__ import annotations

import json
import os

import pytest
from telephony_peers import FastAgiClientProtocol, ScriptedAmiServer
from telephony_wire import (
    CALLER_UID,
    INCIDENT,
    TAKER_UID,
    capture,
    event_named,
    flow_blocks,
    linkage_call_event,
)
from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.trial import unittest
from twisted.web.client import Agent, readBody
from twisted.web.server import Site

from gateway.config import load_config
from gateway.telephony.service import build_telephony
from gateway.triage import Classifier
from tests.conftest import free_port

AGENT_UID = f"{CALLER_UID}-12345"
SECRET = "integration-secret-1"


class Sink:
    def __init__(self):
        self.events, self.tickets = [], []

    def publish(self, event):
        self.events.append(event)

    def create(self, draft):
        self.tickets.append(draft)
        return defer.succeed({"ticket_id": f"T{len(self.tickets)}"})

    def types(self, type_=None):
        return [(e["type"], e["data"].get("party") or e["data"].get("stage")) for e in self.events
                if type_ is None or e["type"] == type_]


async def until(predicate, timeout=5.0, step=0.01):
    waited = 0.0
    while not predicate():
        if waited > timeout:
            raise AssertionError("condition not reached in time")
        await task.deferLater(reactor, step, lambda: None)
        waited += step


class TelephonyOverSockets(unittest.TestCase):
    timeout = 30

    @pytest.fixture(autouse=True)
    def _dirs(self, config_dir):
        self.config_dir = config_dir

    def setUp(self):
        os.environ["LINKAGE_AMI_SECRET"] = SECRET
        self.ami_server = ScriptedAmiServer()
        self.ami_port = reactor.listenTCP(0, self.ami_server, interface="127.0.0.1")
        self.agi_port_no = free_port()
        gw = self.config_dir / "gateway.yaml"
        text = gw.read_text()
        text = text.replace("port: 5038", f"port: {self.ami_port.getHost().port}")
        text = text.replace("listen: 127.0.0.1:4573", f"listen: 127.0.0.1:{self.agi_port_no}")
        text = text.replace("reconnect_initial_s: 1", "reconnect_initial_s: 0.05")
        text = text.replace("answer_timeout_s: 30", "answer_timeout_s: 0.5")
        text = text.replace('hours_12345: "08:00-20:00"', 'hours_12345: "00:00-23:59"')
        gw.write_text(text)
        self.config = load_config(gw)
        self.sink = Sink()
        self.transcripts = {}
        classifier = Classifier.from_config(self.config)  # the real triage stage, in-process
        self.tel = build_telephony(self.config, classify=lambda t: classifier.classify(t).to_dict(),
                                   tickets=self.sink,
                                   events=self.sink, transcribe=self._transcribe)
        for svc in self.tel.services:
            svc.startService()
        self.site = reactor.listenTCP(0, Site(self.tel.http_resource()), interface="127.0.0.1")

    def _transcribe(self, path):
        return task.deferLater(reactor, 0.01, lambda: self.transcripts.get("text", ""))

    async def _teardown(self):
        for svc in self.tel.services:
            await defer.maybeDeferred(svc.stopService)
        await self.site.stopListening()
        await self.ami_port.stopListening()
        self.ami_server.drop()
        await task.deferLater(reactor, 0.05, lambda: None)

    def tearDown(self):
        os.environ.pop("LINKAGE_AMI_SECRET", None)
        return defer.ensureDeferred(self._teardown())

    # -- helpers --------------------------------------------------------------------------------
    async def connected_call(self):
        await until(lambda: self.tel.ami.connected)
        login = self.ami_server.named("Login")[0]
        assert login["Secret"] == SECRET and login["Username"] == "linkage"
        assert login["Events"] == "system,call,agent,user"
        flow = flow_blocks(AGENT_UID)
        self.ami_server.push(linkage_call_event(), *event_named(flow, "QueueCallerJoin"),
                             *event_named(flow, "AgentConnect"))
        await until(lambda: (c := self.tel.tracker.get(CALLER_UID)) is not None and c.taker_channel)
        return flow

    async def post_transfer(self):
        port = self.site.getHost().port
        resp = await Agent(reactor).request(
            b"POST", f"http://127.0.0.1:{port}/{CALLER_UID}/transfer-to-12345".encode())
        return resp.code, json.loads(await readBody(resp))

    # -- scenarios ------------------------------------------------------------------------------
    @defer.inlineCallbacks
    def test_full_handover(self):
        flow = yield defer.ensureDeferred(self.connected_call())
        code, body = yield defer.ensureDeferred(self.post_transfer())
        assert code == 202 and body["conference"] == f"incident-{INCIDENT}"
        redirect = self.ami_server.named("Redirect")[0]
        assert redirect["ExtraChannel"] == "Local/agent@harness-agent-phone-00000001;1"
        originate = self.ami_server.named("Originate")[0]
        assert originate["ChannelId"] == AGENT_UID and originate["Async"] == "true"
        self.ami_server.push(*event_named(flow, "ConfbridgeJoin"))
        yield defer.ensureDeferred(until(lambda: self.tel.handover.get(INCIDENT).state == "joined"))
        self.ami_server.push(*event_named(flow, "ConfbridgeLeave", Uniqueid=TAKER_UID),
                             *event_named(flow, "Hangup", Uniqueid=TAKER_UID))
        yield task.deferLater(reactor, 0.7, lambda: None)  # past the answer timeout: nothing fires
        assert self.sink.tickets == [] and self.ami_server.named("Hangup") == []
        self.ami_server.push(*event_named(flow, "ConfbridgeLeave", Uniqueid=CALLER_UID),
                             *event_named(flow, "Hangup", Uniqueid=CALLER_UID))
        yield defer.ensureDeferred(until(lambda: ("hungup", None) in self.sink.types()))
        assert self.tel.handover.get(INCIDENT).state == "completed"
        assert self.sink.types() == [
            ("start", None), ("queued", None), ("joined", "taker"), ("transferred", "started"),
            ("joined", "caller"), ("joined", "12345"), ("left", "taker"), ("left", "taker"),
            ("left", "caller"), ("hungup", None)]
        assert self.tel.state()["ami"] == "connected"

    @defer.inlineCallbacks
    def test_12345_not_answering(self):
        flow = yield defer.ensureDeferred(self.connected_call())
        code, _ = yield defer.ensureDeferred(self.post_transfer())
        assert code == 202
        self.ami_server.push(*event_named(flow, "ConfbridgeJoin", Uniqueid=CALLER_UID),
                             *event_named(flow, "ConfbridgeJoin", Uniqueid=TAKER_UID))
        hangup = yield self.ami_server.wait_for("Hangup")
        assert hangup["Channel"] == AGENT_UID
        yield defer.ensureDeferred(until(lambda: self.sink.tickets))
        ticket = self.sink.tickets[0]
        assert ticket["kind"] == "callback" and ticket["incident_id"] == INCIDENT
        assert ticket["caller"] == "13800000000" and ticket["source"] == "110_transfer"
        assert len(self.ami_server.named("Redirect")) == 1  # caller still with the call-taker
        assert ("transferred", "no_answer") in self.sink.types()

    @defer.inlineCallbacks
    def test_caller_hangs_up_mid_transfer(self):
        flow = yield defer.ensureDeferred(self.connected_call())
        yield defer.ensureDeferred(self.post_transfer())
        yield self.ami_server.wait_for("Originate")
        self.ami_server.push(*event_named(flow, "Hangup", Uniqueid=CALLER_UID))
        hangup = yield self.ami_server.wait_for("Hangup")
        assert hangup["Channel"] == AGENT_UID
        assert self.tel.handover.get(INCIDENT).state == "caller_hung_up"
        yield task.deferLater(reactor, 0.7, lambda: None)
        assert self.sink.tickets == []

    @defer.inlineCallbacks
    def test_ami_lost_and_restored_mid_call(self):
        flow = yield defer.ensureDeferred(self.connected_call())
        yield defer.ensureDeferred(self.post_transfer())
        yield self.ami_server.wait_for("Originate")
        agent_join = event_named(flow, "ConfbridgeJoin", Uniqueid=AGENT_UID)[0]
        # while the link is down the 12345 agent joins; after re-login the gateway resyncs
        room = (b"Response: Success\r\nActionID: {aid}\r\nEventList: start\r\n\r\n"
                + agent_join.replace(b"Event: ConfbridgeJoin", b"Event: ConfbridgeList").replace(
                    b"Privilege: call,all\r\n", b"ActionID: {aid}\r\n")
                + b"Event: ConfbridgeListComplete\r\nActionID: {aid}\r\nEventList: Complete\r\n\r\n")
        chans = (b"Response: Success\r\nActionID: {aid}\r\nEventList: start\r\n\r\n"
                 + f"Event: CoreShowChannel\r\nActionID: {{aid}}\r\nUniqueid: {CALLER_UID}\r\n\r\n".encode()
                 + f"Event: CoreShowChannel\r\nActionID: {{aid}}\r\nUniqueid: {TAKER_UID}\r\n\r\n".encode()
                 + b"Event: CoreShowChannelsComplete\r\nActionID: {aid}\r\nEventList: Complete\r\n\r\n")
        self.ami_server.hooks["ConfbridgeList"] = lambda a: room.decode()
        self.ami_server.hooks["CoreShowChannels"] = lambda a: chans.decode()
        self.ami_server.drop()
        yield defer.ensureDeferred(until(lambda: not self.tel.ami.connected))
        assert self.tel.state()["ami"] == "disconnected" and self.tel.state()["ami_last_error"]
        yield defer.ensureDeferred(until(lambda: self.tel.ami.connected))
        yield defer.ensureDeferred(until(lambda: self.tel.handover.get(INCIDENT).state == "joined"))
        assert self.tel.ami.state()["connects_total"] == 2
        assert len(self.ami_server.named("Login")) == 2
        yield task.deferLater(reactor, 0.7, lambda: None)
        assert self.sink.tickets == []  # joined during the outage: no false callback ticket
        assert self.tel.tracker.get(CALLER_UID) is not None

    # -- overflow screening over FastAGI -------------------------------------------------------
    async def _overflow(self, transcript, record_reply=("200 result=0 (timeout) endpos=24000",)):
        self.transcripts["text"] = transcript
        env = capture("agi-session-1-some_script.env.txt").replace(b"some_script", b"overflow_screening")
        env = env.replace(b"agi_arg_1: first-arg", f"agi_arg_1: {INCIDENT}".encode())
        env = env.replace(b"agi_callerid: unknown", b"agi_callerid: 13800000000")
        client = FastAgiClientProtocol(env, [("RECORD FILE", list(record_reply)),
                                              ("STREAM FILE", ["200 result=0 endpos=9000"]),
                                              ("ANSWER", ["200 result=0"])])
        await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", self.agi_port_no), client)
        return await client.done

    @defer.inlineCallbacks
    def test_overflow_emergency_transcript(self):
        commands = yield defer.ensureDeferred(self._overflow("楼下有人打架 有人受伤了"))
        assert commands[:2] == ["ANSWER", 'STREAM FILE linkage/overflow-describe ""']
        assert commands[2].startswith("RECORD FILE ")
        assert "/recordings/overflow/overflow-1795439672.9 wav" in commands[2]
        assert "EXEC StartMusicOnHold" in commands and "EXEC StopMusicOnHold" in commands
        assert 'SET VARIABLE LINKAGE_PRIORITY "10"' in commands
        assert 'SET VARIABLE LINKAGE_TRANSCRIPT "楼下有人打架 有人受伤了"' in commands
        assert commands[-1] == 'SET VARIABLE LINKAGE_NEXT "110"'
        assert self.sink.tickets == []
        assert self.sink.types("overflowed") == [("overflowed", "screened")]
        assert self.tel.state()["agi_sessions"] == 0 and self.tel.state()["agi_sessions_total"] == 1

    @defer.inlineCallbacks
    def test_overflow_non_emergency_transcript(self):
        commands = yield defer.ensureDeferred(self._overflow("我们小区停水三天了"))
        assert commands[-1] == 'SET VARIABLE LINKAGE_NEXT "12345"'
        assert 'SET VARIABLE LINKAGE_AGENCY "water"' in commands
        ticket = self.sink.tickets[0]
        assert ticket["source"] == "overflow_ivr" and ticket["agency"] == "water"
        assert ticket["caller"] == "13800000000" and ticket["incident_id"] == INCIDENT
        assert ticket["transcript_excerpt"] == "我们小区停水三天了"

    @defer.inlineCallbacks
    def test_overflow_emergency_caller_hangs_up_after_speaking(self):
        """Asterisk's inline HANGUP during RECORD FILE: 110 still gets an urgent call-back."""
        commands = yield defer.ensureDeferred(self._overflow(
            "我爸突然倒在地上叫不醒了", record_reply=("HANGUP", "200 result=-1 (hangup) endpos=8000")))
        assert not any(c.startswith("SET VARIABLE") for c in commands)
        [ticket] = self.sink.tickets
        assert ticket["kind"] == "callback" and ticket["route"] == "medical"
        assert ticket["urgency"] == "emergency" and ticket["caller"] == "13800000000"
        assert ticket["incident_id"] == INCIDENT and ticket["recordings"][0].endswith(".wav")
        [event] = [e for e in self.sink.events if e["type"] == "overflowed"]
        assert event["data"]["caller_hung_up"] is True and event["data"]["callback_ticket"] == "T1"

    @defer.inlineCallbacks
    def test_malformed_fastagi_peer_does_not_harm_the_server(self):
        """Garbage, a truncated env and a bad reply each close only their own connection."""
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.agi_port_no)
        for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"agi_network: yes\nagi_netw"):
            client = FastAgiClientProtocol(junk, [])
            yield connectProtocol(endpoint, client)
            if junk.endswith(b"\r\n\r\n"):
                commands = yield client.done
                assert commands == []
            else:
                client.transport.loseConnection()
                yield client.done
        env = capture("agi-session-1-some_script.env.txt").replace(b"some_script", b"overflow_screening")
        bad = FastAgiClientProtocol(env, [("ANSWER", ["200 result=0 (unclosed"])])
        yield connectProtocol(endpoint, bad)
        commands = yield bad.done
        assert commands == ["ANSWER"]
        commands = yield defer.ensureDeferred(self._overflow("我们小区停水三天了"))
        assert commands[-1] == 'SET VARIABLE LINKAGE_NEXT "12345"'
        yield defer.ensureDeferred(until(lambda: self.tel.state()["agi_sessions"] == 0))
        assert self.tel.state()["agi_sessions_total"] == 2
