"""FastAGI protocol against the real Asterisk 22 bytes, driven by StringTransport and Clock."""

from __future__ import annotations

import pytest
from telephony_wire import capture
from twisted.internet import defer, task
from twisted.internet.testing import StringTransport

from gateway.telephony.agi import (
    AgiDeadChannel,
    AgiHangup,
    AgiInvalidCommand,
    AgiProtocolError,
    AgiTimeout,
    AgiUsageError,
    FastAGIFactory,
    HandlerRegistry,
)
from gateway.telephony.agi.reply import ReplyParser, parse_result_line

ENV1 = capture("agi-session-1-some_script.env.txt")
ENV2 = capture("agi-session-2-hangup_midway.env.txt")


def connect(registry, env=ENV1, timeout=30.0, max_connections=10):
    clock = task.Clock()
    factory = FastAGIFactory(registry, max_connections=max_connections, command_timeout_s=timeout,
                             clock=clock)
    proto = factory.buildProtocol(("127.0.0.1", 1))
    tr = StringTransport()
    proto.makeConnection(tr)
    if env:
        proto.dataReceived(env)
    return factory, proto, tr, clock


def sent_lines(tr):
    return tr.value().decode().splitlines()


def test_session_one_replay_every_reply_parsed():
    """The some_script session: env parsed, five commands, each real reply parsed."""
    results = {}
    reg = HandlerRegistry()

    @reg.register("some_script")
    async def handler(s):
        results["env"] = dict(s.env)
        results["args"] = s.args
        results["answer"] = await s.answer()
        results["channel"] = await s.get_variable("CHANNEL")
        results["set"] = await s.set_variable("HARNESS_FROM_AGI", "hello from fastagi")
        results["stream"] = await s.stream_file("harness/agent")
        results["unset"] = await s.get_variable("HARNESS_NOT_SET")

    factory, proto, tr, _clock = connect(reg)
    replies = capture("agi-session-1-some_script.from-asterisk.txt")[len(ENV1):]
    for line in replies.splitlines(keepends=True):
        proto.dataReceived(line)
    assert sent_lines(tr) == [
        "ANSWER", "GET VARIABLE CHANNEL", 'SET VARIABLE HARNESS_FROM_AGI "hello from fastagi"',
        'STREAM FILE harness/agent ""', "GET VARIABLE HARNESS_NOT_SET",
    ]
    assert results["env"]["agi_accountcode"] == ""
    assert results["env"]["agi_uniqueid"] == "1795439672.9"
    assert results["args"] == ["first-arg", "second arg"]
    assert results["answer"].value == 0
    assert results["channel"] == "Local/agi-some_script@harness-agi-00000004;2"
    assert results["stream"].endpos == 28247 and results["stream"].value == 0
    assert results["unset"] is None
    assert tr.disconnecting
    assert factory.state()["agi_sessions_total"] == 1


def test_session_two_hangup_midway_all_error_forms():
    """The hangup_midway session: endpos with -1, inline HANGUP, 511, 510, multi-line 520."""
    seen = []
    hangups = []
    reg = HandlerRegistry()

    @reg.register("hangup_midway")
    async def handler(s):
        s.on_hangup(lambda: hangups.append(True))
        await s.answer()
        seen.append(await s.stream_file("harness/long"))
        seen.append(await s.get_variable("CHANNEL"))
        for cmd in ('STREAM FILE harness/agent ""', "ANSWER"):
            with pytest.raises(AgiDeadChannel):
                await s.command(cmd)
        seen.append(await s.exec_app("Playback", "harness/agent"))
        with pytest.raises(AgiInvalidCommand):
            await s.command("NOSUCH COMMAND")
        try:
            await s.command("SET VARIABLE")
        except AgiUsageError as exc:
            seen.append(exc.usage)
        seen.append(await s.verbose("harness: still talking to a dead channel"))
        with pytest.raises(AgiDeadChannel):
            await s.hangup()
        seen.append(s.hungup)

    _factory, proto, tr, _clock = connect(reg, ENV2)
    # Everything Asterisk sent after the env, in one chunk per byte-run: replies arrive as they
    # were captured; HANGUP right after the STREAM FILE result.
    body = capture("agi-session-2-hangup_midway.from-asterisk.txt")[len(ENV2):]
    for line in body.splitlines(keepends=True):
        proto.dataReceived(line)
    stream, channel, exec_reply, usage, verbose, hungup = seen
    assert stream.value == -1 and stream.endpos == 12000
    assert channel == "Local/agi-hangup_midway@harness-agi-00000005;2"
    assert exec_reply.value == 0
    assert usage == "Sets a variable to the current channel."
    assert verbose.value == 1
    assert hungup is True and hangups == [True]
    assert tr.disconnecting


