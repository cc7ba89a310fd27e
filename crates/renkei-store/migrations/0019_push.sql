-- Web Push (issue 19): each browser's subscription, the server's sealed VAPID key, each
-- user's quiet hours and covering colleague, and how far each member's devices got.
-- Portable: the same text runs on SQLite and PostgreSQL.

-- One row per browser subscription. `endpoint` is where the push service takes pushes for
-- it (an allow-listed host only); `p256dh` and `auth` (base64url) are its encryption keys.
-- `session_id` is the session that registered it: signing out removes it. `failing_since`
-- is set by the first failed push and cleared by a success; a week of failures drops it.
CREATE TABLE push_subscriptions (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users (id),
    session_id       TEXT,
    endpoint         TEXT NOT NULL UNIQUE,
    p256dh           TEXT NOT NULL,
    auth             TEXT NOT NULL,
    device_label     TEXT,
    expiration_time  BIGINT,
    created_at       BIGINT NOT NULL,
    last_pushed_at   BIGINT,
    failing_since    BIGINT
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_by_session ON push_subscriptions (session_id);

-- Key pairs the server made for itself, sealed with the master key (the VAPID key, 'vapid').
CREATE TABLE server_keys (
    name         TEXT PRIMARY KEY,
    key_version  BIGINT NOT NULL,
    sealed       TEXT NOT NULL,
    public_key   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- A user's own notification settings: do-not-disturb hours (minutes after local midnight,
-- in the user's UTC offset; urgent messages pass) and the colleague who covers them.
CREATE TABLE notification_settings (
    user_id             TEXT PRIMARY KEY REFERENCES users (id),
    dnd_start_minute    BIGINT,
    dnd_end_minute      BIGINT,
    utc_offset_minutes  BIGINT NOT NULL,
    covering_user_id    TEXT REFERENCES users (id),
    updated_at          BIGINT NOT NULL
);

-- How far each member's devices got, as marks like `last_read_seq`: the push service
-- accepted a push up to `pushed_seq`; a device showed or received up to `delivered_seq`.
ALTER TABLE conversation_members ADD COLUMN pushed_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversation_members ADD COLUMN delivered_seq BIGINT NOT NULL DEFAULT 0;
