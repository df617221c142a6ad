//! A project's own Pusher app (CONTRACT "Realtime delivery": "Where a project has its own Pusher
//! credentials, the platform triggers on Pusher's HTTP API instead"). Set through
//! `PUT /api/v1/projects/me` `pusherConfig`, kept in `project_pusher_apps` with the secret sealed,
//! shown without the secret, and read by the notification worker through [`PusherAppCache`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::error::{Error, Result, Validator};
use crate::services::Services;
use crate::time;
use crate::webhooks::guard;

/// What an admin sends as `pusherConfig`. Its `Debug` leaves the secret out.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PusherConfigInput {
    pub app_id: String,
    pub key: String,
    pub secret: String,
    pub cluster: String,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default, rename = "useTLS")]
    pub use_tls: Option<bool>,
}

impl std::fmt::Debug for PusherConfigInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PusherConfigInput")
            .field("app_id", &self.app_id)
            .field("key", &self.key)
            .field("cluster", &self.cluster)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("use_tls", &self.use_tls)
            .finish_non_exhaustive()
    }
}

/// What `GET /api/v1/projects/me` shows as `pusherConfig`: never the secret. `{configured: false}`
/// alone when the project uses the built-in server.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PusherConfigView {
    pub configured: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(rename = "useTLS", skip_serializing_if = "Option::is_none")]
    pub use_tls: Option<bool>,
}

/// A project's Pusher app as the worker uses it, secret opened.
#[derive(Clone)]
pub struct PusherApp {
    pub app_id: String,
    pub key: String,
    pub secret: String,
    pub cluster: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub use_tls: bool,
}

impl std::fmt::Debug for PusherApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PusherApp").field("app_id", &self.app_id).field("key", &self.key).finish_non_exhaustive()
    }
}

impl PusherApp {
    /// The host the HTTP API is called on: the custom one, else `api-{cluster}.pusher.com`.
    pub fn api_host(&self) -> String {
        self.host.clone().unwrap_or_else(|| format!("api-{}.pusher.com", self.cluster))
    }

    /// `/apps/{appId}/events`, the path that is signed.
    pub fn events_path(&self) -> String {
        format!("/apps/{}/events", self.app_id)
    }

    /// `{scheme}://{host}:{port}`.
    pub fn origin(&self) -> String {
        let scheme = if self.use_tls { "https" } else { "http" };
        let port = self.port.unwrap_or(if self.use_tls { 443 } else { 80 });
        let host = self.api_host();
        let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host };
        format!("{scheme}://{host}:{port}")
    }
}

const MAX_LEN: usize = 255;

/// Checks every field; `allow_private` lifts the SSRF guard on `host` (as for webhooks).
pub(crate) fn validate(c: &PusherConfigInput, allow_private: bool) -> Result<()> {
    let mut v = Validator::new();
    v.check(
        !c.app_id.is_empty() && c.app_id.len() <= 20 && c.app_id.bytes().all(|b| b.is_ascii_digit()),
        "pusherConfig.appId",
        "must be the app's id: digits only",
    );
    v.check(!c.key.trim().is_empty() && c.key.len() <= MAX_LEN, "pusherConfig.key", "must be 1 to 255 characters");
    v.check(
        !c.secret.trim().is_empty() && c.secret.len() <= MAX_LEN,
        "pusherConfig.secret",
        "must be 1 to 255 characters",
    );
    v.check(
        !c.cluster.is_empty()
            && c.cluster.len() <= 32
            && c.cluster.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "pusherConfig.cluster",
        "must be a cluster name such as eu or us2 (a-z, 0-9, -)",
    );
    if let Some(h) = &c.host {
        v.check(
            host_problem(h, allow_private).is_none(),
            "pusherConfig.host",
            host_problem(h, allow_private).unwrap_or(""),
        );
    }
    v.check(c.port != Some(0), "pusherConfig.port", "must be 1 to 65535");
    v.finish()
}

