//! The database handle: one repository API over SQLite (embedded default) and PostgreSQL.
//!
//! Queries are written once in portable SQL with `$n` placeholders and run through sqlx's `Any`
//! driver. The few statements where the dialects differ live side by side in [`dialect`].

pub mod dialect;
pub mod lease;
pub mod sql;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool and the backend it talks to. Cheap to clone.
///
/// On SQLite the busy writers (ingest's group commit, the engine, the delivery workers) write
/// through [`Db::writer`], a pool of one connection: SQLite allows one writer at a time, and a
/// connection that finds the lock taken sleeps in SQLite's busy handler (1, 2, 5, 10 … ms)
/// instead of queueing, which added milliseconds to every event's way to its frame. Waiting for
/// the one writer connection is a fair, wake-on-release queue instead.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    writer: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects and applies the backend's migrations. A `postgres://` URL selects PostgreSQL,
    /// anything else is a SQLite file (created when missing).
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let (pool, writer) = match backend {
            Backend::Sqlite => (connect_sqlite(url, 8).await?, connect_sqlite(url, 1).await?),
            Backend::Postgres => {
                let opts = AnyConnectOptions::from_str(url).map_err(Error::internal)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?;
                (pool.clone(), pool)
            }
        };
        let db = Db { pool, writer, backend };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        migrator.run(&self.pool).await.map_err(|e| Error::Internal(format!("migration: {e}")))
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Where the frequent writes go: on SQLite the single writer connection (see [`Db`]), on
    /// PostgreSQL the same pool as everything else.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction for a read-then-write sequence (see [`dialect::begin_write`]).
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(self.writer.begin_with(dialect::begin_write(self.backend)).await?)
    }

    /// A trivial round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        self.pool.execute("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

async fn connect_sqlite(url: &str, connections: u32) -> Result<AnyPool> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    if let Some(parent) = std::path::Path::new(&path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(Error::internal)?;
        }
    }
    let url = if url.contains('?') { url.to_string() } else { format!("sqlite://{path}?mode=rwc") };
    let opts = AnyConnectOptions::from_str(&url).map_err(Error::internal)?;
    AnyPoolOptions::new()
        .max_connections(connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        // WAL lets readers run beside the writer; synchronous=FULL makes each commit durable,
        // which is what an accepted (202) event promises. Group commit pays that fsync once per
        // batch, not per event.
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000; \
                     PRAGMA foreign_keys=ON;",
                )
                .await?;
                Ok(())
            })
        })
        .connect_with(opts)
        .await
        .map_err(Into::into)
}
