-- Edge gateways: machines inside a hospital's network that receive DICOM there, de-identify it
-- and forward it over HTTPS. Each authenticates with a long-lived token kept only as SHA-256.
-- Portable: the same text runs on SQLite and PostgreSQL.

CREATE TABLE gateways (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT,
    UNIQUE (org_id, name)
);
