-- Linkage Gateway archive, schema version 1 (SQLite). The contract between the writers
-- (tickets, feedback, telephony, transcripts) and the readers (reports, supervisor console).
-- Times are ISO-8601 UTC strings ("2026-11-23T13:45:00.123Z"); JSON columns hold JSON text.

PRAGMA journal_mode = WAL;

CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);

-- One row per ticket, its latest state. `doc` is the full ticket JSON (docs/ticket.schema.json).
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id        TEXT PRIMARY KEY,
    incident_id      TEXT NOT NULL,
    schema_version   INTEGER NOT NULL,
    source           TEXT NOT NULL,            -- 110_transfer | overflow_ivr | 12345_direct
    status           TEXT NOT NULL,            -- created, delivered, accepted, arrived, handled, returned, closed ...
    route            TEXT NOT NULL,
    agency           TEXT,
    joint_agencies   TEXT NOT NULL DEFAULT '[]',
    category         TEXT,
    request_type     TEXT,                     -- consultation | help | complaint | report | suggestion
    urgency          TEXT,
    caller_raw       TEXT,
    caller_e164      TEXT,
    caller_valid     INTEGER NOT NULL DEFAULT 0,
    location         TEXT,
    summary          TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    due_at           TEXT,                     -- current handling deadline
    arrival_due_at   TEXT,
    overdue          INTEGER NOT NULL DEFAULT 0,
    satisfaction     TEXT,                     -- satisfied | basically_satisfied | dissatisfied
    doc              TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_incident ON tickets(incident_id);
CREATE INDEX IF NOT EXISTS tickets_agency_status ON tickets(agency, status);
CREATE INDEX IF NOT EXISTS tickets_created ON tickets(created_at);
CREATE INDEX IF NOT EXISTS tickets_caller ON tickets(caller_e164);

-- Every ticket event, once (event_id is the idempotency key).
CREATE TABLE IF NOT EXISTS ticket_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,
    ticket_id    TEXT NOT NULL,
    type         TEXT NOT NULL,               -- created, delivered, accepted, arrived, handled, returned, rerouted,
                                              -- extension_requested, extension_granted, closed, rated,
                                              -- escalated, rejected_transition, dead_lettered
    status_from  TEXT,
    status_to    TEXT,
    at           TEXT NOT NULL,
    actor        TEXT,
    data         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS ticket_events_ticket ON ticket_events(ticket_id, seq);

-- One row per call leg (Asterisk channel) of an incident.
CREATE TABLE IF NOT EXISTS calls (
    call_id      TEXT PRIMARY KEY,            -- Asterisk UNIQUEID of the leg
    incident_id  TEXT NOT NULL,               -- ties 110, IVR and 12345 legs (LINKEDID-based)
    leg          TEXT NOT NULL,               -- 110 | ivr | 12345
    channel      TEXT,
    caller_raw   TEXT,
    caller_e164  TEXT,
    agent        TEXT,                        -- call-taker / agent id
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    outcome      TEXT,                        -- answered, overflowed, transferred, abandoned ...
    triage       TEXT                         -- triage result JSON, when classified
);
CREATE INDEX IF NOT EXISTS calls_incident ON calls(incident_id);
CREATE INDEX IF NOT EXISTS calls_started ON calls(started_at);
CREATE INDEX IF NOT EXISTS calls_caller ON calls(caller_e164);

CREATE TABLE IF NOT EXISTS call_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,
    incident_id  TEXT NOT NULL,
    call_id      TEXT,
    type         TEXT NOT NULL,               -- start, queued, overflowed, transferred, joined, left, hungup
    at           TEXT NOT NULL,
    data         TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS call_events_incident ON call_events(incident_id, seq);

-- Audio files. Retention deletes the file and sets deleted_at; the row stays.
CREATE TABLE IF NOT EXISTS recordings (
    recording_id TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL,
    call_id      TEXT,
    leg          TEXT NOT NULL,               -- 110 | ivr | 12345
    side         TEXT NOT NULL,               -- caller | taker | mix
    path         TEXT NOT NULL,               -- relative to recordings.dir
    duration_s   REAL,
    created_at   TEXT NOT NULL,
    deleted_at   TEXT
);
CREATE INDEX IF NOT EXISTS recordings_incident ON recordings(incident_id);

-- Transcripts: one per recording (or per merged incident leg); segments is the JSON of
-- speech.transcript (words with start/end/speaker/conf).
CREATE TABLE IF NOT EXISTS transcripts (
    transcript_id TEXT PRIMARY KEY,
    incident_id   TEXT NOT NULL,
    recording_id  TEXT,
    text          TEXT NOT NULL,
    segments      TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transcripts_incident ON transcripts(incident_id);

-- Full-text search over transcripts (trigram works for Chinese without a segmenter).
CREATE VIRTUAL TABLE IF NOT EXISTS transcripts_fts USING fts5(
    text, transcript_id UNINDEXED, incident_id UNINDEXED, tokenize = 'trigram'
);
