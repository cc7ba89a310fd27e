-- Messages sealed at rest (issue 24): a data key per conversation and day wraps every body,
-- edit and audit copy of that day (destroying it destroys them: retention), and a search key
-- per organization keys the search grams. Bodies stored before this are sealed once at
-- start-up, when the master key is at hand (`sealing_state` records when).
CREATE TABLE message_keys (
    conversation_id  TEXT NOT NULL REFERENCES conversations (id),
    epoch            BIGINT NOT NULL,
    key_version      BIGINT NOT NULL,
    sealed           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, epoch)
);
CREATE TABLE search_keys (
    org_id       TEXT PRIMARY KEY REFERENCES organizations (id),
    key_version  BIGINT NOT NULL,
    sealed       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE TABLE sealing_state (
    id           BIGINT PRIMARY KEY,
    resealed_at  BIGINT
);
INSERT INTO sealing_state (id, resealed_at) VALUES (1, NULL);
-- NULL: a body from before sealing, sealed at the next start-up.
ALTER TABLE messages ADD COLUMN key_epoch BIGINT;
-- The keyed grams the body is found by, space-separated (never text).
ALTER TABLE messages ADD COLUMN search_tokens TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_by_epoch ON messages (conversation_id, key_epoch);
-- The plaintext trigram index goes; the keyed one replaces it.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE message_tokens USING fts5(search_tokens, content = 'messages', content_rowid = 'rowid', tokenize = 'ascii');
-- Every existing row in the index (with no tokens yet), so the start-up sealing's updates
-- delete what the index holds.
INSERT INTO message_tokens (message_tokens) VALUES ('rebuild');
CREATE TRIGGER message_tokens_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_tokens (rowid, search_tokens) VALUES (new.rowid, new.search_tokens);
END;
CREATE TRIGGER message_tokens_update AFTER UPDATE OF search_tokens ON messages BEGIN
    INSERT INTO message_tokens (message_tokens, rowid, search_tokens) VALUES ('delete', old.rowid, old.search_tokens);
    INSERT INTO message_tokens (rowid, search_tokens) VALUES (new.rowid, new.search_tokens);
END;
CREATE TRIGGER message_tokens_delete AFTER DELETE ON messages BEGIN
    INSERT INTO message_tokens (message_tokens, rowid, search_tokens) VALUES ('delete', old.rowid, old.search_tokens);
END;
