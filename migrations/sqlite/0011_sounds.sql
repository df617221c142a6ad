-- A project's notification sounds (SPEC §5.9, docs/SOUNDS.md): what the upload decoded to and
-- where its bytes are kept (a folder under DATA_DIR, or object storage when STORAGE_URL is set).

CREATE TABLE sounds (
    id TEXT PRIMARY KEY NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    -- wav, mp3, ogg, aiff or caf: what the bytes decoded as, not what the upload claimed.
    format TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    sample_rate INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    -- The SHA-256 of the bytes, hex: the ETag of the file.
    sha256 TEXT NOT NULL,
    -- The object's key in the sound store: {projectId}/{id}.{format}.
    storage_key TEXT NOT NULL,
    created_by TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (project_id, name)
);
