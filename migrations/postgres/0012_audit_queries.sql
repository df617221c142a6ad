-- The audit log's pages and exports walk a project's rows by id (UUIDv7, time-ordered); the
-- retention sweep finds old rows by time across all projects.
CREATE INDEX audit_logs_project_id ON audit_logs (project_id, id);
CREATE INDEX audit_logs_time ON audit_logs (timestamp);
