-- Version 1: people, teams, tokens, device authorizations, browser sessions,
-- second-factor replay protection and idempotent creates.
-- Times are Unix nanoseconds (UTC).

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_sealed   BLOB NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE teams (
    id   INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE memberships (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    role    TEXT NOT NULL CHECK (role IN ('manager', 'member')),
    PRIMARY KEY (user_id, team_id)
);

CREATE TABLE tokens (
    id                  TEXT PRIMARY KEY,
    team_id             INTEGER NOT NULL REFERENCES teams(id),
    user_id             TEXT NOT NULL REFERENCES users(id),
    name                TEXT NOT NULL,
    client_type         TEXT NOT NULL CHECK (client_type IN ('cli', 'sdk', 'extension', 'agent', 'other')),
    prefix              TEXT NOT NULL,
    secret_hash         TEXT NOT NULL UNIQUE,
    created_at          INTEGER NOT NULL,
    last_used_at        INTEGER,
    expires_at          INTEGER,
    revoked_at          INTEGER,
    second_factor_until INTEGER
);
CREATE INDEX tokens_team_created ON tokens (team_id, created_at DESC, id DESC);

CREATE TABLE totp_used (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    step    INTEGER NOT NULL,
    used_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, step)
);

CREATE TABLE device_codes (
    device_hash  TEXT PRIMARY KEY,
    user_code    TEXT NOT NULL UNIQUE,
    client_id    TEXT NOT NULL,
    client_type  TEXT NOT NULL,
    device_name  TEXT NOT NULL,
    team_hint    TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    interval_s   INTEGER NOT NULL,
    last_poll_at INTEGER,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'consumed')),
    user_id      TEXT REFERENCES users(id) ON DELETE CASCADE,
    team_id      INTEGER REFERENCES teams(id) ON DELETE CASCADE,
    token_id     TEXT REFERENCES tokens(id)
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    csrf       TEXT NOT NULL,
    user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE idempotency (
    token_id     TEXT NOT NULL REFERENCES tokens(id),
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (token_id, key)
);
