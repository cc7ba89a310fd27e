-- Full-text search of message bodies: trigram index for ILIKE '%…%' in Japanese and English.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX messages_body_trgm ON messages USING gin (body gin_trgm_ops);
