-- Each member's own notification setting for a conversation: all, mentions, or mute.
ALTER TABLE conversation_members ADD COLUMN notify TEXT NOT NULL DEFAULT 'all';
