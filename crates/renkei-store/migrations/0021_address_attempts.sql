-- Sign-in attempts per client address, in fixed windows, shared by every node (the limit
-- holds behind a load balancer). Rows whose window has passed are dropped now and then.
-- Portable: the same text runs on SQLite and PostgreSQL.
CREATE TABLE address_attempts (
    address       TEXT PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    attempts      BIGINT NOT NULL
);

CREATE INDEX address_attempts_window ON address_attempts (window_start);
