-- Directory keys: one row per key of a user's search document (name and its parts, readings,
-- romaji, login, e-mail, phone, profession, department, hospital), so exact matches are a
-- B-tree lookup and key prefixes a B-tree range (byte order: COLLATE "C"), and broad searches
-- over a whole region page through users in reading order instead of ranking every match.
-- Kept by the same rebuild as the documents; every document is rebuilt once to fill it.
CREATE TABLE directory_keys (
    key      TEXT COLLATE "C" NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (key, user_id)
);
CREATE INDEX directory_keys_by_user ON directory_keys (user_id);

-- Users in reading order (byte order, like SQLite), for walking the whole scope.
ALTER TABLE directory_entries ALTER COLUMN sort_key TYPE TEXT COLLATE "C";
CREATE INDEX directory_by_sort ON directory_entries (active, sort_key, user_id);
DROP INDEX directory_by_org;
CREATE INDEX directory_by_org ON directory_entries (org_id, active, sort_key, user_id);

INSERT INTO directory_dirty (user_id, stamp) SELECT id, 1 FROM users
    ON CONFLICT (user_id) DO UPDATE SET stamp = directory_dirty.stamp + 1;