def test_bytes_split_anywhere_give_same_result():
    """Replay session 1 one byte at a time: framing must not depend on chunking."""
    got = []
    reg = HandlerRegistry()

    @reg.register("some_script")
    async def handler(s):
        for _ in range(5):
            got.append(await s.command("NOOP"))

    _factory, proto, _tr, _clock = connect(reg, env=None)
    data = capture("agi-session-1-some_script.from-asterisk.txt")
    for i in range(len(data)):
        proto.dataReceived(data[i:i + 1])
    assert [r.result for r in got] == ["0", "1", "1", "0", "0"]
    assert got[1].data.endswith(";2")


def test_crlf_lines_accepted():
    got = []
    reg = HandlerRegistry()
    reg.register("some_script", lambda s: s.answer().addCallback(got.append))
    _factory, proto, _tr, _clock = connect(reg, env=ENV1.replace(b"\n", b"\r\n"))
    proto.dataReceived(b"200 result=0\r\n")
    assert got[0].value == 0


@pytest.mark.parametrize("line, result, data, endpos, extra", [
    ("200 result=0", "0", None, None, {}),
    ("200 result=-1 endpos=12000", "-1", None, 12000, {}),
    ("200 result=1 (Local/a;2)", "1", "Local/a;2", None, {}),
    ("200 result=1 (value (with) parens) endpos=5", "1", "value (with) parens", 5, {}),
    ("200 result=0 (timeout) endpos=8000", "0", "timeout", 8000, {}),
    ("200 result=123 (timeout)", "123", "timeout", None, {}),
    ("200 result=", "", None, None, {}),
    ("200 result=1 (a) foo=bar", "1", "a", None, {"foo": "bar"}),
])
def test_result_line_forms(line, result, data, endpos, extra):
    r = parse_result_line(line)
    assert (r.result, r.data, r.endpos, r.extra or {}) == (result, data, endpos, extra)


def test_100_trying_is_interim():
    p = ReplyParser()
    assert p.feed("100 result=0 Trying...") is None
    assert p.feed("200 result=0").value == 0


def test_single_line_520():
    with pytest.raises(AgiUsageError):
        ReplyParser().feed("520 Invalid command syntax.  Proper usage not available.")


@pytest.mark.parametrize("bad", ["200 result", "300 whatever", "garbage", "200 result=1 (unclosed",
                                 "200 result=0 endpos=abc", "5100 x"])
def test_malformed_reply_closes_cleanly(bad):
    failures = []
    reg = HandlerRegistry()

    @reg.register("some_script")
    def handler(s):
        return s.answer().addErrback(lambda f: failures.append(f.value))

    factory, proto, tr, _clock = connect(reg)
    proto.dataReceived(bad.encode() + b"\n200 result=0\n")
    assert isinstance(failures[0], AgiProtocolError)
    assert "malformed" in str(failures[0]) or "unexpected" in str(failures[0])
    assert tr.disconnecting
    proto.connectionLost(None)
    assert factory.state()["agi_sessions"] == 0


def test_truncated_reply_then_connection_lost_fails_command():
    failures = []
    reg = HandlerRegistry()
    reg.register("some_script", lambda s: s.answer().addErrback(lambda f: failures.append(f.value)))
    factory, proto, _tr, _clock = connect(reg)
    proto.dataReceived(b"200 resu")
    proto.connectionLost(None)
    assert isinstance(failures[0], AgiHangup)
    assert factory.state()["agi_sessions"] == 0


