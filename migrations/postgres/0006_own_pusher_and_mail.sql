-- Projects' own Pusher apps and the platform's mail outbox (PostgreSQL). Kept in step with
-- migrations/sqlite/0006_own_pusher_and_mail.sql.

-- A project that brings its own Pusher app: its notifications are triggered on that app's HTTP
-- API instead of the built-in server. The secret is sealed (Keys::seal), never hashed: the worker
-- must read it back to sign. host and port NULL mean api-{cluster}.pusher.com and the scheme's port.
CREATE TABLE project_pusher_apps (
    project_id TEXT PRIMARY KEY NOT NULL REFERENCES projects (id),
    app_id TEXT NOT NULL,
    key TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    cluster TEXT NOT NULL,
    host TEXT,
    port BIGINT,
    use_tls BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Platform mail (to project owners, admins). Every mail is a row first, so none is lost; with
-- SMTP configured the mail worker sends it. status: pending, sending (claimed_at says since
-- when), sent, failed; error keeps the last failure.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    claimed_at TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    error TEXT
);
CREATE INDEX outbox_status ON outbox (status, created_at);
