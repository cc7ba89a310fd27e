-- DICOM: the peers allowed to send, each organization's de-identification secret, and the
-- index of received (de-identified) studies, series and instances.
-- Portable: the same text runs on SQLite and PostgreSQL.

CREATE TABLE dicom_peers (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    ae_title    TEXT NOT NULL UNIQUE,
    -- Comma-separated addresses or CIDR ranges; empty allows any address.
    allow       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Secrets per organization (e.g. the key that remaps DICOM UIDs), sealed by the master key.
CREATE TABLE org_secrets (
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    purpose      TEXT NOT NULL,
    key_version  BIGINT NOT NULL,
    sealed       TEXT NOT NULL,
    PRIMARY KEY (org_id, purpose)
);

CREATE TABLE studies (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations (id),
    study_uid       TEXT NOT NULL,
    patient_tail    TEXT NOT NULL,
    study_date      TEXT,
    modalities      TEXT NOT NULL,
    body_part       TEXT,
    description     TEXT,
    burned_in_risk  BIGINT NOT NULL,
    series_count    BIGINT NOT NULL,
    instance_count  BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    expired_at      BIGINT,
    purged_at       BIGINT,
    UNIQUE (org_id, study_uid)
);
CREATE INDEX studies_by_org ON studies (org_id, created_at);

CREATE TABLE series (
    study_id        TEXT NOT NULL REFERENCES studies (id),
    series_uid      TEXT NOT NULL,
    modality        TEXT,
    series_number   BIGINT,
    description     TEXT,
    body_part       TEXT,
    instance_count  BIGINT NOT NULL,
    PRIMARY KEY (study_id, series_uid)
);

CREATE TABLE instances (
    study_id         TEXT NOT NULL REFERENCES studies (id),
    series_uid       TEXT NOT NULL,
    sop_uid          TEXT NOT NULL,
    sop_class        TEXT NOT NULL,
    instance_number  BIGINT,
    frames           BIGINT NOT NULL,
    transfer_syntax  TEXT NOT NULL,
    size             BIGINT NOT NULL,
    -- The encrypted object holding the de-identified file.
    object_id        TEXT NOT NULL,
    -- The sealed data key of the stored object; NULL once destroyed.
    key_version      BIGINT,
    sealed_key       TEXT,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (study_id, sop_uid)
);
CREATE INDEX instances_by_series ON instances (study_id, series_uid, instance_number);

-- Conversations a study was shared into (as a message attachment).
CREATE TABLE study_links (
    study_id         TEXT NOT NULL REFERENCES studies (id),
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    seq              BIGINT NOT NULL,
    PRIMARY KEY (study_id, conversation_id, seq)
);
CREATE INDEX study_links_by_conversation ON study_links (conversation_id);
