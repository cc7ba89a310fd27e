-- The staff directory: one normalized search document per user (built by renkei, since
-- folding widths and kana needs Unicode tables), indexed with pg_trgm so LIKE '%…%' uses
-- the index for 3+ characters. Writes to users, departments and organizations mark the
-- affected users dirty (bumping a stamp, so a rebuild racing a write never loses it); a
-- search first rebuilds their documents, so every write path keeps the directory true.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE directory_entries (
    user_id   TEXT PRIMARY KEY REFERENCES users (id),
    org_id    TEXT NOT NULL,
    active    BIGINT NOT NULL,
    sort_key  TEXT NOT NULL,
    doc       TEXT NOT NULL
);
CREATE INDEX directory_by_org ON directory_entries (org_id, active, sort_key);
CREATE INDEX directory_doc_trgm ON directory_entries USING gin (doc gin_trgm_ops);

CREATE TABLE directory_dirty (
    user_id  TEXT PRIMARY KEY,
    stamp    BIGINT NOT NULL
);

CREATE FUNCTION directory_mark_user() RETURNS trigger AS $$
BEGIN
    INSERT INTO directory_dirty (user_id, stamp) VALUES (NEW.id, 1)
        ON CONFLICT (user_id) DO UPDATE SET stamp = directory_dirty.stamp + 1;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION directory_mark_department() RETURNS trigger AS $$
BEGIN
    INSERT INTO directory_dirty (user_id, stamp)
        SELECT id, 1 FROM users WHERE department_id = NEW.id
        ON CONFLICT (user_id) DO UPDATE SET stamp = directory_dirty.stamp + 1;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION directory_mark_org() RETURNS trigger AS $$
BEGIN
    INSERT INTO directory_dirty (user_id, stamp)
        SELECT id, 1 FROM users WHERE org_id = NEW.id
        ON CONFLICT (user_id) DO UPDATE SET stamp = directory_dirty.stamp + 1;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER directory_user_insert AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION directory_mark_user();
CREATE TRIGGER directory_user_update AFTER UPDATE OF org_id, login, display_name, kana, romaji,
    profession, department_id, email, phone, status ON users
    FOR EACH ROW EXECUTE FUNCTION directory_mark_user();
CREATE TRIGGER directory_department_update AFTER UPDATE OF name ON departments
    FOR EACH ROW EXECUTE FUNCTION directory_mark_department();
CREATE TRIGGER directory_org_update AFTER UPDATE OF name, slug ON organizations
    FOR EACH ROW EXECUTE FUNCTION directory_mark_org();

INSERT INTO directory_dirty (user_id, stamp) SELECT id, 1 FROM users;
