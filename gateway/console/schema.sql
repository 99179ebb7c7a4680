-- Supervisor console tables, kept in the archive database beside the archive contract
-- (gateway/archive/schema.sql). Times are ISO-8601 UTC strings like the archive's.

CREATE TABLE IF NOT EXISTS users (
    user_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,             -- argon2id
    role             TEXT NOT NULL CHECK (role IN ('supervisor', 'call_taker', 'agency')),
    agency           TEXT,                      -- agency code, for role agency
    agent_id         TEXT,                      -- calls.agent this call-taker answers as
    grant_recordings INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    disabled_at      TEXT
);

-- Console sessions; only the SHA-256 of the cookie value is stored.
CREATE TABLE IF NOT EXISTS sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(user_id),
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   REAL NOT NULL                  -- unix seconds
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);

-- Who did what, when: searches, views, playbacks, downloads, logins.
CREATE TABLE IF NOT EXISTS audit_log (
    audit_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    user_id    INTEGER,
    user_name  TEXT,
    action     TEXT NOT NULL,                   -- search, view, playback, download, login, login_failed, logout, retention
    target     TEXT,                            -- incident_id, recording_id, ...
    detail     TEXT NOT NULL DEFAULT '{}',      -- JSON
    ip         TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log(action, at);

-- Bearer tokens for the Open311 API; only the SHA-256 is stored.
CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash  TEXT PRIMARY KEY,
    agency      TEXT NOT NULL,
    user_id     INTEGER REFERENCES users(user_id),
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
