"""Pages, i18n, the dashboard figures, and mounting next to the lead's /healthz."""

from __future__ import annotations

import time

import requests
from console_seed import Archive, Clock  # noqa: F401

from gateway.console.i18n import STRINGS, strings


def test_every_string_has_both_languages():
    assert all(set(v) == {"zh", "en"} and all(v.values()) for v in STRINGS.values())
    assert strings("fr")["nav_search"] == "查询"


def test_chinese_default_english_on_request(server):
    s = server.login("boss")
    assert '<html lang="zh-CN"' in s.get(f"{server.base}/search").text
    r = s.get(f"{server.base}/search?lang=en")
    assert '<html lang="en"' in r.text and "Supervisor console" in r.text
    assert '<html lang="en"' in s.get(f"{server.base}/dashboard").text  # remembered in a cookie
    assert "登录" in requests.get(f"{server.base}/login").text


def test_pages_escape_what_they_echo(server):
    s = server.login("boss")
    r = s.get(f"{server.base}/call/%3C%2Fscript%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert r.status_code == 200 and "</script><script>alert(1)" not in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert s.get(f"{server.base}/api/incidents/%3Cx%3E").status_code == 404


def test_dashboard_figures(server):
    a = server.archive
    now = time.time()
    a.call("c-1", "inc-1", started_at=now - 60, outcome="overflowed")
    a.call("c-2", "inc-2", started_at=now - 60)
    a.ticket(
        "t-1",
        "inc-1",
        agency="water",
        source="110_transfer",
        created_at=now - 50,
        satisfaction="satisfied",
        status="closed",
    )
    a.event("t-1", "accepted", now - 40)
    a.ticket("t-2", "inc-2", agency="water", source="12345_direct", created_at=now - 50, overdue=True)
    a.ticket("t-3", "inc-3", route="fire", agency=None, source="12345_direct", created_at=now - 50)
    d = server.login("boss").get(f"{server.base}/api/dashboard").json()
    assert (d["calls_today"], d["diverted"], d["overflowed"], d["handed_back"], d["overdue_tickets"]) == (
        2,
        1,
        1,
        1,
        1,
    )
    water = next(x for x in d["agencies"] if x["agency"] == "water")
    assert (
        water["tickets"],
        water["response_rate"],
        water["resolution_rate"],
        water["satisfaction_rate"],
    ) == (2, 0.5, 0.5, 1.0)


def test_children_put_on_the_root_come_first(config):
    from twisted.web.resource import Resource
    from twisted.web.static import Data

    from gateway.console import build_console

    root = build_console(config)
    root.putChild(b"healthz", Data(b"ok", "text/plain"))
    assert isinstance(root.getChildWithDefault(b"healthz", None), Data)
    assert isinstance(root, Resource)
