//! Realtime: each project's credentials for the built-in Pusher Channels server (`appId`, `key`,
//! `secret`), the lookups the socket and the Pusher HTTP API make with them, and channel
//! authorization for end users. The socket and the fan-out live in the `server` crate.
//!
//! Credentials are made lazily, the first time anything needs them. The `key` is the project's
//! oldest active publishable key (`pk_…`) at that moment, so the key a client connects with, the
//! key in the channel auth strings and the key the official server libraries hold are one and the
//! same, as CONTRACT "Realtime delivery" shows it (`{pk_key}:{hmac}`). The socket also accepts any
//! other active `pk_` key of the project. The secret is kept sealed (encrypted), not hashed,
//! because signing needs it back.

pub mod signing;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::{Actor, Tenant};
use crate::crypto;
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time;

/// A project's realtime app, with its secret opened. Built only by this module's lookups.
#[derive(Clone)]
pub struct RealtimeApp {
    pub project_id: String,
    /// All digits, as Pusher's are.
    pub app_id: String,
    pub key: String,
    pub secret: String,
    /// Whether clients may send `client-*` events on private and presence channels.
    pub client_events: bool,
}

impl std::fmt::Debug for RealtimeApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealtimeApp")
            .field("project_id", &self.project_id)
            .field("app_id", &self.app_id)
            .field("key", &self.key)
            .field("client_events", &self.client_events)
            .finish_non_exhaustive()
    }
}

/// The credentials as a project admin sees them (`GET /api/v1/projects/me/realtime`, without the
/// host and port, which the HTTP layer adds).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub app_id: String,
    pub key: String,
    pub secret: String,
    pub client_events: bool,
}

impl From<RealtimeApp> for Credentials {
    fn from(a: RealtimeApp) -> Self {
        Credentials { app_id: a.app_id, key: a.key, secret: a.secret, client_events: a.client_events }
    }
}

const COLUMNS: &str = "project_id, app_id, key, secret_sealed, client_events";

fn open_row(svc: &Services, r: &sqlx::any::AnyRow) -> Result<RealtimeApp> {
    let project_id: String = r.get("project_id");
    let secret = svc.keys.open(&r.get::<String, _>("secret_sealed")).ok_or_else(|| {
        Error::Internal(format!("the realtime secret of project {project_id} does not open under this APP_SECRET"))
    })?;
    Ok(RealtimeApp {
        project_id,
        app_id: r.get("app_id"),
        key: r.get("key"),
        secret,
        client_events: r.get::<i64, _>("client_events") != 0,
    })
}

async fn load(svc: &Services, project_id: &str) -> Result<Option<RealtimeApp>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM project_realtime WHERE project_id = $1"))
        .bind(project_id)
        .fetch_optional(svc.db.pool())
        .await?;
    row.map(|r| open_row(svc, &r)).transpose()
}

/// The project's realtime app, made on first use. Concurrent first uses agree on one row.
async fn ensure(svc: &Services, project_id: &str) -> Result<RealtimeApp> {
    if let Some(app) = load(svc, project_id).await? {
        return Ok(app);
    }
    let key: Option<String> = sqlx::query_scalar(
        "SELECT key FROM project_api_keys WHERE project_id = $1 AND status = 'active' \
         ORDER BY created_at, id LIMIT 1",
    )
    .bind(project_id)
    .fetch_optional(svc.db.pool())
    .await?;
    let key = key.unwrap_or_else(|| format!("pk_live_{}", crypto::random_hex(16)));
    let sealed = svc.keys.seal(&crypto::random_hex(16));
    let now = time::to_db(time::now());
    // A clash on app_id (or a concurrent insert for the project) inserts nothing; read what is
    // there, else try another app id.
    for _ in 0..5 {
        sqlx::query(
            "INSERT INTO project_realtime (project_id, app_id, key, secret_sealed, client_events, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $5) ON CONFLICT DO NOTHING",
        )
        .bind(project_id)
        .bind(random_app_id())
        .bind(&key)
        .bind(&sealed)
        .bind(&now)
        .execute(svc.db.pool())
        .await?;
        if let Some(app) = load(svc, project_id).await? {
            return Ok(app);
        }
    }
    Err(Error::Internal(format!("could not create realtime credentials for project {project_id}")))
}

