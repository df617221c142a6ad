-- One job mechanism (docs/JOBS.md) (sqlite). Kept in step with migrations/postgres/0008_jobs.sql.

-- Platform mail is claimed as every other job table is (db/lease.rs): a row is due at
-- next_attempt_at and held by lease_until while an attempt is in flight; status is pending,
-- sent or failed. A new row's next_attempt_at defaults to '', which sorts before every
-- timestamp: due at once. claimed_at is no longer read or written. A mail that was being sent
-- when this ran is simply due again.
ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN lease_until TEXT;
UPDATE outbox SET next_attempt_at = created_at;
UPDATE outbox SET status = 'pending' WHERE status = 'sending';
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- Triggers on a project's own Pusher app, one per notification, worked off beside the engine so
-- a Pusher that never answers delays only its own project. status: pending (waiting for
-- due_at), sent, failed; lease_until holds a claimed row while its trigger is in flight.
CREATE TABLE pusher_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    notification_id TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    due_at TEXT NOT NULL,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (notification_id)
);
CREATE INDEX pusher_jobs_due ON pusher_jobs (status, due_at);

-- Claims go round-robin across projects (db/lease.rs): the first index finds the next project
-- with pending rows in one step and its oldest due rows in another; the partial one counts each
-- project's rows in flight without reading its queue.
CREATE INDEX webhook_messages_project_due ON webhook_messages (status, project_id, next_attempt_at);
CREATE INDEX webhook_messages_leased ON webhook_messages (project_id) WHERE lease_until IS NOT NULL;
CREATE INDEX push_jobs_project_due ON push_jobs (status, project_id, due_at);
CREATE INDEX push_jobs_leased ON push_jobs (project_id) WHERE lease_until IS NOT NULL;
CREATE INDEX pusher_jobs_project_due ON pusher_jobs (status, project_id, due_at);
CREATE INDEX pusher_jobs_leased ON pusher_jobs (project_id) WHERE lease_until IS NOT NULL;
