-- Webhooks to the client (PostgreSQL). Kept in step with migrations/sqlite/0004_webhooks.sql.
-- A project's endpoint, the messages waiting to be delivered (so a restart loses none), and one
-- log row per delivery attempt (SPEC §4.10). Signing secrets are encrypted (Keys::seal), not
-- hashed: the worker must read them back to sign.

CREATE TABLE webhook_endpoints (
    project_id TEXT PRIMARY KEY NOT NULL REFERENCES projects (id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    disabled_reason TEXT,
    secret_sealed TEXT NOT NULL,
    previous_secret_sealed TEXT,
    previous_secret_expires_at TEXT,
    failing_since TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- status: pending (waiting for next_attempt_at), delivered, failed. A worker claims a due
-- message by setting lease_until; a lease that runs out (the process died) makes it due again.
CREATE TABLE webhook_messages (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    lease_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhook_messages_due ON webhook_messages (status, next_attempt_at);

CREATE TABLE webhook_logs (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    message_id TEXT NOT NULL REFERENCES webhook_messages (id),
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    url TEXT NOT NULL,
    response_status BIGINT,
    response_body TEXT,
    attempt_number BIGINT NOT NULL,
    success BIGINT NOT NULL,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX webhook_logs_project ON webhook_logs (project_id, id);
