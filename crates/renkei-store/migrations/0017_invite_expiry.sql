-- Invite links expire (14 days unless chosen otherwise) and can be revoked; a revoked link
-- keeps its row so the sign-up page can say so. Links made before this expire 14 days after
-- they were made.
ALTER TABLE org_invites ADD COLUMN expires_at BIGINT;
ALTER TABLE org_invites ADD COLUMN revoked_at BIGINT;
UPDATE org_invites SET expires_at = created_at + 1209600000;
