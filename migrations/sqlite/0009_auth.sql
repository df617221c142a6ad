-- Users who registered themselves with the publishable key alone: a sync that later adopts such
-- a row resets the credentials a stranger could have set (password, push tokens, roles).
ALTER TABLE users ADD COLUMN self_registered INTEGER NOT NULL DEFAULT 0;
