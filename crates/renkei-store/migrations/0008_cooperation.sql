-- Cooperation between organizations: agreements with scopes, and regional councils.
-- Portable: the same text runs on SQLite and PostgreSQL.

CREATE TABLE agreements (
    id               TEXT PRIMARY KEY,
    proposer_org_id  TEXT NOT NULL REFERENCES organizations (id),
    partner_org_id   TEXT NOT NULL REFERENCES organizations (id),
    -- "<lower id>:<higher id>": at most one open (proposed or active) agreement per pair.
    pair_key         TEXT NOT NULL,
    -- Comma-separated: directory, messaging, images.
    scopes           TEXT NOT NULL,
    status           TEXT NOT NULL,
    council_id       TEXT REFERENCES organizations (id),
    proposed_by      TEXT,
    proposed_at      BIGINT NOT NULL,
    accepted_by      TEXT,
    accepted_at      BIGINT,
    revoked_by       TEXT,
    revoked_at       BIGINT
);
CREATE UNIQUE INDEX agreements_open_pair ON agreements (pair_key) WHERE status <> 'revoked';
CREATE INDEX agreements_by_proposer ON agreements (proposer_org_id, status);
CREATE INDEX agreements_by_partner ON agreements (partner_org_id, status);
CREATE INDEX agreements_by_council ON agreements (council_id, status);

-- Hospitals a council has invited, and whether each opted in.
CREATE TABLE council_members (
    council_id  TEXT NOT NULL REFERENCES organizations (id),
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    status      TEXT NOT NULL,
    updated_by  TEXT,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (council_id, org_id)
);
CREATE INDEX council_members_by_org ON council_members (org_id);

-- The scopes of a council's agreements, once its admin created them; later opt-ins get the same.
CREATE TABLE council_scopes (
    council_id  TEXT PRIMARY KEY REFERENCES organizations (id),
    scopes      TEXT NOT NULL,
    set_by      TEXT,
    set_at      BIGINT NOT NULL
);
