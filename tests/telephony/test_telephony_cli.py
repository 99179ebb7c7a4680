"""``linkage asterisk check`` against a threaded fake AMI (real socket, separate process)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading

from tests.conftest import ROOT, free_port


def fake_ami(replies_for):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve():
        conn, _ = srv.accept()
        conn.sendall(b"Asterisk Call Manager/11.0.0\r\n")
        buf = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
            while b"\r\n\r\n" in buf:
                block, buf = buf.split(b"\r\n\r\n", 1)
                action = dict(line.split(": ", 1) for line in block.decode().split("\r\n") if ": " in line)
                conn.sendall(replies_for(action).replace("{aid}", action["ActionID"]).encode())
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv


def run_check(config_dir, port):
    gw = config_dir / "gateway.yaml"
    gw.write_text(gw.read_text().replace("port: 5038", f"port: {port}"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LINKAGE_AMI_SECRET": "cli-secret"}
    proc = subprocess.run([sys.executable, "-m", "gateway", "--config", str(gw), "asterisk", "check"],
                          capture_output=True, text=True, timeout=60, env=env)
    return proc.returncode, json.loads(proc.stdout.strip().splitlines()[-1])


def test_check_reports_a_correct_setup(config_dir, config):
    globals_ = {"LINKAGE_FASTAGI": "agi://127.0.0.1:4573", "LINKAGE_REC_DIR": str(config.recordings_dir),
                "LINKAGE_OVERFLOW": "linkage-overflow", "LINKAGE_110_TIMEOUT": "60",
                "LINKAGE_12345_TIMEOUT": "120", "LINKAGE_HANDOVER_TIMEOUT": "30"}

    def replies(a):
        ok = "Response: Success\r\nActionID: {aid}\r\n"
        if a["Action"] == "Getvar":
            return ok + f"Variable: {a['Variable']}\r\nValue: {globals_[a['Variable']]}\r\n\r\n"
        if a["Action"] == "QueueStatus":
            return (ok + "EventList: start\r\n\r\n"
                    f"Event: QueueParams\r\nQueue: {a['Queue']}\r\nActionID: {{aid}}\r\n\r\n"
                    f"Event: QueueMember\r\nQueue: {a['Queue']}\r\nName: x\r\nActionID: {{aid}}\r\n\r\n"
                    "Event: QueueStatusComplete\r\nActionID: {aid}\r\nEventList: Complete\r\n\r\n")
        if a["Action"] == "CoreShowChannels":
            return (ok + "EventList: start\r\n\r\nEvent: CoreShowChannelsComplete\r\nActionID: {aid}\r\n"
                    "EventList: Complete\r\nListItems: 0\r\n\r\n")
        assert a["Action"] != "Login" or a["Secret"] == "cli-secret"
        return ok + "\r\n"

    srv = fake_ami(replies)
    code, report = run_check(config_dir, srv.getsockname()[1])
    assert report["problems"] == [] and code == 0
    expected = {"exists": True, "members": 1}
    assert report["queues"] == {"110": expected, "12345": expected}


def test_check_reports_unreachable_ami(config_dir):
    code, report = run_check(config_dir, free_port())
    assert code == 1 and report["ami_connected"] is False
    assert report["problems"][0].startswith("AMI login failed: connect failed")
