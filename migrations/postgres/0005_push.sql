-- Mobile push (FCM, APNs) (PostgreSQL). Kept in step with migrations/sqlite/0005_push.sql.
-- A project's push credentials (the service account JSON and the APNs signing key are sealed
-- with Keys::seal, never hashed: the worker must read them back to sign), and the push jobs the
-- presence-aware fallback queues: one per (notification, recipient), so publishing twice queues
-- nothing new.

CREATE TABLE push_credentials (
    project_id TEXT PRIMARY KEY NOT NULL REFERENCES projects (id),
    fcm_sealed TEXT,
    fcm_project_id TEXT,
    fcm_client_email TEXT,
    apns_sealed TEXT,
    apns_team_id TEXT,
    apns_key_id TEXT,
    apns_topic TEXT,
    apns_sandbox BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- status: pending (waiting for due_at), sent, failed, skipped (acknowledged in time, no token,
-- no credentials). reason: offline (no live socket when published) or ack_timeout (connected but
-- not acknowledged in time). A worker claims a due job by setting lease_until; a lease that runs
-- out (the process died) makes it due again.
CREATE TABLE push_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    notification_id TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    due_at TEXT NOT NULL,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (notification_id, user_id)
);
CREATE INDEX push_jobs_due ON push_jobs (status, due_at);
