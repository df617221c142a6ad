//! In-memory caches that keep authentication off the database on the hot path: API keys by their
//! public key, project status by id, the current status and admin role of token holders, and the
//! `lastUsedAt` of keys, written back in the background instead of once per request. Every cache is
//! bounded (see [`TtlLru`]); the state of projects, users and keys is trusted only for a few
//! seconds, so a change made in another process applies there within that time.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use sqlx::Row;

use super::lru::TtlLru;
use super::permission::Permission;
use super::settings::IpRange;
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
    /// Where the secret may be used from; empty: anywhere.
    pub allowed_ips: Vec<IpRange>,
    /// Revoke after this many wrong secrets in a row (`None`: never), and the count as read.
    pub auto_revoke_after_failures: Option<i64>,
    pub failed_attempts: i64,
}

/// What a token check needs to know about its holder now.
#[derive(Clone, Debug)]
pub struct UserState {
    pub active: bool,
    pub admin: bool,
}

/// Entries each cache keeps at most.
const CAPACITY: usize = 10_000;

pub struct AuthCache {
    keys: TtlLru<String, Option<Arc<CachedKey>>>,
    /// Whether a key (by id) is still active and unexpired, for tokens minted through it.
    key_active: TtlLru<String, bool>,
    project_status: TtlLru<String, Option<String>>,
    users: TtlLru<String, Option<UserState>>,
    last_used: DashMap<String, Timestamp>,
    /// Keys and addresses whose refusal was audited in the last minute.
    refusals: TtlLru<String, ()>,
    /// Self-revoking keys this process saw a wrong secret for since their last right one.
    failed_keys: TtlLru<String, ()>,
}

impl AuthCache {
    /// `key_ttl` for API keys by value; `state_ttl` for project, user and key state.
    pub fn new(key_ttl: Duration, state_ttl: Duration) -> Self {
        AuthCache {
            keys: TtlLru::new(CAPACITY, key_ttl),
            key_active: TtlLru::new(CAPACITY, state_ttl),
            project_status: TtlLru::new(CAPACITY, state_ttl),
            users: TtlLru::new(CAPACITY, state_ttl),
            last_used: DashMap::new(),
            refusals: TtlLru::new(CAPACITY, Duration::from_secs(60)),
            failed_keys: TtlLru::new(CAPACITY, Duration::from_secs(24 * 3600)),
        }
    }

    /// Notes a wrong secret for a self-revoking key.
    pub fn note_failure(&self, key_id: &str) {
        self.failed_keys.put(key_id.to_string(), ());
    }

    /// Whether a right secret must reset the key's count: a wrong one was seen here since, or
    /// the count was not zero when the key was read.
    pub fn take_failure(&self, k: &CachedKey) -> bool {
        let seen = self.failed_keys.get(&k.id).is_some();
        if seen {
            self.failed_keys.remove(&k.id);
        }
        seen || k.failed_attempts > 0
    }

    /// Whether this is the first refusal of `key_id` from `client` in a minute (and notes it).
    pub fn first_refusal(&self, key_id: &str, client: Option<std::net::IpAddr>) -> bool {
        let slot = format!("{key_id}/{client:?}");
        if self.refusals.get(&slot).is_some() {
            return false;
        }
        self.refusals.put(slot, ());
        true
    }

    /// The key named `key`, from the cache when fresh, else from the database. Malformed keys
    /// are never looked up nor cached.
    pub async fn key(&self, db: &Db, key: &str) -> Result<Option<Arc<CachedKey>>> {
        if !super::well_formed_key(key) {
            return Ok(None);
        }
        if let Some(hit) = self.keys.get(key) {
            return Ok(hit);
        }
        let row = sqlx::query(
            "SELECT id, project_id, secret_hash, permissions, status, expires_at, allowed_ips, \
             auto_revoke_after_failures, failed_attempts FROM project_api_keys WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
        let value = row.map(|r| {
            let permissions: Vec<String> = serde_json::from_str(&r.get::<String, _>("permissions")).unwrap_or_default();
            Arc::new(CachedKey {
                id: r.get("id"),
                project_id: r.get("project_id"),
                secret_hash: r.get("secret_hash"),
                permissions: permissions.iter().filter_map(|p| Permission::parse(p)).collect(),
                revoked: r.get::<String, _>("status") != "active",
                expires_at: time::opt_from_db(r.get("expires_at")),
                allowed_ips: r
                    .get::<Option<String>, _>("allowed_ips")
                    .and_then(|a| serde_json::from_str::<Vec<String>>(&a).ok())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|a| IpRange::parse(a))
                    .collect(),
                auto_revoke_after_failures: r.get("auto_revoke_after_failures"),
                failed_attempts: r.get("failed_attempts"),
            })
        });
        self.keys.put(key.to_string(), value.clone());
        Ok(value)
    }

    /// Whether the key with this id (of this project) is active and unexpired.
    pub async fn key_active(&self, db: &Db, project_id: &str, key_id: &str) -> Result<bool> {
        let slot = format!("{project_id}/{key_id}");
        if let Some(hit) = self.key_active.get(&slot) {
            return Ok(hit);
        }
        let row = sqlx::query("SELECT status, expires_at FROM project_api_keys WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(key_id)
            .fetch_optional(db.pool())
            .await?;
        let active = row.is_some_and(|r| {
            r.get::<String, _>("status") == "active"
                && time::opt_from_db(r.get("expires_at")).is_none_or(|t| t > time::now())
        });
        self.key_active.put(slot, active);
        Ok(active)
    }

    /// A project's user as a token check sees it now; `None` when it does not exist.
    pub async fn user(&self, db: &Db, project_id: &str, user_id: &str) -> Result<Option<UserState>> {
        let slot = format!("{project_id}/{user_id}");
        if let Some(hit) = self.users.get(&slot) {
            return Ok(hit);
        }
        let row = sqlx::query("SELECT status, roles FROM users WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(user_id)
            .fetch_optional(db.pool())
            .await?;
        let state = row.map(|r| {
            let roles: Vec<String> = serde_json::from_str(&r.get::<String, _>("roles")).unwrap_or_default();
            UserState {
                active: r.get::<String, _>("status") == "active",
                admin: roles.iter().any(|n| n == crate::users::ADMIN_ROLE),
            }
        });
        self.users.put(slot, state.clone());
        Ok(state)
    }

    /// A project's status (`active`, `suspended`, ...), `None` when it does not exist.
    pub async fn project_status(&self, db: &Db, project_id: &str) -> Result<Option<String>> {
        if let Some(hit) = self.project_status.get(project_id) {
            return Ok(hit);
        }
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_optional(db.pool())
            .await?;
        self.project_status.put(project_id.to_string(), status.clone());
        Ok(status)
    }

    /// Forgets a key at once in this process (other processes within the TTL).
    pub fn forget_key(&self, project_id: &str, key: &str, key_id: &str) {
        self.keys.remove(key);
        self.key_active.remove(&format!("{project_id}/{key_id}"));
    }

    /// Forgets a user's state at once in this process, after its status or roles changed.
    pub fn forget_user(&self, project_id: &str, user_id: &str) {
        self.users.remove(&format!("{project_id}/{user_id}"));
    }

    pub fn forget_project(&self, project_id: &str) {
        self.project_status.remove(project_id);
    }

    /// API keys (known or not) held by the cache now.
    pub fn cached_keys(&self) -> usize {
        self.keys.len()
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
