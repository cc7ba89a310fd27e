-- Conversations, members, the numbered timeline of events, and messages in their current state.
-- Portable: the same text runs on SQLite and PostgreSQL.

CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    kind        TEXT NOT NULL,
    title       TEXT,
    -- "<lower id>:<higher id>" for direct conversations, so each pair has one.
    direct_key  TEXT UNIQUE,
    created_by  TEXT REFERENCES users (id),
    -- The newest event's number; the next event takes last_seq + 1 in the same transaction.
    last_seq    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE conversation_members (
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    user_id          TEXT NOT NULL REFERENCES users (id),
    role             TEXT NOT NULL,
    joined_seq       BIGINT NOT NULL,
    last_read_seq    BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_by_user ON conversation_members (user_id);

CREATE TABLE conversation_events (
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    seq              BIGINT NOT NULL,
    kind             TEXT NOT NULL,
    actor_id         TEXT,
    data             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE messages (
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    seq              BIGINT NOT NULL,
    id               TEXT NOT NULL UNIQUE,
    sender_id        TEXT NOT NULL REFERENCES users (id),
    client_msg_id    TEXT NOT NULL,
    body             TEXT NOT NULL,
    reply_to         BIGINT,
    priority         TEXT NOT NULL,
    mentions         TEXT NOT NULL,
    attachments      TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    edited_at        BIGINT,
    deleted_at       BIGINT,
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (sender_id, client_msg_id)
);
