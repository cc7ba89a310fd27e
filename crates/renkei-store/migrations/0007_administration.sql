-- Administration: more user fields, the organization's invite link for applications, seat
-- snapshots, and usage counters kept up to date by the transactions that create things.

ALTER TABLE users ADD COLUMN staff_number TEXT;
ALTER TABLE users ADD COLUMN affiliations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN second_factor_required BIGINT NOT NULL DEFAULT 0;
-- NULLs are distinct in both databases: many users may have no staff number.
CREATE UNIQUE INDEX users_staff_number ON users (org_id, staff_number);

-- One invite link per organization; rotating replaces the token.
CREATE TABLE org_invites (
    org_id      TEXT PRIMARY KEY REFERENCES organizations (id),
    token       TEXT NOT NULL UNIQUE,
    created_by  TEXT,
    created_at  BIGINT NOT NULL
);

-- Active users per organization and profession, written whenever they may have changed
-- (in the same transaction); a day without a row carries the last value before it.
-- `peak` is the day's highest count, `active` the latest.
CREATE TABLE seat_days (
    org_id      TEXT NOT NULL,
    day         TEXT NOT NULL,
    profession  TEXT NOT NULL,
    active      BIGINT NOT NULL,
    peak        BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, profession)
);

-- Counts of things created per organization, UTC day, metric and department ('' for none),
-- incremented in the transaction that creates each thing: statistics never scan messages.
CREATE TABLE usage_counts (
    org_id         TEXT NOT NULL,
    day            TEXT NOT NULL,
    metric         TEXT NOT NULL,
    department_id  TEXT NOT NULL,
    n              BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, metric, department_id)
);
