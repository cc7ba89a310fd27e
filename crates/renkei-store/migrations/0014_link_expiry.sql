-- A conversation's shorter retention hides what was posted in it, in that conversation only:
-- each link of a medium or study to a message carries its own expiry (the message's time plus
-- the conversation's retention; NULL when the conversation has none), and `expired_at` once
-- the sweep has hidden it. The object itself (its keys and bytes) expires only with its own
-- organization's retention. Portable: the same text runs on SQLite and PostgreSQL.

ALTER TABLE media_links ADD COLUMN expires_at BIGINT;
ALTER TABLE media_links ADD COLUMN expired_at BIGINT;
ALTER TABLE study_links ADD COLUMN expires_at BIGINT;
ALTER TABLE study_links ADD COLUMN expired_at BIGINT;

UPDATE media_links SET expires_at = (
    SELECT m.created_at + c.retention_days * 86400000
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.conversation_id = media_links.conversation_id AND m.seq = media_links.seq);
UPDATE study_links SET expires_at = (
    SELECT m.created_at + c.retention_days * 86400000
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE m.conversation_id = study_links.conversation_id AND m.seq = study_links.seq);

CREATE INDEX media_links_due ON media_links (expires_at) WHERE expired_at IS NULL;
CREATE INDEX study_links_due ON study_links (expires_at) WHERE expired_at IS NULL;
