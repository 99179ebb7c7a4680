"""The shipped dialplan passes asterisklint and agrees with what the gateway sends."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from gateway.config.models import HandoverConfig
from gateway.telephony.handover import HandoverSettings

DIALPLANS = Path(__file__).resolve().parents[2] / "dialplans"
TEXT = (DIALPLANS / "extensions_linkage.conf").read_text()


def test_asterisklint_passes():
    exe = shutil.which("asterisklint") or str(Path(sys.executable).parent / "asterisklint")
    proc = subprocess.run([exe, "dialplan-check", "extensions.conf"], cwd=DIALPLANS,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_recordings_never_named_from_caller_id():
    for line in TEXT.splitlines():
        if "MixMonitor(" in line or "LINKAGE_REC=" in line or "EAGI(" in line:
            assert "CALLERID" not in line.upper()
    assert "Set(LINKAGE_REC=${LINKAGE_REC_DIR}/${CHANNEL(linkedid)}/${UNIQUEID})" in TEXT
    assert re.search(r"MixMonitor\(\$\{LINKAGE_REC\}-mix\.wav,r\(.*-caller\.wav\)t\(.*-taker\.wav\)\)", TEXT)


def test_contexts_the_gateway_uses_exist():
    cfg = HandoverConfig()
    settings = HandoverSettings(context=cfg.context, agent_channel=cfg.agent_channel,
                                return_context=cfg.return_context)
    for ctx in (settings.context, settings.return_context, "linkage-110-in", "linkage-12345-in",
                "linkage-overflow", "linkage-feature", "linkage-12345-dial"):
        assert f"[{ctx}]" in TEXT
    dial_ctx = settings.agent_channel.split("@", 1)[1].split("/", 1)[0]
    assert f"[{dial_ctx}]" in TEXT
    for prefix in ("c", "t", "a"):
        assert f"exten => _{prefix}.,1," in TEXT
    for status in ("TIMEOUT", "FULL", "JOINEMPTY", "LEAVEEMPTY"):
        assert f'"${{QUEUESTATUS}}" = "{status}"' in TEXT
    assert "AGI(${LINKAGE_FASTAGI}/overflow_screening" in TEXT
    features = (DIALPLANS / "features.conf").read_text()
    assert "linkage_handover => *5,self,Gosub(linkage-feature,handover,1)" in features


def test_config_checker(config):
    from gateway.telephony.checks import check

    assert check(config) == []
    bad_handover = config.gateway.handover.model_copy(update={"agent_channel": "PJSIP/x", "context": "a b"})
    bad = config.model_copy(update={"gateway": config.gateway.model_copy(update={"handover": bad_handover})})
    errors = check(bad)
    assert any("handover.agent_channel" in e for e in errors) and any("handover.context" in e for e in errors)


# Variables Asterisk 22 itself answers for ${NAME} (main/pbx_variables.c: CALL* … ENTITYID), the
# ones applications leave behind, and the ones our own pieces set outside this file.
ASTERISK_BUILTINS = {"EXTEN", "CONTEXT", "PRIORITY", "CHANNEL", "UNIQUEID", "HANGUPCAUSE", "EPOCH",
                     "SYSTEMNAME", "ENTITYID", "HINT", "HINTNAME"}
SET_BY_APPLICATIONS = {"QUEUESTATUS", "MEMBERINTERFACE", "AGISTATUS", "ARG1", "ARG2", "ARG3"}
SET_BY_GATEWAY = {"LINKAGE_NEXT", "LINKAGE_ROUTE", "LINKAGE_PRIORITY", "LINKAGE_TRANSCRIPT",
                  "LINKAGE_AGENCY", "LINKAGE_SCREEN_FILE", "LINKAGE_INCIDENT", "LINKAGE_CALL_ID"}


def _variables_read(text: str) -> set[str]:
    code = "\n".join(line.split(";", 1)[0] for line in text.splitlines())
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}", code))


def _variables_set(text: str) -> set[str]:
    return {m.lstrip("_") for m in re.findall(r"Set\((_{0,2}[A-Za-z][A-Za-z0-9_]*)=", text)} | set(
        re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.M))


def test_every_variable_read_is_defined():
    """Real Asterisk 22 run: ``${LINKEDID}`` is no variable (it is ``${CHANNEL(linkedid)}``), so the
    incident was empty and recordings landed in ``<dir>//<uniqueid>-mix.wav``. Every ``${NAME}`` the
    dialplan reads must be built in, left by an application, set by the dialplan, a global, or set
    by the gateway."""
    globals_text = (DIALPLANS / "extensions.conf").read_text()
    known = (ASTERISK_BUILTINS | SET_BY_APPLICATIONS | SET_BY_GATEWAY | _variables_set(TEXT)
             | _variables_set(globals_text))
    unknown = {v for v in _variables_read(TEXT) if v not in known and not v.startswith("CALL")}
    assert unknown == set()


def test_undefined_variable_is_caught():
    assert "LINKEDID" in _variables_read("same => n,Set(X=${LINKEDID}/${UNIQUEID}) ; ${IN_COMMENT}")
    assert "IN_COMMENT" not in _variables_read("same => n,NoOp() ; ${IN_COMMENT}")
    assert "LINKEDID" not in _variables_set("same => n,Set(__INCIDENT=${LINKEDID})")


def test_real_intake_event_before_the_fix_had_no_incident():
    """The bytes Asterisk 22.10.1 sent with ``${LINKEDID}`` in the dialplan, and what the tracker
    makes of them: the empty ``Incident:`` falls back to the channel's Linkedid."""
    from telephony_wire import CAPTURES_LOCAL

    from gateway.telephony.ami.message import parse_message
    from gateway.telephony.calls import CallTracker
    from gateway.telephony.events import CallEvents

    blocks = (CAPTURES_LOCAL / "ami-intake-before-linkedid-fix.txt").read_bytes().split(b"\r\n\r\n")
    events = [parse_message(b.decode()) for b in blocks if b.startswith(b"Event: UserEvent")]
    recording = next(e for e in events if e.get("Stage") == "recording")
    assert recording["Incident"] == "" and "//" in recording["Mixed"]  # what the bug looked like

    class Sink:
        def publish(self, event):
            pass

    tracker = CallTracker(CallEvents(Sink()))
    for e in events:
        tracker.handle(e)
    call = tracker.calls[recording["Uniqueid"]]
    assert call.incident_id == recording["Linkedid"]


def test_room_ends_with_the_caller():
    """Real Asterisk 22 run: after the caller hung up, the 12345 agent (and a call-taker still in
    the room) stayed in ``incident-<id>`` alone, the agent's queue member "in call" until they
    noticed. The caller is the room's marked user; the others leave with it."""
    import configparser

    conf = configparser.ConfigParser(inline_comment_prefixes=(";",), strict=False)
    conf.read_string((DIALPLANS / "confbridge.conf").read_text())
    assert conf["linkage_caller"]["marked"] == "yes"
    for profile in ("linkage_taker", "linkage_12345"):
        assert conf[profile]["end_marked"] == "yes"
        assert conf[profile].get("marked", "no") == "no"
