-- Instances that may show patient information in their pixels (text found at ingest, or
-- Burned In Annotation YES) are held: their study is not shared until a user of the owning
-- organization redacts them or confirms them clean.
ALTER TABLE instances ADD COLUMN held BIGINT NOT NULL DEFAULT 0;
-- Where the text was found: a JSON array of {frame, x, y, width, height} in the frame's pixel
-- coordinates (never the text itself).
ALTER TABLE instances ADD COLUMN text_regions TEXT;
CREATE INDEX instances_held ON instances (study_id) WHERE held = 1;