/// Ten digits, not starting with 0 (some libraries read the app id as a number).
fn random_app_id() -> String {
    use rand::Rng;
    rand::rngs::OsRng.gen_range(1_000_000_000u64..10_000_000_000).to_string()
}

/// Whether the project may use realtime now (it exists and is not suspended or cancelled).
pub async fn project_active(svc: &Services, project_id: &str) -> Result<bool> {
    let status = svc.auth_cache.project_status(&svc.db, project_id).await?;
    Ok(matches!(status.as_deref(), Some(s) if s != "suspended" && s != "cancelled"))
}

/// Whether a socket connected with `key` to the project's app may stay open: the project is active
/// and, when `key` is one of its API keys, that key is neither revoked nor expired. (The app's own
/// realtime key may be one made for it, in no API key's row.)
pub async fn still_usable(svc: &Services, project_id: &str, key: &str) -> Result<bool> {
    if !project_active(svc, project_id).await? {
        return Ok(false);
    }
    Ok(match svc.auth_cache.key(&svc.db, key).await? {
        Some(k) => k.project_id == project_id && !k.revoked && k.expires_at.is_none_or(|t| t > time::now()),
        None => true,
    })
}

/// The app a publishable key names, for the socket at `/app/{key}`: the project's realtime key
/// or any of its active, unexpired `pk_` keys; `None` when unknown or the project is not active.
/// The key is a public identifier, so this lookup crosses projects by design.
pub async fn app_for_key(svc: &Services, key: &str) -> Result<Option<RealtimeApp>> {
    let by_realtime_key: Option<String> = sqlx::query_scalar("SELECT project_id FROM project_realtime WHERE key = $1")
        .bind(key)
        .fetch_optional(svc.db.pool())
        .await?;
    let project_id = match by_realtime_key {
        Some(p) => p,
        None => match svc.auth_cache.key(&svc.db, key).await? {
            Some(k) if !k.revoked && k.expires_at.is_none_or(|t| t > time::now()) => k.project_id.clone(),
            _ => return Ok(None),
        },
    };
    if !project_active(svc, &project_id).await? {
        return Ok(None);
    }
    ensure(svc, &project_id).await.map(Some)
}

/// The app an `appId` names, for the Pusher HTTP API; `None` when unknown or the project is not
/// active. The request's signature is checked by the caller with [`signing`].
pub async fn app_for_id(svc: &Services, app_id: &str) -> Result<Option<RealtimeApp>> {
    if app_id.is_empty() || app_id.len() > 20 || !app_id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM project_realtime WHERE app_id = $1"))
        .bind(app_id)
        .fetch_optional(svc.db.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let app = open_row(svc, &row)?;
    Ok(project_active(svc, &app.project_id).await?.then_some(app))
}

/// The project's credentials; project admins only.
pub async fn credentials(svc: &Services, t: &Tenant) -> Result<Credentials> {
    t.require_admin()?;
    Ok(ensure(svc, t.project_id()).await?.into())
}

/// What a project admin may change (`PUT /api/v1/projects/me/realtime`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default)]
    pub client_events: Option<bool>,
}

pub async fn update(svc: &Services, t: &Tenant, patch: SettingsPatch, meta: &RequestMeta) -> Result<Credentials> {
    t.require_admin()?;
    let app = ensure(svc, t.project_id()).await?;
    let Some(enabled) = patch.client_events else { return Ok(app.into()) };
    sqlx::query("UPDATE project_realtime SET client_events = $1, updated_at = $2 WHERE project_id = $3")
        .bind(i64::from(enabled))
        .bind(time::to_db(time::now()))
        .bind(t.project_id())
        .execute(svc.db.pool())
        .await?;
    audit::record(
        svc,
        AuditEntry::tenant(t, "realtime.update", "project", Some(t.project_id()), meta)
            .with_metadata(serde_json::json!({ "clientEvents": enabled })),
    )
    .await?;
    Ok(Credentials { client_events: enabled, ..app.into() })
}

