-- The organizations a conversation was counted for as cross-organization (statistics):
-- each at most once per conversation, however often its members leave and come back.
CREATE TABLE cross_org_counted (
    conversation_id  TEXT NOT NULL,
    org_id           TEXT NOT NULL,
    PRIMARY KEY (conversation_id, org_id)
);

-- Conversations from before: every organization that ever had a member in one that spans
-- more than one counts as counted already (their first members were counted at creation).
INSERT INTO cross_org_counted (conversation_id, org_id)
WITH joined AS (
    SELECT conversation_id, (data::jsonb)->>'user_id' AS user_id
    FROM conversation_events WHERE kind = 'member.added'
    UNION SELECT conversation_id, user_id FROM conversation_members
), orgs AS (
    SELECT DISTINCT j.conversation_id, u.org_id FROM joined j JOIN users u ON u.id = j.user_id
)
SELECT o.conversation_id, o.org_id FROM orgs o
WHERE (SELECT COUNT(*) FROM orgs o2 WHERE o2.conversation_id = o.conversation_id) > 1;
