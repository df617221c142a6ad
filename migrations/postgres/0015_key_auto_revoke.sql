-- A key may revoke itself after so many wrong secrets in a row (docs/SECURITY.md); NULL: never.
ALTER TABLE project_api_keys ADD COLUMN auto_revoke_after_failures INTEGER;
-- Wrong secrets in a row since the last right one, counted only for keys that revoke themselves.
ALTER TABLE project_api_keys ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
