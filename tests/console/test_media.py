"""Signed, expiring media URLs; path traversal; unauthenticated audio; Range; audit; retention."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from console_seed import write_wav


def seed_recorded(
    srv, incident: str = "inc-1", agency: str = "water", agent: str = "taker1", age_days: float = 0
) -> bytes:
    a = srv.archive
    created = time.time() - age_days * 86400 - 60
    a.call(f"c-{incident}", incident, agent=agent, started_at=created)
    a.ticket(f"t-{incident}", incident, agency=agency, created_at=created)
    path = write_wav(srv.console.recordings_dir / f"2026/11/{incident}.wav", seconds=2.0)
    a.recording(
        f"rec-{incident}", incident, f"2026/11/{incident}.wav", call_id=f"c-{incident}", created_at=created
    )
    a.transcript(
        f"tr-{incident}",
        incident,
        f"rec-{incident}",
        [("我家", 0.1, 0.5, "caller"), ("停水", 0.5, 0.9, "caller"), ("好的", 1.0, 1.4, "taker")],
    )
    return path.read_bytes()


def media_url(srv, session: requests.Session, incident: str = "inc-1", key: str = "url") -> str:
    data = session.get(f"{srv.base}/api/incidents/{incident}").json()
    return srv.base + data["legs"][0]["recordings"][0][key]


def test_signed_url_plays_with_range_and_is_audited_once(server):
    audio = seed_recorded(server)
    boss = server.login("boss")
    url = media_url(server, boss)
    r = boss.get(url)
    assert r.status_code == 200 and r.content == audio and r.headers["content-type"].startswith("audio/")
    r = boss.get(url, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == audio[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(audio)}"
    assert boss.get(url, headers={"Range": f"bytes={len(audio) + 10}-"}).status_code == 416
    entries = boss.get(f"{server.base}/api/audit?action=playback").json()["entries"]
    assert len(entries) == 1 and entries[0]["user_name"] == "boss" and entries[0]["target"] == "rec-inc-1"
    # Download is its own URL and its own audit row.
    r = boss.get(media_url(server, boss, key="download_url"))
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert [e["target"] for e in boss.get(f"{server.base}/api/audit?action=download").json()["entries"]] == [
        "rec-inc-1"
    ]


def test_expired_tampered_and_missing_signatures_are_refused(server):
    seed_recorded(server)
    boss = server.login("boss")
    url = media_url(server, boss)
    parts = urlsplit(url)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    base = f"{server.base}{parts.path}"
    assert (
        boss.get(f"{base}?{urlencode({**q, 'exp': int(q['exp']) + 3600})}").status_code == 403
    )  # tampered exp
    bad = "0" * 64
    assert boss.get(f"{base}?{urlencode({**q, 'sig': bad})}").status_code == 403
    assert boss.get(f"{base}?{urlencode({**q, 'd': 1})}").status_code == 403
    assert boss.get(base).status_code == 403
    assert boss.get(f"{server.base}/media/rec-inc-2?{parts.query}").status_code == 403  # other recording
    assert boss.get(url).status_code == 200
    server.clock.advance(server.console.config.gateway.http.media_url_ttl_s + 1)
    assert boss.get(url).status_code == 403  # expired


def test_unauthenticated_and_other_users_audio_is_refused(server):
    seed_recorded(server)
    url = media_url(server, server.login("boss"))
    assert requests.get(url).status_code == 403  # a valid signature without a session
    taker2 = server.login("taker2")
    assert taker2.get(url).status_code == 403  # signed for someone else


def test_agency_without_grant_gets_no_recording(server):
    seed_recorded(server)
    water1 = server.login("water1")
    rec = water1.get(f"{server.base}/api/incidents/inc-1").json()["legs"][0]["recordings"][0]
    assert rec["url"] is None and rec["withheld"] and rec["transcript"] is None
    # Even with a URL signed for this very user (a leaked secret), the role check refuses it.
    forged = server.console.signer.url("rec-inc-1", server.console.users.by_name("water1").user_id)
    assert water1.get(server.base + forged).status_code == 403
    water2 = server.login("water2")  # granted
    url = media_url(server, water2)
    assert water2.get(url).status_code == 200


def test_path_traversal_is_refused(server, tmp_path):
    seed_recorded(server)
    secret = tmp_path / "secret.wav"
    secret.write_bytes(b"RIFF-not-for-you")
    a = server.archive
    a.call("c-x", "inc-x")
    a.recording("rec-up", "inc-x", "../../secret.wav", call_id="c-x")
    a.recording("rec-abs", "inc-x", str(secret), call_id="c-x")
    (server.console.recordings_dir / "link.wav").symlink_to(secret)
    a.recording("rec-link", "inc-x", "link.wav", call_id="c-x")
    boss = server.login("boss")
    uid = server.console.users.by_name("boss").user_id
    for rec in ("rec-up", "rec-abs", "rec-link"):
        r = boss.get(server.base + server.console.signer.url(rec, uid))
        assert r.status_code == 403 and b"not-for-you" not in r.content, rec
    for path in (
        "/media/../../etc/passwd",
        "/media/%2e%2e/%2e%2e/etc/passwd",
        "/media/..%2f..%2fetc%2fpasswd",
        "/static/..%2fapp.py",
        "/static/../app.py",
    ):
        r = boss.get(server.base + path)
        assert r.status_code in (403, 404) and b"root:" not in r.content and b"import" not in r.content, path


def test_retention_deletes_audio_and_keeps_the_record(server):
    old = seed_recorded(server, "inc-old", age_days=400)
    assert old
    seed_recorded(server, "inc-new", age_days=1)
    boss = server.login("boss")
    old_url = media_url(server, boss, "inc-old")
    result = boss.post(f"{server.base}/api/retention/run", headers={"X-CSRF-Token": server.csrf(boss)}).json()
    assert result["deleted"] == ["rec-inc-old"]
    assert not (server.console.recordings_dir / "2026/11/inc-old.wav").exists()
    assert (server.console.recordings_dir / "2026/11/inc-new.wav").exists()
    row = server.archive.conn.execute(
        "SELECT deleted_at FROM recordings WHERE recording_id = 'rec-inc-old'"
    ).fetchone()
    assert row["deleted_at"]
    rec = boss.get(f"{server.base}/api/incidents/inc-old").json()["legs"][0]["recordings"][0]
    assert rec["deleted_at"] and rec["url"] is None and rec["transcript"]["segments"]
    assert boss.get(old_url).status_code == 410
    retention = boss.get(f"{server.base}/api/audit?action=retention").json()["entries"]
    assert retention and retention[0]["detail"]["deleted"] == ["rec-inc-old"]


def test_retention_runs_on_a_schedule(server):
    from twisted.internet.task import Clock as TwistedClock

    from gateway.console import schedule_retention

    seed_recorded(server, "inc-old", age_days=400)
    root = type("Root", (), {"console": server.console})()
    clock = TwistedClock()
    loop = schedule_retention(root, 3600, clock)
    try:
        assert not (server.console.recordings_dir / "2026/11/inc-old.wav").exists()
        seed_recorded(server, "inc-old2", age_days=500)
        clock.advance(3600)
        assert not (server.console.recordings_dir / "2026/11/inc-old2.wav").exists()
    finally:
        loop.stop()
