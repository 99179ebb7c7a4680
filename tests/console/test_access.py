"""Login, sessions, CSRF, rate limiting and role checks against a real server on a loopback port."""

from __future__ import annotations

import re
import time

import requests
from conftest import PASSWORD


def seed_two_incidents(srv) -> None:
    a = srv.archive
    a.call("c-1", "inc-1", agent="taker1", caller="+8613800138000")
    a.ticket("t-1", "inc-1", agency="water")
    a.call("c-2", "inc-2", agent="taker2", caller="+8613900139000")
    a.ticket("t-2", "inc-2", agency="power", route="hotline")


def test_login_page_then_session_cookie_is_httponly(server):
    s = requests.Session()
    r = s.get(f"{server.base}/search", allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    page = s.get(f"{server.base}/login")
    assert page.status_code == 200 and "登录" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = s.post(
        f"{server.base}/login",
        data={"name": "boss", "password": PASSWORD, "csrf": csrf},
        allow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/search"
    cookie = r.headers["set-cookie"]
    assert "linkage_session=" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert s.get(f"{server.base}/api/me").json()["user"]["role"] == "supervisor"
    assert "content-security-policy" in {k.lower() for k in r.headers}


def test_wrong_password_and_unknown_user_are_refused(server):
    s = requests.Session()
    for name in ("boss", "nobody"):
        csrf = re.search(r'name="csrf" value="([^"]+)"', s.get(f"{server.base}/login").text).group(1)
        r = s.post(
            f"{server.base}/login",
            data={"name": name, "password": "wrong-password", "csrf": csrf},
            allow_redirects=False,
        )
        assert r.status_code == 401
        assert s.get(f"{server.base}/api/me").status_code == 401


def test_unauthenticated_api_is_refused(server):
    for path in ("/api/search?q=abc", "/api/incidents/inc-1", "/api/dashboard", "/api/audit", "/api/me"):
        assert requests.get(server.base + path).status_code == 401, path


def test_session_expires(server):
    s = server.login("boss")
    assert s.get(f"{server.base}/api/me").status_code == 200
    server.clock.advance(server.console.config.gateway.http.session_ttl_s + 1)
    assert s.get(f"{server.base}/api/me").status_code == 401
    assert s.get(f"{server.base}/search", allow_redirects=False).status_code == 303


def test_login_requires_its_csrf_token(server):
    s = requests.Session()
    s.get(f"{server.base}/login")
    r = s.post(
        f"{server.base}/login",
        data={"name": "boss", "password": PASSWORD, "csrf": "forged"},
        allow_redirects=False,
    )
    assert r.status_code == 403
    # A token from the page but no cookie (cross-site form): refused too.
    csrf = re.search(r'name="csrf" value="([^"]+)"', requests.get(f"{server.base}/login").text).group(1)
    r = requests.post(
        f"{server.base}/login",
        data={"name": "boss", "password": PASSWORD, "csrf": csrf},
        allow_redirects=False,
    )
    assert r.status_code == 403


def test_state_changing_requests_need_the_session_csrf_token(server):
    s = server.login("boss")
    assert s.post(f"{server.base}/api/retention/run").status_code == 403
    assert s.post(f"{server.base}/api/retention/run", headers={"X-CSRF-Token": "nope"}).status_code == 403
    assert s.post(f"{server.base}/logout", allow_redirects=False).status_code == 403
    assert s.get(f"{server.base}/api/me").status_code == 200  # still logged in
    token = server.csrf(s)
    assert s.post(f"{server.base}/api/retention/run", headers={"X-CSRF-Token": token}).status_code == 200
    r = s.post(f"{server.base}/logout", data={"csrf": token}, allow_redirects=False)
    assert r.status_code == 303
    assert s.get(f"{server.base}/api/me").status_code == 401


def test_login_rate_limited_after_repeated_failures(server):
    s = requests.Session()

    def attempt(password: str) -> int:
        csrf = re.search(r'name="csrf" value="([^"]+)"', s.get(f"{server.base}/login").text).group(1)
        return s.post(
            f"{server.base}/login",
            data={"name": "boss", "password": password, "csrf": csrf},
            allow_redirects=False,
        ).status_code

    assert [attempt("bad-password") for _ in range(5)] == [401] * 5
    assert attempt(PASSWORD) == 429  # even the right password waits
    server.clock.advance(301)
    assert attempt(PASSWORD) == 303


def test_supervisor_sees_all_call_taker_only_own(server):
    seed_two_incidents(server)
    boss = server.login("boss").get(f"{server.base}/api/search").json()
    assert {r["incident_id"] for r in boss["results"]} == {"inc-1", "inc-2"}
    taker = server.login("taker1")
    mine = taker.get(f"{server.base}/api/search").json()
    assert [r["incident_id"] for r in mine["results"]] == ["inc-1"]
    assert taker.get(f"{server.base}/api/incidents/inc-1").status_code == 200
    assert taker.get(f"{server.base}/api/incidents/inc-2").status_code == 404


def test_agency_sees_own_tickets_masked_caller(server):
    seed_two_incidents(server)
    water = server.login("water1")
    res = water.get(f"{server.base}/api/search").json()["results"]
    assert [r["incident_id"] for r in res] == ["inc-1"]
    assert res[0]["caller"] == "861********00"
    assert water.get(f"{server.base}/api/incidents/inc-2").status_code == 404
    assert water.get(f"{server.base}/api/search", params={"q": "停水"}).status_code == 400
    assert water.get(f"{server.base}/api/dashboard").status_code == 403
    assert water.get(f"{server.base}/api/audit").status_code == 403
    assert water.get(f"{server.base}/audit").status_code == 403


def test_expired_session_cannot_be_reused_after_clock_moves_back(server):
    s = server.login("boss")
    server.clock.advance(10**6)
    assert s.get(f"{server.base}/api/me").status_code == 401
    server.clock.advance(-(10**6))
    assert s.get(f"{server.base}/api/me").status_code == 401  # the expired row was deleted
    assert time.time() > 0


def test_login_next_is_never_an_open_redirect(server):
    for target, expected in (
        ("//evil.example/x", "/search"),
        ("https://evil.example", "/search"),
        ("/\\evil.example", "/search"),
        ("/call/inc-1", "/call/inc-1"),
    ):
        s = requests.Session()
        csrf = re.search(r'name="csrf" value="([^"]+)"', s.get(f"{server.base}/login").text).group(1)
        r = s.post(
            f"{server.base}/login",
            data={"name": "boss", "password": PASSWORD, "csrf": csrf, "next": target},
            allow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == expected, target


def test_plain_http_cookies_have_no_secure_flag(server):
    """The default listener is plain HTTP: a Secure cookie would never come back."""
    page = requests.get(f"{server.base}/login")
    assert page.raw.headers.getlist("Set-Cookie")
    assert not any("Secure" in c for c in page.raw.headers.getlist("Set-Cookie"))