/// Why a custom host is refused: not a bare host name or address, or (unless `allow_private`)
/// one the SSRF guard forbids.
fn host_problem(h: &str, allow_private: bool) -> Option<&'static str> {
    let bare = !h.is_empty()
        && h.len() <= 253
        && (h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            || h.parse::<std::net::Ipv6Addr>().is_ok());
    if !bare {
        return Some("must be a host name or IP address, without scheme, port or path");
    }
    let host = if h.contains(':') { format!("[{h}]") } else { h.to_string() };
    guard::check_url(&format!("http://{host}/"), allow_private).err()
}

/// Re-checks a stored app's host against the guard before a call (the setting may have changed,
/// and IP literals never reach the guarded resolver).
pub fn host_allowed(app: &PusherApp, allow_private: bool) -> bool {
    app.host.as_deref().is_none_or(|h| host_problem(h, allow_private).is_none())
}

/// Stores (or, with `None`, removes) the project's Pusher app; the caller has validated it.
pub(crate) async fn save(svc: &Services, project_id: &str, c: Option<PusherConfigInput>) -> Result<()> {
    match c {
        None => {
            sqlx::query("DELETE FROM project_pusher_apps WHERE project_id = $1")
                .bind(project_id)
                .execute(svc.db.pool())
                .await?;
        }
        Some(c) => {
            let now = time::to_db(time::now());
            let sealed = svc.keys.seal(&c.secret);
            let host = c.host.map(|h| h.to_ascii_lowercase());
            let port = c.port.map(i64::from);
            let use_tls = c.use_tls.unwrap_or(true) as i64;
            let updated = sqlx::query(
                "UPDATE project_pusher_apps SET app_id = $1, key = $2, secret_sealed = $3, cluster = $4, host = $5, \
                 port = $6, use_tls = $7, updated_at = $8 WHERE project_id = $9",
            )
            .bind(&c.app_id)
            .bind(&c.key)
            .bind(&sealed)
            .bind(&c.cluster)
            .bind(&host)
            .bind(port)
            .bind(use_tls)
            .bind(&now)
            .bind(project_id)
            .execute(svc.db.pool())
            .await?
            .rows_affected();
            if updated == 0 {
                sqlx::query(
                    "INSERT INTO project_pusher_apps (project_id, app_id, key, secret_sealed, cluster, host, port, use_tls, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(project_id)
                .bind(&c.app_id)
                .bind(&c.key)
                .bind(&sealed)
                .bind(&c.cluster)
                .bind(&host)
                .bind(port)
                .bind(use_tls)
                .bind(&now)
                .execute(svc.db.pool())
                .await?;
            }
        }
    }
    svc.pusher_apps.forget(project_id);
    Ok(())
}

/// The stored app with its secret opened; `None` when the project has none. A secret that no
/// longer opens (APP_SECRET changed) is an error, so the worker records it instead of falling back.
pub(crate) async fn load(svc: &Services, project_id: &str) -> Result<Option<PusherApp>> {
    let row = sqlx::query(
        "SELECT app_id, key, secret_sealed, cluster, host, port, use_tls FROM project_pusher_apps WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_optional(svc.db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let secret = svc
        .keys
        .open(&r.get::<String, _>("secret_sealed"))
        .ok_or_else(|| Error::Internal("the project's Pusher secret does not open under this APP_SECRET".into()))?;
    Ok(Some(PusherApp {
        app_id: r.get("app_id"),
        key: r.get("key"),
        secret,
        cluster: r.get("cluster"),
        host: r.get("host"),
        port: r.get::<Option<i64>, _>("port").and_then(|p| u16::try_from(p).ok()),
        use_tls: r.get::<i64, _>("use_tls") != 0,
    }))
}

/// The view for `GET /api/v1/projects/me`.
pub(crate) async fn view(svc: &Services, project_id: &str) -> Result<PusherConfigView> {
    Ok(match load(svc, project_id).await? {
        None => PusherConfigView::default(),
        Some(a) => PusherConfigView {
            configured: true,
            host: Some(a.api_host()),
            port: Some(a.port.unwrap_or(if a.use_tls { 443 } else { 80 })),
            app_id: Some(a.app_id),
            key: Some(a.key),
            cluster: Some(a.cluster),
            use_tls: Some(a.use_tls),
        },
    })
}

struct Entry {
    loaded: Instant,
    app: Option<Arc<PusherApp>>,
}

/// Each project's Pusher app (or its absence) for the worker: forgotten at once in this process
/// when it changes, and at most `ttl` late in other processes.
pub struct PusherAppCache {
    ttl: Duration,
    entries: DashMap<String, Entry>,
}

impl PusherAppCache {
    pub fn new(ttl: Duration) -> Self {
        PusherAppCache { ttl, entries: DashMap::new() }
    }

    pub fn forget(&self, project_id: &str) {
        self.entries.remove(project_id);
    }
}

/// The project's own Pusher app, if it has one, through the cache. Worker-side: the project id
/// comes from a notification the engine wrote.
pub async fn for_project(svc: &Services, project_id: &str) -> Result<Option<Arc<PusherApp>>> {
    if let Some(e) = svc.pusher_apps.entries.get(project_id) {
        if e.loaded.elapsed() < svc.pusher_apps.ttl {
            return Ok(e.app.clone());
        }
    }
    let app = load(svc, project_id).await?.map(Arc::new);
    svc.pusher_apps.entries.insert(project_id.to_string(), Entry { loaded: Instant::now(), app: app.clone() });
    Ok(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> PusherConfigInput {
        PusherConfigInput {
            app_id: "123456".into(),
            key: "abc".into(),
            secret: "s3cret".into(),
            cluster: "eu".into(),
            host: None,
            port: None,
            use_tls: None,
        }
    }

    #[test]
    fn valid_configs_pass_and_bad_fields_are_named() {
        assert!(validate(&input(), false).is_ok());
        let bad = PusherConfigInput {
            app_id: "app-1".into(),
            key: "".into(),
            cluster: "EU 1".into(),
            port: Some(0),
            ..input()
        };
        let Err(Error::Validation(f)) = validate(&bad, false) else { panic!("refused") };
        for k in ["pusherConfig.appId", "pusherConfig.key", "pusherConfig.cluster", "pusherConfig.port"] {
            assert!(f.contains_key(k), "{k} in {f:?}");
        }
    }

    #[test]
    fn custom_hosts_pass_the_ssrf_guard_unless_private_targets_are_allowed() {
        let at = |h: &str| PusherConfigInput { host: Some(h.into()), ..input() };
        assert!(validate(&at("pusher.example.com"), false).is_ok());
        for h in ["127.0.0.1", "localhost", "10.0.0.8", "169.254.169.254", "::1", "http://x.com", "x.com:80", "a/b"] {
            assert!(validate(&at(h), false).is_err(), "{h} must be refused");
        }
        assert!(validate(&at("127.0.0.1"), true).is_ok());
        assert!(validate(&at("http://x.com"), true).is_err());
    }

    #[test]
    fn the_api_origin_follows_cluster_host_port_and_tls() {
        let app = PusherApp {
            app_id: "1".into(),
            key: "k".into(),
            secret: "s".into(),
            cluster: "eu".into(),
            host: None,
            port: None,
            use_tls: true,
        };
        assert_eq!(app.origin(), "https://api-eu.pusher.com:443");
        let local = PusherApp { host: Some("127.0.0.1".into()), port: Some(8080), use_tls: false, ..app.clone() };
        assert_eq!(local.origin(), "http://127.0.0.1:8080");
        let v6 = PusherApp { host: Some("::1".into()), ..local };
        assert_eq!(v6.origin(), "http://[::1]:8080");
        assert_eq!(app.events_path(), "/apps/1/events");
    }
}
