-- A conversation may keep its media and studies for fewer days than its organization's policy.
ALTER TABLE conversations ADD COLUMN retention_days BIGINT;
