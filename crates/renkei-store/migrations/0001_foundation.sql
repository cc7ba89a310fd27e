-- Organizations, departments, users, their secrets, sessions, and the audit chain.
-- Portable: the same text runs on SQLite and PostgreSQL. Times are Unix milliseconds.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    policy      TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE departments (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    org_id                TEXT NOT NULL REFERENCES organizations (id),
    login                 TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    kana                  TEXT NOT NULL,
    romaji                TEXT NOT NULL,
    profession            TEXT NOT NULL,
    department_id         TEXT REFERENCES departments (id),
    email                 TEXT,
    phone                 TEXT,
    roles                 TEXT NOT NULL,
    status                TEXT NOT NULL,
    must_change_password  BIGINT NOT NULL,
    version               BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX users_by_org ON users (org_id, display_name);

-- Secrets live apart from the user record, so no listing or audit diff can carry them.
CREATE TABLE credentials (
    user_id          TEXT PRIMARY KEY REFERENCES users (id),
    password_hash    TEXT NOT NULL,
    passcode_hash    TEXT,
    failed_attempts  BIGINT NOT NULL,
    locked_until     BIGINT
);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id),
    token_hash    TEXT NOT NULL UNIQUE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    locked        BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,
    at           BIGINT NOT NULL,
    org_id       TEXT,
    actor_id     TEXT,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL,
    target_id    TEXT,
    details      TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_by_org ON audit_log (org_id, seq);

-- The chain's last entry; appending updates it in the same transaction, which also
-- serializes appends, and verifying compares it so a removed tail shows.
CREATE TABLE audit_head (
    id    BIGINT PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
