-- The staff directory: one normalized search document per user (built by renkei, since
-- folding widths and kana needs Unicode tables), indexed with FTS5 trigrams so any 3+
-- character part matches; 1-2 character queries scan with LIKE. Writes to users,
-- departments and organizations mark the affected users dirty; a search first rebuilds
-- their documents, so every write path keeps the directory true.

CREATE TABLE directory_entries (
    user_id   TEXT PRIMARY KEY REFERENCES users (id),
    org_id    TEXT NOT NULL,
    active    BIGINT NOT NULL,
    sort_key  TEXT NOT NULL,
    doc       TEXT NOT NULL
);
CREATE INDEX directory_by_org ON directory_entries (org_id, active, sort_key);

CREATE TABLE directory_dirty (
    user_id  TEXT PRIMARY KEY,
    stamp    BIGINT NOT NULL
);

CREATE VIRTUAL TABLE directory_fts USING fts5(doc, content = 'directory_entries', content_rowid = 'rowid', tokenize = 'trigram');
CREATE TRIGGER directory_fts_insert AFTER INSERT ON directory_entries BEGIN
    INSERT INTO directory_fts (rowid, doc) VALUES (new.rowid, new.doc);
END;
CREATE TRIGGER directory_fts_update AFTER UPDATE OF doc ON directory_entries BEGIN
    INSERT INTO directory_fts (directory_fts, rowid, doc) VALUES ('delete', old.rowid, old.doc);
    INSERT INTO directory_fts (rowid, doc) VALUES (new.rowid, new.doc);
END;
CREATE TRIGGER directory_fts_delete AFTER DELETE ON directory_entries BEGIN
    INSERT INTO directory_fts (directory_fts, rowid, doc) VALUES ('delete', old.rowid, old.doc);
END;

CREATE TRIGGER directory_user_insert AFTER INSERT ON users BEGIN
    INSERT OR IGNORE INTO directory_dirty (user_id, stamp) VALUES (new.id, 1);
END;
CREATE TRIGGER directory_user_update AFTER UPDATE OF org_id, login, display_name, kana, romaji,
    profession, department_id, email, phone, status ON users BEGIN
    INSERT OR IGNORE INTO directory_dirty (user_id, stamp) VALUES (new.id, 1);
END;
CREATE TRIGGER directory_department_update AFTER UPDATE OF name ON departments BEGIN
    INSERT OR IGNORE INTO directory_dirty (user_id, stamp)
        SELECT id, 1 FROM users WHERE department_id = new.id;
END;
CREATE TRIGGER directory_org_update AFTER UPDATE OF name, slug ON organizations BEGIN
    INSERT OR IGNORE INTO directory_dirty (user_id, stamp)
        SELECT id, 1 FROM users WHERE org_id = new.id;
END;

INSERT INTO directory_dirty (user_id, stamp) SELECT id, 1 FROM users;