/// Replaces the secret (app id and key stay). Servers signing with the old one are refused from
/// then on; other processes notice within their cache's lifetime.
pub async fn rotate_secret(svc: &Services, t: &Tenant, meta: &RequestMeta) -> Result<Credentials> {
    t.require_admin()?;
    ensure(svc, t.project_id()).await?;
    sqlx::query("UPDATE project_realtime SET secret_sealed = $1, updated_at = $2 WHERE project_id = $3")
        .bind(svc.keys.seal(&crypto::random_hex(16)))
        .bind(time::to_db(time::now()))
        .bind(t.project_id())
        .execute(svc.db.pool())
        .await?;
    audit::record(svc, AuditEntry::tenant(t, "realtime.rotate_secret", "project", Some(t.project_id()), meta)).await?;
    Ok(ensure(svc, t.project_id()).await?.into())
}

/// What pusher-js posts to the channel auth endpoint (form or JSON).
#[derive(Debug, Deserialize)]
pub struct ChannelAuthRequest {
    pub socket_id: String,
    pub channel_name: String,
    #[serde(default)]
    pub channel_data: Option<String>,
}

/// The answer pusher-js expects: `auth`, and for presence channels the `channel_data` it signed.
#[derive(Debug, Serialize)]
pub struct ChannelAuth {
    pub auth: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<String>,
}

/// Signs a subscription for the signed-in user: their own `private-user-{id}` channel, or a
/// presence channel of their project as themselves. Anything else is refused with 403.
pub async fn authorize_channel(svc: &Services, t: &Tenant, req: ChannelAuthRequest) -> Result<ChannelAuth> {
    let user_id = match t.actor() {
        Actor::User { user_id } | Actor::ProjectAdmin { user_id } => user_id,
        _ => return Err(Error::Forbidden("channel auth takes the end user's bearer token")),
    };
    if !signing::valid_socket_id(&req.socket_id) {
        return Err(Error::field("socket_id", "must look like 123.456"));
    }
    let channel = req.channel_name.as_str();
    if !signing::valid_channel_name(channel) {
        return Err(Error::field("channel_name", "must be 1 to 164 of letters, digits and _-=@,.;"));
    }
    let channel_data = if channel.starts_with("private-encrypted-") {
        return Err(Error::field("channel_name", "encrypted channels are not supported"));
    } else if let Some(owner) = channel.strip_prefix("private-user-") {
        if owner != user_id {
            return Err(Error::Forbidden("you may only listen on your own user channel"));
        }
        None
    } else if channel.starts_with("private-") {
        return Err(Error::Forbidden("users may only listen on private-user-{their id}"));
    } else if channel.starts_with("presence-") {
        Some(presence_data(user_id, req.channel_data.as_deref())?)
    } else {
        return Err(Error::field("channel_name", "public channels need no authorization"));
    };
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM users WHERE project_id = $1 AND id = $2")
        .bind(t.project_id())
        .bind(user_id)
        .fetch_optional(svc.db.pool())
        .await?;
    if status.as_deref() != Some("active") {
        return Err(Error::Forbidden("this user is not active"));
    }
    let app = ensure(svc, t.project_id()).await?;
    let auth = signing::sign_channel(&app.key, &app.secret, &req.socket_id, channel, channel_data.as_deref());
    Ok(ChannelAuth { auth, channel_data })
}

/// The presence member the user joins as: always their own id, with the `user_info` they sent.
fn presence_data(user_id: &str, given: Option<&str>) -> Result<String> {
    let mut info = serde_json::Value::Null;
    if let Some(given) = given {
        let serde_json::Value::Object(mut obj) =
            serde_json::from_str(given).map_err(|_| Error::field("channel_data", "must be a JSON object"))?
        else {
            return Err(Error::field("channel_data", "must be a JSON object"));
        };
        match obj.get("user_id") {
            None => {}
            Some(serde_json::Value::String(s)) if s == user_id => {}
            Some(_) => return Err(Error::Forbidden("you may only join a presence channel as yourself")),
        }
        info = obj.remove("user_info").unwrap_or_default();
    }
    let mut data = serde_json::json!({ "user_id": user_id });
    if !info.is_null() {
        data["user_info"] = info;
    }
    let s = data.to_string();
    if s.len() > 1024 {
        return Err(Error::field("channel_data", "user_info must stay under 1 KB"));
    }
    Ok(s)
}
