-- Realtime (PostgreSQL): each project's credentials for the built-in Pusher Channels server. Kept in
-- step with migrations/sqlite/0003_realtime.sql.
-- The secret signs channel auth and the Pusher HTTP API, so it is kept encrypted (Keys::seal),
-- not hashed: the server must read it back.

CREATE TABLE project_realtime (
    project_id TEXT PRIMARY KEY NOT NULL REFERENCES projects (id),
    app_id TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL UNIQUE,
    secret_sealed TEXT NOT NULL,
    client_events BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
