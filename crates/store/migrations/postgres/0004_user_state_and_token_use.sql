-- Users can be disabled or deleted (a tombstone: contacts and events keep
-- naming them), and API tokens remember when they were last used. The
-- SQLite twin (migrations/sqlite) has the same columns.

ALTER TABLE users ADD COLUMN state TEXT NOT NULL DEFAULT 'active';

-- Set by `Change::TouchToken` only (at most once a minute per token), never
-- by a put, so that renaming a token cannot move it back.
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;

-- A workspace's API tokens are listed, and a user's tokens all deleted.
CREATE INDEX tokens_by_user ON tokens (workspace_id, user_id);
