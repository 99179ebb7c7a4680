"""The console's HTTP front: one twisted.web resource routing pages, ``/api/``, ``/media/``, ``/open311/``.

Pages and APIs need a session cookie; every state-changing request (any method but GET/HEAD)
needs the session's CSRF token (``X-CSRF-Token`` header or ``csrf`` form field).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from twisted.web import resource, static
from twisted.web.server import NOT_DONE_YET, Request

from gateway.config import Config
from gateway.console import db, open311
from gateway.console.access import may_see_incident
from gateway.console.audit import AuditLog
from gateway.console.auth import ApiTokens, LoginLimiter, Session, Sessions, Users, csrf_ok
from gateway.console.dashboard import figures
from gateway.console.i18n import pick
from gateway.console.incident import load_incident
from gateway.console.media import ID_RE, AuditOnce, Forbidden, MediaFile, Signer, safe_path
from gateway.console.offload import render_in_thread
from gateway.console.pages import login_page, message_page, shell
from gateway.console.retention import purge
from gateway.console.search import Query, SearchError, search
from gateway.logs import log, register_secret

STATIC_DIR = Path(__file__).with_name("static")
SESSION_COOKIE = b"linkage_session"
LOGIN_COOKIE = b"linkage_login"
SECURITY_HEADERS = {
    b"content-security-policy": b"default-src 'self'; img-src 'self' data:; media-src 'self'; "
    b"style-src 'self'; script-src 'self'; object-src 'none'; "
    b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
}
_log = logging.getLogger("gateway.console")


class Console:
    """The console's state: database, users, sessions, signer, audit; shared by its resources."""

    def __init__(
        self,
        config: Config,
        clock: Callable[[], float] = time.time,
        secret: bytes | None = None,
        login_max_failures: int = 5,
        login_window_s: float = 300,
    ):
        self.config = config
        self.clock = clock
        self.conn = db.connect(config)
        http = config.gateway.http
        if secret is None:
            env = os.environ.get(http.secret_env)
            secret = env.encode() if env else secrets.token_bytes(32)
            register_secret(env)
        self.users = Users(self.conn, config.agency_codes(), clock)
        self.sessions = Sessions(self.conn, self.users, http.session_ttl_s, clock)
        self.tokens = ApiTokens(self.conn, clock)
        self.signer = Signer(secret, http.media_url_ttl_s, clock)
        self.audit = AuditLog(self.conn, clock)
        self.limiter = LoginLimiter(login_max_failures, login_window_s, clock)
        self.audited_media = AuditOnce()
        self.recordings_dir = config.recordings_dir
        self.agency_names = {code: a.name for code, a in config.agencies.agencies.items()}

    def run_retention(self) -> dict[str, Any]:
        result = purge(
            self.conn, self.recordings_dir, self.config.gateway.recordings.retention_days, self.clock()
        )
        if result["deleted"] or result["already_missing"] or result["refused"]:
            self.audit.record(None, "retention", None, result, user_name="system")
        return result


