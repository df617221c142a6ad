//! The statements that differ between SQLite and PostgreSQL, side by side. Everything else is
//! written once.

use super::Backend;

/// Case-insensitive text match (`LIKE` is case-insensitive for ASCII on SQLite only).
pub fn ilike(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "LIKE",
        Backend::Postgres => "ILIKE",
    }
}

/// How a transaction that will write starts. SQLite's default `BEGIN` is deferred: a
/// transaction that reads first and writes later fails at once (`SQLITE_BUSY`, no waiting) when
/// another connection wrote in between. `BEGIN IMMEDIATE` takes the write lock up front and waits
/// for it (busy_timeout). PostgreSQL's row locks make plain `BEGIN` right.
pub fn begin_write(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}

/// A column in a condition that must not pick an index: `WHERE status = 'accepted' AND id IN
/// (…)` should find its rows by the primary key, but both planners may prefer the index on
/// `status` and walk every accepted event instead, a backlog's worth per batch (SQLite has no
/// statistics; PostgreSQL's generic plan for the prepared statement did the same before its
/// first ANALYZE, at about a second per batch). A unary `+` (SQLite) or an expression
/// (PostgreSQL) keeps the planner off that index.
pub fn unindexed(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => format!("+{column}"),
        Backend::Postgres => format!("({column} || '')"),
    }
}

/// What follows a `SELECT` whose rows the transaction must hold until it ends, so an invariant
/// over several rows cannot be raced (PostgreSQL's READ COMMITTED). SQLite's write transactions
/// (`BEGIN IMMEDIATE`) already run one at a time.
pub fn for_update(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

/// What follows a job-claiming sub-select so concurrent claimers pass over each other's rows
/// instead of queueing on them. SQLite has one writer, so its claim needs nothing.
pub fn skip_locked(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    }
}

/// The names of the tables and their columns, to compare the two migration histories.
pub fn schema_columns_query(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
             ORDER BY 1"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name || '.' || column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%' ORDER BY 1"
        }
    }
}
