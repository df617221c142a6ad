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
