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
    assert "Set(LINKAGE_REC=${LINKAGE_REC_DIR}/${LINKEDID}/${UNIQUEID})" in TEXT
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
