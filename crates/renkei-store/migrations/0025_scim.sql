-- Provisioning with SCIM 2.0 (issue 24): one bearer token per organization, kept as its
-- SHA-256 hash, and the identity provider's externalId of each provisioned user. Portable:
-- the same text runs on SQLite and PostgreSQL.
CREATE TABLE scim_tokens (
    org_id        TEXT PRIMARY KEY REFERENCES organizations(id),
    id            TEXT NOT NULL UNIQUE,
    token_hash    TEXT NOT NULL UNIQUE,
    created_by    TEXT,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);

CREATE TABLE scim_users (
    user_id      TEXT PRIMARY KEY REFERENCES users(id),
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    external_id  TEXT NOT NULL
);

CREATE UNIQUE INDEX scim_users_external ON scim_users (org_id, external_id);