def test_truncated_520_block_then_lost():
    failures = []
    reg = HandlerRegistry()
    reg.register("some_script", lambda s: s.command("SET VARIABLE").addErrback(
        lambda f: failures.append(f.value)))
    _factory, proto, _tr, _clock = connect(reg)
    proto.dataReceived(b"520-Invalid command syntax.  Proper usage follows:\nSets a var")
    assert failures == []
    proto.connectionLost(None)
    assert isinstance(failures[0], AgiHangup)


@pytest.mark.parametrize("env", [b"not an env line\n\n", b"\n", b"agi_x: 1\nbogus\n\n",
                                 b"x" * 20000])
def test_malformed_env_closes_without_running_handler(env):
    ran = []
    reg = HandlerRegistry()
    reg.register("some_script", lambda s: ran.append(s))
    _factory, _proto, tr, _clock = connect(reg, env=env)
    assert ran == [] and tr.disconnecting and tr.value() == b""


def test_unsolicited_line_is_protocol_error():
    reg = HandlerRegistry()
    reg.register("some_script", lambda s: defer.Deferred())  # handler waits forever
    _factory, proto, tr, _clock = connect(reg)
    proto.dataReceived(b"200 result=0\n")
    assert tr.disconnecting


def test_command_timeout_closes_session():
    failures = []
    reg = HandlerRegistry()
    reg.register("some_script", lambda s: s.answer().addErrback(lambda f: failures.append(f.value)))
    _factory, _proto, tr, clock = connect(reg, timeout=5)
    clock.advance(4.9)
    assert failures == []
    clock.advance(0.2)
    assert isinstance(failures[0], AgiTimeout)
    assert tr.disconnecting


def test_env_timeout_closes():
    reg = HandlerRegistry()
    _factory, _proto, tr, clock = connect(reg, env=b"agi_network: yes\n", timeout=3)
    clock.advance(3)
    assert tr.disconnecting


def test_connection_limit():
    reg = HandlerRegistry()
    factory, proto, _tr, _clock = connect(reg, env=None, max_connections=1)
    assert factory.buildProtocol(("127.0.0.1", 2)) is None
    assert factory.state()["agi_rejected_total"] == 1
    proto.connectionLost(None)
    assert factory.buildProtocol(("127.0.0.1", 3)) is not None


def test_unknown_script_sets_variable_and_closes():
    _factory, proto, tr, _clock = connect(HandlerRegistry())
    assert tr.value() == b'SET VARIABLE LINKAGE_AGI_ERROR "no handler for some_script"\n'
    proto.dataReceived(b"200 result=1\n")
    assert tr.disconnecting


def test_handler_exception_closes_and_counts():
    reg = HandlerRegistry()

    @reg.register("some_script")
    def handler(s):
        raise RuntimeError("boom")

    factory, _proto, tr, _clock = connect(reg)
    assert tr.disconnecting and factory.state()["agi_failed_total"] == 1


def test_commands_are_serialised_and_quoted():
    reg = HandlerRegistry()
    got = []

    @reg.register("some_script")
    def handler(s):
        d1 = s.set_variable("X", 'a "quoted" \\ value')
        d2 = s.verbose("hi there", 2)
        return defer.gatherResults([d1, d2]).addCallback(got.extend)

    _factory, proto, tr, _clock = connect(reg)
    assert sent_lines(tr) == ['SET VARIABLE X "a \\"quoted\\" \\\\ value"']
    proto.dataReceived(b"200 result=1\n")
    assert sent_lines(tr)[-1] == 'VERBOSE "hi there" 2'
    proto.dataReceived(b"200 result=1\n")
    assert len(got) == 2


def test_newline_injection_refused():
    reg = HandlerRegistry()
    errors = []
    reg.register("some_script", lambda s: s.command("VERBOSE x\nHANGUP").addErrback(
        lambda f: errors.append(f.value)))
    _factory, _proto, tr, _clock = connect(reg)
    assert isinstance(errors[0], ValueError) and tr.value() == b""


def test_hangup_notice_without_pending_command():
    reg = HandlerRegistry()
    flags = []
    waiter = defer.Deferred()

    @reg.register("some_script")
    def handler(s):
        s.on_hangup(lambda: flags.append("hup"))
        return waiter

    _factory, proto, tr, _clock = connect(reg)
    proto.dataReceived(b"HANGUP\n")
    assert flags == ["hup"] and not tr.disconnecting
