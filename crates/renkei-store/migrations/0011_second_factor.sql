-- Second factor: a TOTP secret per user, sealed with the master key and kept beside the
-- credentials (never in the `users` row), single-use recovery codes kept as hashes, and
-- whether a session has passed its second factor. Portable: the same text runs on SQLite and
-- PostgreSQL.

-- One row per user who started enrolling; `confirmed_at` is set once a first code matched
-- (from then on the user is enrolled). `last_step` is the newest TOTP step accepted, so a
-- code is accepted at most once.
CREATE TABLE second_factors (
    user_id       TEXT PRIMARY KEY REFERENCES users (id),
    key_version   BIGINT NOT NULL,
    sealed        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT,
    last_step     BIGINT
);

-- SHA-256 of each recovery code (with the user id); `used_at` once spent.
CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- 1 once the session's user entered a TOTP or recovery code (or enrolled) in it.
ALTER TABLE sessions ADD COLUMN second_factor_done BIGINT NOT NULL DEFAULT 0;