def _args(request: Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in (request.args or {}).items():
        try:
            out[k.decode()] = v[0].decode() if v else ""
        except UnicodeDecodeError:
            continue
    return out


def _ip(request: Request) -> str:
    addr = request.getClientAddress()
    return getattr(addr, "host", str(addr))


def _json(request: Request, obj: Any, code: int = 200) -> bytes:
    request.setResponseCode(code)
    request.setHeader(b"content-type", b"application/json; charset=utf-8")
    request.setHeader(b"cache-control", b"no-store")
    return json.dumps(obj, ensure_ascii=False, default=str).encode()


def _call(handler: Callable[..., Any], groups: tuple[str, ...], request: Any) -> Any:
    return handler(request, *groups)


def _redirect(request: Request, to: str) -> bytes:
    request.setResponseCode(303)
    request.setHeader(b"location", to.encode())
    return b""


class ConsoleApp(resource.Resource):
    """A leaf that routes on the whole path; see the module docstring."""

    isLeaf = True

    def __init__(self, console: Console, reactor: Any = None):
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.c = console
        self.secure = console.config.gateway.http.secure_cookies
        self.static = static.File(str(STATIC_DIR))
        self.routes: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
            (re.compile(r"^/$"), self.home),
            (re.compile(r"^/login$"), self.login),
            (re.compile(r"^/logout$"), self.logout),
            (re.compile(r"^/(search|dashboard|audit)$"), self.page),
            (re.compile(r"^/call/([^/]+)$"), self.call_page),
            (re.compile(r"^/static/([A-Za-z0-9_.-]+)$"), self.static_file),
            (re.compile(r"^/media/(.*)$"), self.media),
            (re.compile(r"^/api/me$"), self.api_me),
            (re.compile(r"^/api/search$"), self.api_search),
            (re.compile(r"^/api/incidents/([^/]+)$"), self.api_incident),
            (re.compile(r"^/api/dashboard$"), self.api_dashboard),
            (re.compile(r"^/api/audit$"), self.api_audit),
            (re.compile(r"^/api/retention/run$"), self.api_retention),
            (re.compile(r"^/open311/v2/services\.json$"), self.o311_services),
            (re.compile(r"^/open311/v2/requests\.json$"), self.o311_requests),
            (re.compile(r"^/open311/v2/requests/([^/]+)\.json$"), self.o311_request),
        ]

    # -- plumbing -------------------------------------------------------------------------------

    def render(self, request: Request) -> bytes | int:
        for name, value in SECURITY_HEADERS.items():
            request.setHeader(name, value)
        try:
            path = request.path.decode("utf-8")
        except UnicodeDecodeError:
            return Forbidden("bad path", 400).render(request)
        for pattern, handler in self.routes:
            m = pattern.fullmatch(path)
            if m:
                if handler == self.static_file:  # no database: stays on the reactor
                    return handler(request, *m.groups())
                return render_in_thread(request, partial(_call, handler, m.groups()), self.reactor,
                                        self._failed)
        return self.not_found(request)

    @staticmethod
    def _failed(request: Any) -> bytes:
        _log.exception("console request failed")
        return _json(request, {"error": "internal error"}, 500)

    def not_found(self, request: Request) -> bytes:
        if request.path.startswith((b"/api/", b"/open311/")):
            return _json(request, {"error": "not found"}, 404)
        request.setResponseCode(404)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return message_page(self.lang(request), "not_found")

    def lang(self, request: Request) -> str:
        wanted = _args(request).get("lang")
        if wanted in ("zh", "en"):
            request.addCookie(b"lang", wanted.encode(), path=b"/", sameSite=b"lax", max_age=str(365 * 86400),
                              secure=self.secure)
            return wanted
        cookie = request.getCookie(b"lang")
        return pick(cookie.decode() if cookie else None)

    def session(self, request: Request) -> Session | None:
        token = request.getCookie(SESSION_COOKIE)
        return self.c.sessions.get(token.decode("ascii", "replace") if token else None)

    def _method(self, request: Request, allowed: tuple[bytes, ...]) -> bytes | None:
        if request.method not in allowed:
            request.setHeader(b"allow", b", ".join(allowed))
            return _json(request, {"error": "method not allowed"}, 405)
        return None

    def _csrf_given(self, request: Request) -> str | None:
        header = request.getHeader(b"x-csrf-token")
        if header:
            return header.decode("ascii", "replace")
        field = (request.args or {}).get(b"csrf")
        return field[0].decode("ascii", "replace") if field else None

    def api_session(self, request: Request) -> tuple[Session | None, bytes | None]:
        """The session of an API request, or the error response to send (401, or 403 for CSRF)."""
        session = self.session(request)
        if session is None:
            return None, _json(request, {"error": "login required"}, 401)
        if request.method not in (b"GET", b"HEAD") and not csrf_ok(session.csrf, self._csrf_given(request)):
            return None, _json(request, {"error": "missing or invalid CSRF token"}, 403)
        return session, None

    # -- pages ----------------------------------------------------------------------------------

    def home(self, request: Request) -> bytes:
        return _redirect(request, "/search" if self.session(request) else "/login")

    def _login_form(
        self, request: Request, error: str | None = None, code: int = 200, next_url: str = "/search"
    ):
        token = secrets.token_urlsafe(24)
        request.addCookie(LOGIN_COOKIE, token.encode(), path=b"/login", httpOnly=True, sameSite=b"strict",
                          secure=self.secure)
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        return login_page(self.lang(request), token, error, next_url)

    def login(self, request: Request) -> bytes:
        args = _args(request)
        next_url = args.get("next", "/search")
        if not next_url.startswith("/") or next_url.startswith("//") or "\\" in next_url:
            next_url = "/search"
        if request.method in (b"GET", b"HEAD"):
            return self._login_form(request, next_url=next_url)
        if (err := self._method(request, (b"GET", b"HEAD", b"POST"))) is not None:
            return err
        cookie = request.getCookie(LOGIN_COOKIE)
        if not csrf_ok(cookie.decode("ascii", "replace") if cookie else None, args.get("csrf")):
            return self._login_form(request, "login_csrf", 403, next_url)
        name, password, ip = args.get("name", ""), args.get("password", ""), _ip(request)
        wait = self.c.limiter.blocked(name, ip)
        if wait > 0:
            self.c.audit.record(None, "login_failed", name, {"reason": "rate_limited"}, ip, user_name=name)
            request.setHeader(b"retry-after", str(int(wait) + 1).encode())
            return self._login_form(request, "login_limited", 429, next_url)
        user = self.c.users.verify(name, password)
        if user is None:
            self.c.limiter.failed(name, ip)
            self.c.audit.record(None, "login_failed", name, {"reason": "bad_credentials"}, ip, user_name=name)
            return self._login_form(request, "login_failed", 401, next_url)
        self.c.limiter.succeeded(name)
        token, _ = self.c.sessions.create(user)
        request.addCookie(
            SESSION_COOKIE,
            token.encode(),
            path=b"/",
            httpOnly=True,
            sameSite=b"strict",
            max_age=str(self.c.config.gateway.http.session_ttl_s),
            secure=self.secure,
        )
        self.c.audit.record(user, "login", None, {}, ip)
        log(_log, logging.INFO, "console login", user=user.name, role=user.role)
        return _redirect(request, next_url)

    def logout(self, request: Request) -> bytes:
        if (err := self._method(request, (b"POST",))) is not None:
            return err
        session, err = self.api_session(request)
        if err is not None:
            return err
        token = request.getCookie(SESSION_COOKIE)
        self.c.sessions.delete(token.decode("ascii", "replace") if token else None)
        request.addCookie(SESSION_COOKIE, b"", path=b"/", httpOnly=True, sameSite=b"strict", max_age="0",
                          secure=self.secure)
        self.c.audit.record(session.user, "logout", None, {}, _ip(request))
        return _redirect(request, "/login")

    def _page_session(self, request: Request) -> Session | bytes:
        session = self.session(request)
        if session is None:
            return _redirect(
                request, "/login?next=" + quote(request.uri.decode("utf-8", "replace"), safe="/")
            )
        return session

    def page(self, request: Request, name: str, data: dict[str, Any] | None = None) -> bytes:
        session = self._page_session(request)
        if isinstance(session, bytes):
            return session
        lang = self.lang(request)
        if name in ("dashboard", "audit") and not session.user.is_supervisor:
            request.setResponseCode(403)
            request.setHeader(b"content-type", b"text/html; charset=utf-8")
            return message_page(lang, "forbidden")
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        return shell(name, lang, session, {"agencies": self.c.agency_names, **(data or {})})

    def call_page(self, request: Request, incident_id: str) -> bytes:
        return self.page(request, "call", {"incident_id": incident_id})

    def static_file(self, request: Request, name: str) -> bytes | int:
        path = safe_path(STATIC_DIR, name)
        if path is None or not path.is_file():
            return self.not_found(request)
        f = static.File(str(path))
        f.isLeaf = True
        return f.render(request)

    # -- media ----------------------------------------------------------------------------------

    def media(self, request: Request, rest: str) -> bytes | Callable[[Request], bytes | int]:
        if request.method not in (b"GET", b"HEAD"):
            return Forbidden().render(request)
        checked = self.c.signer.check(rest, request.args or {})
        if checked is None:
            return Forbidden("invalid or expired signature").render(request)
        user_id, download = checked
        session = self.session(request)
        if session is None or session.user.user_id != user_id:
            return Forbidden("login required").render(request)
        user = session.user
        row = self.c.conn.execute("SELECT * FROM recordings WHERE recording_id = ?", (rest,)).fetchone()
        if (
            row is None
            or not user.may_hear_recordings
            or not may_see_incident(self.c.conn, user, row["incident_id"])
        ):
            self.c.audit.record(user, "denied", rest, {"what": "media"}, _ip(request))
            return Forbidden().render(request)
        if row["deleted_at"]:
            return Forbidden("recording deleted after its retention period", 410).render(request)
        path = safe_path(self.c.recordings_dir, row["path"])
        if path is None:
            log(_log, logging.WARNING, "recording path outside the recordings dir refused", recording_id=rest)
            return Forbidden().render(request)
        if not path.is_file():
            return Forbidden("audio file missing", 404).render(request)
        sig = (request.args or {}).get(b"sig", [b""])[0]
        if request.method == b"GET" and self.c.audited_media.first(sig):
            self.c.audit.record(
                user,
                "download" if download else "playback",
                rest,
                {"incident_id": row["incident_id"], "leg": row["leg"]},
                _ip(request),
            )
        media = MediaFile(path, f"{rest}{path.suffix}" if download else None)
        return media.render  # streamed by static.File's producer, on the reactor thread

    # -- APIs -----------------------------------------------------------------------------------

    def api_me(self, request: Request) -> bytes:
        session, err = self.api_session(request)
        if err is not None:
            return err
        return _json(
            request, {"user": session.user.public(), "csrf": session.csrf, "expires_at": session.expires_at}
        )

    def api_search(self, request: Request) -> bytes:
        session, err = self.api_session(request)
        if err is not None:
            return err
        try:
            q = Query.from_args(_args(request))
            result = search(self.c.conn, session.user, q)
        except SearchError as exc:
            return _json(request, {"error": str(exc)}, 400)
        self.c.audit.record(
            session.user, "search", None, {**q.describe(), "total": result["total"]}, _ip(request)
        )
        return _json(request, result)

    def api_incident(self, request: Request, incident_id: str) -> bytes:
        session, err = self.api_session(request)
        if err is not None:
            return err
        if not ID_RE.match(incident_id) or not may_see_incident(self.c.conn, session.user, incident_id):
            return _json(request, {"error": "not found"}, 404)
        data = load_incident(self.c.conn, session.user, incident_id, self.c.signer, self.c.clock())
        if not data["legs"] and not data["tickets"]:
            return _json(request, {"error": "not found"}, 404)
        self.c.audit.record(session.user, "view", incident_id, {}, _ip(request))
        return _json(request, data)

    def _supervisor(self, request: Request) -> tuple[Session | None, bytes | None]:
        session, err = self.api_session(request)
        if err is None and not session.user.is_supervisor:
            return None, _json(request, {"error": "supervisors only"}, 403)
        return session, err

    def api_dashboard(self, request: Request) -> bytes:
        _, err = self._supervisor(request)
        if err is not None:
            return err
        now = dt.datetime.fromtimestamp(self.c.clock(), dt.UTC)
        return _json(request, figures(self.c.conn, now, self.c.agency_names))

    def api_audit(self, request: Request) -> bytes:
        _, err = self._supervisor(request)
        if err is not None:
            return err
        a = _args(request)
        limit = int(a["limit"]) if a.get("limit", "").isdigit() else 200
        offset = int(a["offset"]) if a.get("offset", "").isdigit() else 0
        return _json(
            request,
            {
                "entries": self.c.audit.query(
                    a.get("user", ""), a.get("action", ""), a.get("target", ""), limit, offset
                )
            },
        )

    def api_retention(self, request: Request) -> bytes:
        if (err := self._method(request, (b"POST",))) is not None:
            return err
        _, err = self._supervisor(request)
        if err is not None:
            return err
        return _json(request, self.c.run_retention())

    # -- Open311 --------------------------------------------------------------------------------

    def _o311(self, request: Request, produce: Callable[[str | None], Any]) -> bytes:
        if request.method not in (b"GET", b"HEAD"):
            request.setHeader(b"allow", b"GET, HEAD")
            return _json(request, [{"code": 405, "description": "method not allowed"}], 405)
        agency = None
        raw_auth = request.getHeader(b"authorization")
        if raw_auth is not None:
            scheme, _, token = raw_auth.decode("latin-1").partition(" ")
            agency = self.c.tokens.agency_for(token.strip()) if scheme.lower() == "bearer" else None
            if agency is None:
                request.setHeader(b"www-authenticate", b'Bearer realm="open311"')
                return _json(request, [{"code": 401, "description": "invalid API token"}], 401)
        try:
            return _json(request, produce(agency))
        except open311.Open311Error as exc:
            return _json(request, exc.body(), exc.code)

    def o311_services(self, request: Request) -> bytes:
        return self._o311(request, lambda agency: open311.services(self.c.config))

    def o311_requests(self, request: Request) -> bytes:
        args: dict[str, list[str]] = {}
        for k, v in (request.args or {}).items():
            try:
                args[k.decode()] = [x.decode() for x in v]
            except UnicodeDecodeError:
                return _json(request, [{"code": 400, "description": "parameters must be UTF-8"}], 400)
        return self._o311(request, lambda agency: open311.requests(self.c.conn, self.c.config, agency, args))

    def o311_request(self, request: Request, request_id: str) -> bytes:
        return self._o311(
            request, lambda agency: open311.one_request(self.c.conn, self.c.config, agency, request_id)
        )


class ConsoleRoot(resource.Resource):
    """The root the lead mounts at ``/``; children put on it (``/healthz``, ``/metrics``) come first."""

    def __init__(self, console: Console):
        super().__init__()
        self.console = console
        self.app = ConsoleApp(console)

    def getChild(self, path: bytes, request: Request) -> resource.Resource:
        request.postpath.insert(0, path)
        request.prepath.pop()
        return self.app

    def render(self, request: Request) -> bytes | int:
        return self.app.render(request)


__all__ = ["NOT_DONE_YET", "Console", "ConsoleApp", "ConsoleRoot"]
