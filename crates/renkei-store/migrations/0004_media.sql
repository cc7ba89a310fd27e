-- Media (photos, videos, files): metadata, the sealed data keys of their objects, and the
-- conversations they were posted in. Portable: the same text runs on SQLite and PostgreSQL.

CREATE TABLE media (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    uploader_id    TEXT NOT NULL REFERENCES users (id),
    kind           TEXT NOT NULL,
    mime           TEXT NOT NULL,
    name           TEXT NOT NULL,
    size           BIGINT NOT NULL,
    width          BIGINT,
    height         BIGINT,
    has_thumbnail  BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    -- Set when the keys were destroyed; the bytes are unreadable from then on.
    expired_at     BIGINT,
    -- Set when the encrypted bytes were removed too.
    purged_at      BIGINT
);
CREATE INDEX media_due ON media (expires_at) WHERE expired_at IS NULL;
CREATE INDEX media_unpurged ON media (expired_at) WHERE purged_at IS NULL;

-- One row per stored object (the medium, its thumbnail): its data key, sealed by a master key.
-- Deleting the row destroys the object, even in a backup of the object store.
CREATE TABLE media_keys (
    object_id    TEXT PRIMARY KEY,
    media_id     TEXT NOT NULL REFERENCES media (id),
    key_version  BIGINT NOT NULL,
    sealed       TEXT NOT NULL
);
CREATE INDEX media_keys_by_media ON media_keys (media_id);

CREATE TABLE media_links (
    media_id         TEXT NOT NULL REFERENCES media (id),
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    seq              BIGINT NOT NULL,
    PRIMARY KEY (media_id, conversation_id, seq)
);
CREATE INDEX media_links_by_conversation ON media_links (conversation_id);
