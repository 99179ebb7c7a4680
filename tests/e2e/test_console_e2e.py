"""The console in a real headless chromium (playwright-core): log in, search, play, seek, audit, refusals.

Audio is made at test time with espeak-ng (Mandarin) and sox (8 kHz mono); the transcript words are
spread over each clip's real duration. Screenshots land in tests/artifacts/.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "console"))

from console_seed import Archive, Clock, start_reactor  # noqa: E402

PASSWORD = "e2e-password-123"
CALLER_WORDS = ["我家", "自来水", "管道", "爆了", "水", "一直", "在", "流", "请", "派人", "来", "修"]
AGENT_WORDS = ["您好", "这里", "是", "一二三四五", "热线", "我们", "马上", "派人"]

pytestmark = pytest.mark.skipif(
    not (
        shutil.which("espeak-ng")
        and shutil.which("sox")
        and Path("/usr/bin/chromium").exists()
        and (HERE / "node_modules" / "playwright-core").exists()
    ),
    reason="needs espeak-ng, sox, /usr/bin/chromium and `npm install` in tests/e2e",
)


def speak(words: list[str], out: Path) -> float:
    out.parent.mkdir(parents=True, exist_ok=True)
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "cmn", "-s", "130", "-w", str(raw), " ".join(words)], check=True)
    subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out)], check=True)
    raw.unlink()
    return float(subprocess.run(["soxi", "-D", str(out)], check=True, capture_output=True, text=True).stdout)


def spread(words: list[str], duration: float, speaker: str) -> list[tuple[str, float, float, str]]:
    step = duration / len(words)
    return [(w, round(i * step, 3), round((i + 1) * step, 3), speaker) for i, w in enumerate(words)]


def seed(archive: Archive, recordings: Path) -> None:
    now = time.time()
    t0 = now - 3 * 3600
    triage = {
        "route": "hotline",
        "agency": "water",
        "confidence": 0.86,
        "matched_terms": ["自来水", "管道", "爆了"],
    }
    archive.call(
        "c-110", "inc-e2e", leg="110", agent="taker1", started_at=t0, outcome="transferred", triage=triage
    )
    archive.call("c-12345", "inc-e2e", leg="12345", agent="agent7", started_at=t0 + 90, outcome="answered")
    d1 = speak(CALLER_WORDS, recordings / "2026/11/inc-e2e-110.wav")
    d2 = speak(AGENT_WORDS, recordings / "2026/11/inc-e2e-12345.wav")
    archive.recording(
        "rec-110",
        "inc-e2e",
        "2026/11/inc-e2e-110.wav",
        call_id="c-110",
        leg="110",
        duration_s=d1,
        created_at=t0,
    )
    archive.recording(
        "rec-12345",
        "inc-e2e",
        "2026/11/inc-e2e-12345.wav",
        call_id="c-12345",
        leg="12345",
        duration_s=d2,
        created_at=t0 + 90,
    )
    archive.transcript("tr-110", "inc-e2e", "rec-110", spread(CALLER_WORDS, d1, "caller"))
    archive.transcript("tr-12345", "inc-e2e", "rec-12345", spread(AGENT_WORDS, d2, "agent"))
    archive.ticket(
        "T-E2E-1",
        "inc-e2e",
        agency="water",
        status="handled",
        created_at=t0 + 120,
        arrival_due_at=t0 + 120 + 1800,
        due_at=now + 2 * 86400,
        summary="自来水管道爆裂，水一直在流",
    )
    for i, (kind, dt) in enumerate(
        [("created", 120), ("delivered", 150), ("accepted", 400), ("arrived", 2400), ("handled", 5000)]
    ):
        archive.event("T-E2E-1", kind, t0 + dt + i * 0.001)
    # Some other tickets so the dashboard has rates to draw.
    for n, (agency, status, sat) in enumerate(
        [
            ("water", "closed", "satisfied"),
            ("power", "accepted", None),
            ("power", "closed", "dissatisfied"),
            ("urban_mgmt", "closed", "basically_satisfied"),
            ("market", "delivered", None),
        ]
    ):
        inc = f"inc-d{n}"
        archive.call(
            f"c-d{n}",
            inc,
            leg="110",
            agent="taker2",
            started_at=now - 600 - n,
            outcome="overflowed" if n == 1 else "transferred",
        )
        archive.ticket(
            f"T-D{n}",
            inc,
            agency=agency,
            status=status,
            satisfaction=sat,
            created_at=now - 500 - n,
            overdue=(n == 4),
        )
        archive.event(f"T-D{n}", "created", now - 500 - n)
        if status in ("accepted", "closed"):
            archive.event(f"T-D{n}", "accepted", now - 400 - n)
        if status == "closed":
            archive.event(f"T-D{n}", "handled", now - 300 - n)


def test_console_in_chromium(config, tmp_path):
    from twisted.internet import reactor
    from twisted.internet.threads import blockingCallFromThread
    from twisted.web.server import Site

    from gateway.console import build_console
    from gateway.console.media import Signer

    start_reactor()
    secret = b"e2e-secret"
    root = build_console(config, clock=Clock(), secret=secret)
    console = root.console
    boss = console.users.add("boss", PASSWORD, "supervisor")
    console.users.add("water1", PASSWORD, "agency", agency="water")
    console.users.add("taker1", PASSWORD, "call_taker")
    archive = Archive(config)
    seed(archive, console.recordings_dir)
    port = blockingCallFromThread(reactor, reactor.listenTCP, 0, Site(root), interface="127.0.0.1")
    try:
        base = f"http://127.0.0.1:{port.getHost().port}"
        past = Signer(secret, console.signer.ttl_s, clock=lambda: time.time() - 3600)
        cfg = {
            "supervisor": "boss",
            "agency": "water1",
            "password": PASSWORD,
            "word": "自来水",
            "incident": "inc-e2e",
            "expired_url": past.url("rec-110", boss.user_id),
            "artifacts": str(ROOT / "tests" / "artifacts"),
        }
        proc = subprocess.run(
            ["node", str(HERE / "console.e2e.mjs"), base, json.dumps(cfg)],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=150,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        assert lines, proc.stdout + proc.stderr
        result = json.loads(lines[-1])
        failed = {k: result["notes"].get(k) for k, ok in result["checks"].items() if not ok}
        assert proc.returncode == 0 and result["ok"], failed or proc.stderr
        # The server side agrees: the playback is in the audit log, the agency never got audio.
        rows = archive.conn.execute(
            "SELECT user_name, action, target FROM audit_log WHERE action IN ('playback', 'denied')"
        ).fetchall()
        assert ("boss", "playback", "rec-110") in [tuple(r) for r in rows]
        assert not any(r["user_name"] == "water1" and r["action"] == "playback" for r in rows)
        for shot in ("search.png", "call.png", "dashboard.png"):
            assert (ROOT / "tests" / "artifacts" / shot).stat().st_size > 10_000
    finally:
        blockingCallFromThread(reactor, port.stopListening)
        archive.conn.close()
