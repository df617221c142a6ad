-- Events the engine gave up on (sqlite; kept in step with migrations/postgres/0007_dead_letters.sql):
-- one row per event parked as `failed`, with why and after how many attempts, so operators can
-- see and replay them (docs/ARCHITECTURE.md, "Fault isolation").
CREATE TABLE dead_letters (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    event_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (project_id, event_id)
);
