-- Passkeys (WebAuthn): each user's registered credentials, and the challenges handed out for
-- registering or signing in with one. Portable: the same text runs on SQLite and PostgreSQL.

-- A credential as webauthn-rs keeps it (public key, signature counter, flags: JSON, no
-- secret), found by its credential id (base64url). `cloned_at` is set when an assertion came
-- with a counter that went backwards: the credential is refused from then on.
CREATE TABLE passkeys (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id),
    credential_id  TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    credential     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT,
    cloned_at      BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A ceremony's server-side state (webauthn-rs JSON, holding the challenge), spent once:
-- `register` for the user who asked, `assert` for anyone (the credential names the user).
CREATE TABLE passkey_challenges (
    id          TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL,
    user_id     TEXT,
    state       TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX passkey_challenges_expiry ON passkey_challenges (expires_at);
