//! In-memory caches that keep authentication off the database on the hot path: API keys by their
//! public key, project status by id, and the `lastUsedAt` of keys, written back in the background
//! instead of once per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use sqlx::Row;

use super::permission::Permission;
use crate::db::Db;
use crate::error::Result;
use crate::time::{self, Timestamp};

/// What authentication needs to know about a key.
#[derive(Debug)]
pub struct CachedKey {
    pub id: String,
    pub project_id: String,
    pub secret_hash: String,
    pub permissions: Vec<Permission>,
    pub revoked: bool,
    pub expires_at: Option<Timestamp>,
}

struct Entry<T> {
    fetched: Instant,
    value: T,
}

pub struct AuthCache {
    ttl: Duration,
    keys: DashMap<String, Entry<Option<Arc<CachedKey>>>>,
    project_status: DashMap<String, Entry<Option<String>>>,
    last_used: DashMap<String, Timestamp>,
}

impl AuthCache {
    pub fn new(ttl: Duration) -> Self {
        AuthCache { ttl, keys: DashMap::new(), project_status: DashMap::new(), last_used: DashMap::new() }
    }

    /// The key named `key`, from the cache when fresh, else from the database.
    pub async fn key(&self, db: &Db, key: &str) -> Result<Option<Arc<CachedKey>>> {
        if let Some(e) = self.keys.get(key) {
            if e.fetched.elapsed() < self.ttl {
                return Ok(e.value.clone());
            }
        }
        let row = sqlx::query(
            "SELECT id, project_id, secret_hash, permissions, status, expires_at \
             FROM project_api_keys WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
        let value = row.map(|r| {
            let permissions: Vec<String> =
                serde_json::from_str(&r.get::<String, _>("permissions")).unwrap_or_default();
            Arc::new(CachedKey {
                id: r.get("id"),
                project_id: r.get("project_id"),
                secret_hash: r.get("secret_hash"),
                permissions: permissions.iter().filter_map(|p| Permission::parse(p)).collect(),
                revoked: r.get::<String, _>("status") != "active",
                expires_at: time::opt_from_db(r.get("expires_at")),
            })
        });
        self.keys.insert(key.to_string(), Entry { fetched: Instant::now(), value: value.clone() });
        Ok(value)
    }

    /// A project's status (`active`, `suspended`, ...), `None` when it does not exist.
    pub async fn project_status(&self, db: &Db, project_id: &str) -> Result<Option<String>> {
        if let Some(e) = self.project_status.get(project_id) {
            if e.fetched.elapsed() < self.ttl {
                return Ok(e.value.clone());
            }
        }
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_optional(db.pool())
            .await?;
        self.project_status
            .insert(project_id.to_string(), Entry { fetched: Instant::now(), value: status.clone() });
        Ok(status)
    }

    /// Forgets a key at once in this process (other processes within the TTL).
    pub fn forget_key(&self, key: &str) {
        self.keys.remove(key);
    }

    pub fn forget_project(&self, project_id: &str) {
        self.project_status.remove(project_id);
    }

    pub fn touch(&self, key_id: &str) {
        self.last_used.insert(key_id.to_string(), time::now());
    }

    /// Writes the collected `lastUsedAt` times, one statement per key used since the last flush.
    pub async fn flush_last_used(&self, db: &Db) -> Result<usize> {
        let pending: Vec<(String, Timestamp)> = self.last_used.iter().map(|e| (e.key().clone(), *e.value())).collect();
        for (id, _) in &pending {
            self.last_used.remove(id);
        }
        for (id, at) in &pending {
            sqlx::query("UPDATE project_api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(time::to_db(*at))
                .bind(id)
                .execute(db.pool())
                .await?;
        }
        Ok(pending.len())
    }
}
