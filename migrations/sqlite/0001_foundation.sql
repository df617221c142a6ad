-- Foundation schema (SQLite). Kept in step with migrations/postgres by a test comparing both schemas.
-- Times are RFC 3339 UTC text with a fixed width (sortable); JSON is text; flags are integers.

CREATE TABLE platform_admins (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    last_login_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE projects (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    plan TEXT NOT NULL,
    logo_url TEXT,
    brand_color TEXT,
    custom_domain TEXT UNIQUE,
    billing_email TEXT,
    quota_events_per_month INTEGER,
    quota_notifications_per_month INTEGER,
    quota_users INTEGER,
    settings TEXT NOT NULL,
    owner_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_event_at TEXT
);

CREATE TABLE project_api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    permissions TEXT NOT NULL,
    status TEXT NOT NULL,
    last_used_at TEXT,
    expires_at TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX project_api_keys_project_status ON project_api_keys (project_id, status);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    email TEXT,
    phone TEXT,
    password_hash TEXT,
    roles TEXT NOT NULL,
    status TEXT NOT NULL,
    external_user_id TEXT,
    metadata TEXT NOT NULL,
    push_tokens TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (project_id, email),
    UNIQUE (project_id, external_user_id)
);

CREATE TABLE events (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    source TEXT,
    client_event_id TEXT,
    client_timestamp TEXT,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL,
    processed_at TEXT,
    error TEXT,
    enqueued INTEGER NOT NULL,
    UNIQUE (project_id, client_event_id)
);
CREATE INDEX events_project_type_received ON events (project_id, type, received_at);
CREATE INDEX events_status_enqueued ON events (status, enqueued);

CREATE TABLE audit_logs (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT,
    actor_type TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT,
    metadata TEXT NOT NULL,
    ip_address TEXT,
    user_agent TEXT,
    timestamp TEXT NOT NULL
);
CREATE INDEX audit_logs_project_time ON audit_logs (project_id, timestamp);
CREATE INDEX audit_logs_project_actor_time ON audit_logs (project_id, actor_id, timestamp);
