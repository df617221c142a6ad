-- The notification engine (PostgreSQL): roles, a user's roles as rows (for recipient lookups), rules,
-- notifications and their recipients.

CREATE TABLE roles (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    description TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE user_roles (
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_project_role ON user_roles (project_id, role);

CREATE TABLE rules (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    description TEXT,
    condition TEXT NOT NULL,
    target_roles TEXT NOT NULL,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    sound TEXT,
    sound_url TEXT,
    priority BIGINT NOT NULL,
    active BIGINT NOT NULL,
    notify_event_user BIGINT NOT NULL,
    action TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX rules_project_active ON rules (project_id, active);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    rule_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    recipients TEXT NOT NULL,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    sound TEXT,
    sound_url TEXT,
    priority BIGINT NOT NULL,
    action TEXT,
    delivered BIGINT NOT NULL,
    pusher_event_sent BIGINT NOT NULL,
    delivery_attempts BIGINT NOT NULL,
    last_delivery_attempt TEXT,
    delivery_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (event_id, rule_id)
);
CREATE INDEX notifications_project_created ON notifications (project_id, created_at);
CREATE INDEX notifications_project_event ON notifications (project_id, event_id);

CREATE TABLE notification_recipients (
    project_id TEXT NOT NULL,
    notification_id TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    PRIMARY KEY (notification_id, user_id)
);
CREATE INDEX notification_recipients_user ON notification_recipients (project_id, user_id);
