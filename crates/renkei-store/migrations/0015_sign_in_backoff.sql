-- Sign-in back-off: wrong passwords counted per login as typed (normalised), whether or not
-- such a user exists, so the answers for known and unknown logins are the same. A wrong
-- password never ends a session; after a few, the next check waits until `wait_until`.
-- Rows quiet for a day are forgotten. Portable: the same text runs on SQLite and PostgreSQL.
CREATE TABLE sign_in_failures (
    login           TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failed_at  BIGINT NOT NULL,
    wait_until      BIGINT
);

CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failed_at);
