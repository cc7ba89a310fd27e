-- Urgent messages that nobody can miss (issue 19): one row per urgent message and recipient,
-- re-alerted until acknowledged and escalated to a covering colleague. The schedule lives
-- here, not in memory: a restart loses no alert, and on PostgreSQL due rows are claimed with
-- FOR UPDATE SKIP LOCKED so two nodes never both alert. Portable SQL.
CREATE TABLE urgent_alerts (
    conversation_id  TEXT NOT NULL,
    seq              BIGINT NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id),
    sender_id        TEXT NOT NULL REFERENCES users (id),
    created_at       BIGINT NOT NULL,
    -- Alerts sent so far (the first push counts as one).
    alerts_sent      BIGINT NOT NULL,
    -- When the next re-alert is due; NULL once acknowledged or out of re-alerts.
    next_alert_at    BIGINT,
    -- When escalation is due; NULL once acknowledged or escalated.
    escalate_at      BIGINT,
    acknowledged_at  BIGINT,
    escalated_at     BIGINT,
    escalated_to     TEXT REFERENCES users (id),
    PRIMARY KEY (conversation_id, seq, user_id)
);
CREATE INDEX urgent_alerts_next ON urgent_alerts (next_alert_at);
CREATE INDEX urgent_alerts_escalate ON urgent_alerts (escalate_at);

-- The user a department's urgent messages escalate to when a member names no covering
-- colleague (set by an admin).
ALTER TABLE departments ADD COLUMN on_call_user_id TEXT REFERENCES users (id);
