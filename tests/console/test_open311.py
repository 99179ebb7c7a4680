"""Open311 GeoReport v2 over the ticket archive; schemathesis against docs/open311.openapi.yaml."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tickets(server):
    a = server.archive
    now = time.time()
    a.call("c-1", "inc-1")
    a.ticket(
        "T-1",
        "inc-1",
        agency="water",
        status="delivered",
        created_at=now - 3600,
        due_at=now + 86400,
        summary="停水三天，回电13800138000",
    )
    a.ticket("T-2", "inc-2", agency="power", status="closed", created_at=now - 7200)
    a.ticket("T-3", "inc-3", agency="water", route="police", status="closed", created_at=now - 100)
    a.recording("rec-1", "inc-1", "x.wav", call_id="c-1")
    token = server.console.tokens.issue(server.console.users.by_name("water1"))
    return server, token


def get(base: str, path: str, token: str | None = None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(base + path, params=params, headers=headers)


def test_services_one_per_agency(server):
    r = get(server.base, "/open311/v2/services.json")
    assert r.status_code == 200
    codes = [s["service_code"] for s in r.json()]
    assert sorted(codes) == sorted(server.console.config.agency_codes())
    assert next(s for s in r.json() if s["service_code"] == "water")["service_name"].startswith("供水")


def test_public_sees_hotline_tickets_without_numbers(tickets):
    server, _ = tickets
    r = get(server.base, "/open311/v2/requests.json")
    assert r.status_code == 200
    assert [x["service_request_id"] for x in r.json()] == ["T-1", "T-2"]  # police ticket not public
    body = r.text
    assert "13800138000" not in body and "8613800138000" not in body and "rec-1" not in body
    assert "138******00" in body
    assert get(server.base, "/open311/v2/requests/T-3.json").status_code == 404


def test_agency_token_sees_own_tickets(tickets):
    server, token = tickets
    r = get(server.base, "/open311/v2/requests.json", token)
    assert sorted(x["service_request_id"] for x in r.json()) == ["T-1", "T-3"]
    assert get(server.base, "/open311/v2/requests/T-3.json", token).json()[0]["status"] == "closed"
    assert get(server.base, "/open311/v2/requests/T-2.json", token).status_code == 404
    assert get(server.base, "/open311/v2/requests.json", "lk_forged").status_code == 401


def test_filters_and_errors(tickets):
    server, _ = tickets
    assert [
        x["service_request_id"] for x in get(server.base, "/open311/v2/requests.json", status="open").json()
    ] == ["T-1"]
    assert [
        x["service_request_id"]
        for x in get(server.base, "/open311/v2/requests.json", service_code="power").json()
    ] == ["T-2"]
    assert [
        x["service_request_id"]
        for x in get(server.base, "/open311/v2/requests.json", service_request_id="T-2,T-9").json()
    ] == ["T-2"]
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5000))
    assert [
        x["service_request_id"]
        for x in get(server.base, "/open311/v2/requests.json", start_date=since).json()
    ] == ["T-1"]
    for bad in (
        {"status": "maybe"},
        {"start_date": "tuesday"},
        {"page_size": "0"},
        {"service_request_id": "a' OR 1=1"},
        {"colour": "red"},
    ):
        r = get(server.base, "/open311/v2/requests.json", **bad)
        assert r.status_code == 400 and r.json()[0]["code"] == 400, bad
    assert get(server.base, "/open311/v2/requests.json", service_code="nope").json() == []
    assert requests.post(server.base + "/open311/v2/requests.json").status_code == 405


@pytest.mark.skipif(
    not shutil.which("schemathesis", path=str(Path(sys.executable).parent)),
    reason="schemathesis not installed",
)
def test_schemathesis_finds_no_server_error_or_schema_break(tickets, tmp_path):
    server, token = tickets
    st = str(Path(sys.executable).parent / "schemathesis")
    report = tmp_path / "report.json"
    for extra in ([], ["-H", f"Authorization: Bearer {token}"]):
        proc = subprocess.run(
            [
                st,
                "run",
                str(ROOT / "docs" / "open311.openapi.yaml"),
                "--url",
                server.base,
                "--checks",
                "all",
                "--exclude-checks",
                "ignored_auth",  # public access without a token is by design (route hotline only)
                "--max-examples",
                "20",
                "--seed",
                "7",
                "--workers",
                "1",
                "--no-color",
                "--report",
                "ndjson",
                "--report-ndjson-path",
                str(report),
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=150,
            cwd=tmp_path,  # its example database stays out of the work tree
        )
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        assert "passed" in proc.stdout.lower()
    assert json.loads(report.read_text().splitlines()[0])
