-- Per-device redaction rules (issue 23): rectangles blanked in every frame of images from a
-- device (Manufacturer, Model, Rows × Columns, optionally Modality), at ingest on the server
-- and on the gateway. Rectangles as JSON. Portable: the same text runs on SQLite and PostgreSQL.
CREATE TABLE redaction_rules (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    manufacturer  TEXT NOT NULL,
    model         TEXT NOT NULL,
    rows_count    BIGINT NOT NULL,
    columns_count BIGINT NOT NULL,
    modality      TEXT,
    rectangles    TEXT NOT NULL,
    version       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX redaction_rules_org ON redaction_rules (org_id);
