"""Users, argon2 password hashes, expiring sessions, CSRF tokens and login rate limiting."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.console.db import iso

ROLES = ("supervisor", "call_taker", "agency")
_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so timing does not reveal names.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AuthError(ValueError):
    """A user could not be created or changed; the message says why."""


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    role: str
    agency: str | None
    agent_id: str | None
    grant_recordings: bool

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    @property
    def may_hear_recordings(self) -> bool:
        """Supervisors and call-takers hear recordings they may see; agencies only when granted."""
        return self.role != "agency" or self.grant_recordings

    def public(self) -> dict[str, object]:
        return {
            "name": self.name,
            "role": self.role,
            "agency": self.agency,
            "grant_recordings": self.grant_recordings,
        }


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires_at: float


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(row: sqlite3.Row) -> User:
    return User(
        row["user_id"],
        row["name"],
        row["role"],
        row["agency"],
        row["agent_id"],
        bool(row["grant_recordings"]),
    )


class Users:
    """The ``users`` table."""

    def __init__(
        self, conn: sqlite3.Connection, agency_codes: set[str], clock: Callable[[], float] = time.time
    ):
        self.conn = conn
        self.agency_codes = agency_codes
        self.clock = clock

    def add(
        self,
        name: str,
        password: str,
        role: str,
        agency: str | None = None,
        grant_recordings: bool = False,
        agent_id: str | None = None,
    ) -> User:
        if role not in ROLES:
            raise AuthError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if not name or len(name) > 64 or any(c.isspace() for c in name):
            raise AuthError("user name must be 1-64 characters without spaces")
        if len(password) < 8:
            raise AuthError("password must be at least 8 characters")
        if role == "agency":
            if agency not in self.agency_codes:
                raise AuthError(f"unknown agency {agency!r}; known: {', '.join(sorted(self.agency_codes))}")
        elif agency:
            raise AuthError("--agency applies only to role agency")
        if role == "call_taker" and not agent_id:
            agent_id = name
        try:
            cur = self.conn.execute(
                "INSERT INTO users (name, password_hash, role, agency, agent_id, grant_recordings,"
                " created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    _hasher.hash(password),
                    role,
                    agency,
                    agent_id,
                    int(grant_recordings),
                    iso(self.clock()),
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise AuthError(f"user {name!r} already exists") from exc
        return self.get(int(cur.lastrowid or 0))  # type: ignore[return-value]

    def get(self, user_id: int) -> User | None:
        row = self.conn.execute(
            "SELECT * FROM users WHERE user_id = ? AND disabled_at IS NULL", (user_id,)
        ).fetchone()
        return _user(row) if row else None

    def by_name(self, name: str) -> User | None:
        row = self.conn.execute(
            "SELECT * FROM users WHERE name = ? AND disabled_at IS NULL", (name,)
        ).fetchone()
        return _user(row) if row else None

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password matches, else None (same work either way)."""
        row = self.conn.execute(
            "SELECT * FROM users WHERE name = ? AND disabled_at IS NULL", (name,)
        ).fetchone()
        try:
            _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(row["password_hash"]):
            self.conn.execute(
                "UPDATE users SET password_hash = ? WHERE user_id = ?",
                (_hasher.hash(password), row["user_id"]),
            )
        return _user(row)


class Sessions:
    """Server-side sessions: the cookie holds a random token, the table its hash and a CSRF token."""

    def __init__(
        self, conn: sqlite3.Connection, users: Users, ttl_s: int, clock: Callable[[], float] = time.time
    ):
        self.conn = conn
        self.users = users
        self.ttl_s = ttl_s
        self.clock = clock

    def create(self, user: User) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(user, secrets.token_urlsafe(24), now + self.ttl_s)
        self.conn.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (_sha(token), user.user_id, session.csrf, iso(now), session.expires_at),
        )
        self.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        row = self.conn.execute("SELECT * FROM sessions WHERE token_hash = ?", (_sha(token),)).fetchone()
        if row is None:
            return None
        if row["expires_at"] <= self.clock():
            self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (row["token_hash"],))
            return None
        user = self.users.get(row["user_id"])
        return Session(user, row["csrf"], row["expires_at"]) if user else None

    def delete(self, token: str | None) -> None:
        if token:
            self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_sha(token),))


def csrf_ok(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token; both must be present."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


class LoginLimiter:
    """At most ``max_failures`` failed logins per user name and per client address in ``window_s``."""

    def __init__(self, max_failures: int = 5, window_s: float = 300, clock: Callable[[], float] = time.time):
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        q = self._failures[key]
        cutoff = self.clock() - self.window_s
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def blocked(self, name: str, ip: str) -> float:
        """Seconds until another attempt is allowed (0 when allowed now)."""
        wait = 0.0
        for key in (f"u:{name}", f"ip:{ip}"):
            q = self._recent(key)
            if len(q) >= self.max_failures:
                wait = max(wait, q[0] + self.window_s - self.clock())
        return wait

    def failed(self, name: str, ip: str) -> None:
        now = self.clock()
        for key in (f"u:{name}", f"ip:{ip}"):
            self._recent(key).append(now)

    def succeeded(self, name: str) -> None:
        self._failures.pop(f"u:{name}", None)


class ApiTokens:
    """Agency bearer tokens for the Open311 API."""

    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], float] = time.time):
        self.conn = conn
        self.clock = clock

    def issue(self, user: User) -> str:
        if user.role != "agency" or not user.agency:
            raise AuthError(f"user {user.name!r} is not an agency user; API tokens are for agencies")
        token = "lk_" + secrets.token_urlsafe(32)
        self.conn.execute(
            "INSERT INTO api_tokens (token_hash, agency, user_id, created_at) VALUES (?, ?, ?, ?)",
            (_sha(token), user.agency, user.user_id, iso(self.clock())),
        )
        return token

    def agency_for(self, token: str) -> str | None:
        row = self.conn.execute(
            "SELECT agency FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", (_sha(token),)
        ).fetchone()
        return row["agency"] if row else None
