-- Single sign-on with OpenID Connect (issue 24). Portable: the same text runs on SQLite and
-- PostgreSQL.
-- An organization's provider: its settings (JSON: issuer, client id, claim mapping, policies,
-- break-glass accounts) and its client secret, sealed with a data key under the master key.
CREATE TABLE sso_configs (
    org_id         TEXT PRIMARY KEY REFERENCES organizations(id),
    settings       TEXT NOT NULL,
    key_version    BIGINT NOT NULL,
    wrapped_key    TEXT NOT NULL,
    sealed_secret  TEXT NOT NULL,
    version        BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

-- Sign-ins under way: state (by hash), nonce, PKCE verifier and the browser they started in;
-- taken (deleted) by the callback, so a state works once.
CREATE TABLE sso_flows (
    state_hash     TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    browser_hash   TEXT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX sso_flows_expiry ON sso_flows (expires_at);

-- Who the provider's (issuer, subject) is in renkei: one account each, never a second.
CREATE TABLE sso_links (
    issuer      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX sso_links_user ON sso_links (user_id);

-- Sessions opened through the provider, with its session id (`sid`) for back-channel logout.
CREATE TABLE sso_sessions (
    session_id  TEXT PRIMARY KEY,
    issuer      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    sid         TEXT
);
CREATE INDEX sso_sessions_subject ON sso_sessions (issuer, subject);

-- Token ids (`jti` of logout tokens, nonces of ID tokens) already used, until they expire.
CREATE TABLE sso_used_tokens (
    issuer      TEXT NOT NULL,
    token_id    TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (issuer, token_id)
);
