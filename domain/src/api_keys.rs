//! A project's API keys (SPEC §4.7): `pk_{env}_…` names the project, `sk_{env}_…` proves it. The
//! secret is shown once; only its keyed hash is kept.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::settings::IpRange;
use crate::auth::{Permission, Tenant};
use crate::error::{Error, Result, Validator};
use crate::page::{Cursor, Page, PageRequest};
use crate::services::Services;
use crate::time::{self, Timestamp};
use crate::{crypto, validate};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub key: String,
    pub permissions: Vec<String>,
    pub status: String,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    /// Addresses and CIDR ranges the key and its secret may be used from; empty: anywhere.
    pub allowed_ips: Vec<String>,
    /// Revoked by itself after this many wrong secrets in a row; `null`: never.
    pub auto_revoke_after_failures: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A key as answered at creation: the only time its secret is shown.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub secret: String,
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    project_id: String,
    name: String,
    key: String,
    permissions: String,
    status: String,
    last_used_at: Option<String>,
    expires_at: Option<String>,
    allowed_ips: Option<String>,
    auto_revoke_after_failures: Option<i64>,
    created_by: Option<String>,
    created_at: String,
    revoked_at: Option<String>,
}

impl From<KeyRow> for ApiKey {
    fn from(r: KeyRow) -> Self {
        ApiKey {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            key: r.key,
            permissions: serde_json::from_str(&r.permissions).unwrap_or_default(),
            status: r.status,
            last_used_at: time::opt_from_db(r.last_used_at),
            expires_at: time::opt_from_db(r.expires_at),
            allowed_ips: r.allowed_ips.as_deref().and_then(|a| serde_json::from_str(a).ok()).unwrap_or_default(),
            auto_revoke_after_failures: r.auto_revoke_after_failures,
            created_by: r.created_by,
            created_at: time::from_db(&r.created_at),
            revoked_at: time::opt_from_db(r.revoked_at),
        }
    }
}

const COLUMNS: &str = "id, project_id, name, key, permissions, status, last_used_at, expires_at, allowed_ips, \
    auto_revoke_after_failures, created_by, created_at, revoked_at";

/// The most entries `allowedIps` may hold.
pub const MAX_ALLOWED_IPS: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewApiKey {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
    #[serde(default)]
    pub expires_at: Option<String>,
    /// `live` (default) or `test`.
    #[serde(default)]
    pub environment: Option<String>,
    /// Addresses and CIDR ranges (IPv4 and IPv6) the secret may be used from; absent or empty:
    /// anywhere.
    #[serde(default)]
    pub allowed_ips: Option<Vec<String>>,
    /// Revoke the key after this many wrong secrets in a row (1 to 1000); absent: never. Off by
    /// default: anyone who knows the public key can send wrong secrets (docs/SECURITY.md).
    #[serde(default)]
    pub auto_revoke_after_failures: Option<i64>,
}

/// Validated input, ready to insert.
pub(crate) struct KeySpec {
    name: String,
    permissions: Vec<String>,
    expires_at: Option<Timestamp>,
    env: String,
    allowed_ips: Vec<String>,
    auto_revoke_after_failures: Option<i64>,
}

impl KeySpec {
    pub(crate) fn validate(input: NewApiKey) -> Result<Self> {
        let name = input.name.unwrap_or_else(|| "Default".into());
        let permissions =
            input.permissions.unwrap_or_else(|| Permission::ALL.iter().map(|p| p.as_str().to_string()).collect());
        let expires_at = input.expires_at.as_deref().map(time::parse_client);
        let env = input.environment.unwrap_or_else(|| "live".into());
        let allowed_ips: Vec<String> = input
            .allowed_ips
            .unwrap_or_default()
            .iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        let mut v = Validator::new();
        v.check(validate::name(&name, 255), "name", "must be 1 to 255 characters")
            .check(!permissions.is_empty(), "permissions", "must name at least one permission")
            .check(
                permissions.iter().all(|p| Permission::parse(p).is_some()),
                "permissions",
                "each must be one of events:write, users:manage, notifications:read, rules:manage",
            )
            .check(expires_at.is_none_or(|e| e.is_some()), "expiresAt", "must be an RFC 3339 time")
            .check(expires_at.flatten().is_none_or(|e| e > time::now()), "expiresAt", "must be in the future")
            .check(env == "live" || env == "test", "environment", "must be live or test")
            .check(allowed_ips.len() <= MAX_ALLOWED_IPS, "allowedIps", "must hold at most 50 entries")
            .check(
                allowed_ips.iter().all(|a| IpRange::parse(a).is_some()),
                "allowedIps",
                "each must be an IPv4 or IPv6 address or CIDR range, like 203.0.113.0/24",
            )
            .check(
                input.auto_revoke_after_failures.is_none_or(|n| (1..=1000).contains(&n)),
                "autoRevokeAfterFailures",
                "must be between 1 and 1000",
            );
        v.finish()?;
        let mut permissions = permissions;
        permissions.dedup();
        Ok(KeySpec {
            name: name.trim().to_string(),
            permissions,
            expires_at: expires_at.flatten(),
            env,
            allowed_ips,
            auto_revoke_after_failures: input.auto_revoke_after_failures,
        })
    }
}

/// Inserts a key inside the caller's transaction and answers it with its secret.
pub(crate) async fn insert(
    tx: &mut Transaction<'_, Any>,
    svc: &Services,
    project_id: &str,
    spec: KeySpec,
    created_by: Option<&str>,
) -> Result<CreatedApiKey> {
    // 128 random bits in the key, 256 in the secret.
    let key = format!("pk_{}_{}", spec.env, crypto::random_hex(16));
    let secret = format!("sk_{}_{}", spec.env, crypto::random_hex(32));
    let now = time::now();
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO project_api_keys (id, project_id, name, key, secret_hash, permissions, status, expires_at, \
         created_by, created_at, allowed_ips, auto_revoke_after_failures) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(project_id)
    .bind(&spec.name)
    .bind(&key)
    .bind(svc.keys.hash_api_secret(&secret))
    .bind(serde_json::to_string(&spec.permissions).expect("strings serialize"))
    .bind(spec.expires_at.map(time::to_db))
    .bind(created_by)
    .bind(time::to_db(now))
    .bind((!spec.allowed_ips.is_empty()).then(|| serde_json::to_string(&spec.allowed_ips).expect("strings serialize")))
    .bind(spec.auto_revoke_after_failures)
    .execute(&mut **tx)
    .await?;
    Ok(CreatedApiKey {
        key: ApiKey {
            id,
            project_id: project_id.to_string(),
            name: spec.name,
            key,
            permissions: spec.permissions,
            status: "active".into(),
            last_used_at: None,
            expires_at: spec.expires_at,
            allowed_ips: spec.allowed_ips,
            auto_revoke_after_failures: spec.auto_revoke_after_failures,
            created_by: created_by.map(str::to_string),
            created_at: now,
            revoked_at: None,
        },
        secret,
    })
}

/// A second key beside the first: create the new one, move the servers over, revoke the old one.
pub async fn create(svc: &Services, t: &Tenant, input: NewApiKey, meta: &RequestMeta) -> Result<CreatedApiKey> {
    t.require_admin()?;
    let spec = KeySpec::validate(input)?;
    let mut tx = svc.db.pool().begin().await?;
    let created = insert(&mut tx, svc, t.project_id(), spec, Some(t.audit_actor().1)).await?;
    tx.commit().await?;
    audit::record(
        svc,
        AuditEntry::tenant(t, "api_key.create", "api_key", Some(&created.key.id), meta).with_metadata(
            serde_json::json!({
                "name": created.key.name, "permissions": created.key.permissions, "allowedIps": created.key.allowed_ips,
            }),
        ),
    )
    .await?;
    Ok(created)
}

/// The project's keys, newest first; never a secret.
pub async fn list(svc: &Services, t: &Tenant, page: PageRequest) -> Result<Page<ApiKey>> {
    t.require_admin()?;
    let (before, before_id) = page.keyset();
    let rows: Vec<KeyRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM project_api_keys WHERE project_id = $1 AND (created_at, id) < ($2, $4) \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind(t.project_id())
    .bind(before)
    .bind(page.fetch_limit())
    .bind(before_id)
    .fetch_all(svc.db.pool())
    .await?;
    let keys = rows.into_iter().map(ApiKey::from).collect();
    Ok(Page::from_rows(keys, page.limit, |k| Cursor(format!("{}{}", time::to_db(k.created_at), k.id))))
}

/// Revokes a key of this project at once (in this process; other processes within the cache TTL).
pub async fn revoke(svc: &Services, t: &Tenant, id: &str, meta: &RequestMeta) -> Result<ApiKey> {
    t.require_admin()?;
    let id = validate::id(id)?;
    let row: KeyRow =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM project_api_keys WHERE project_id = $1 AND id = $2"))
            .bind(t.project_id())
            .bind(&id)
            .fetch_optional(svc.db.pool())
            .await?
            .ok_or(Error::NotFound)?;
    let now = time::to_db(time::now());
    sqlx::query(
        "UPDATE project_api_keys SET status = 'revoked', revoked_at = COALESCE(revoked_at, $1) \
         WHERE project_id = $2 AND id = $3",
    )
    .bind(&now)
    .bind(t.project_id())
    .bind(&id)
    .execute(svc.db.pool())
    .await?;
    svc.auth_cache.forget_key(t.project_id(), &row.key, &id);
    audit::record(svc, AuditEntry::tenant(t, "api_key.revoke", "api_key", Some(&id), meta)).await?;
    let mut key = ApiKey::from(row);
    key.status = "revoked".into();
    key.revoked_at = key.revoked_at.or(Some(time::from_db(&now)));
    Ok(key)
}

/// A wrong secret for a key that revokes itself (`autoRevokeAfterFailures`): counts it, and at
/// the limit revokes the key, audits `api_key.auto_revoke` and mails the project's owner, all in
/// one transaction (docs/SECURITY.md).
pub(crate) async fn count_failure(
    svc: &Services,
    k: &crate::auth::cache::CachedKey,
    key: &str,
    limit: i64,
    client: Option<std::net::IpAddr>,
) -> Result<()> {
    let mut tx = svc.db.writer().begin().await?;
    let failures: Option<i64> = sqlx::query_scalar(
        "UPDATE project_api_keys SET failed_attempts = failed_attempts + 1 WHERE id = $1 AND status = 'active' \
         RETURNING failed_attempts",
    )
    .bind(&k.id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(failures) = failures.filter(|n| *n >= limit) else {
        tx.commit().await?;
        return Ok(());
    };
    let now = time::to_db(time::now());
    sqlx::query("UPDATE project_api_keys SET status = 'revoked', revoked_at = $1 WHERE id = $2 AND status = 'active'")
        .bind(&now)
        .bind(&k.id)
        .execute(&mut *tx)
        .await?;
    let meta = RequestMeta { ip: client.map(|ip| ip.to_string()), user_agent: None };
    audit::record_with(
        &mut *tx,
        AuditEntry::system("auto_revoke", "api_key.auto_revoke", "api_key", Some(&k.id), &meta)
            .in_project(&k.project_id)
            .with_metadata(serde_json::json!({"failures": failures, "ipAddress": meta.ip})),
    )
    .await?;
    let owner: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT p.name, u.email FROM projects p LEFT JOIN users u ON u.project_id = p.id AND u.id = p.owner_id \
         WHERE p.id = $1",
    )
    .bind(&k.project_id)
    .fetch_optional(&mut *tx)
    .await?;
    let mail = match owner {
        Some((name, Some(to))) => {
            let subject = format!("[{name}] An API key revoked itself");
            let body = format!(
                "The API key {key} of your project \"{name}\" was revoked after {failures} wrong secrets in a row \
                 (the last from {}).\n\nRequests with it now fail. If your own servers sent the wrong secret, \
                 create a new key and move them to it; otherwise someone is guessing, and the key's \
                 allowed addresses can keep them out.\n",
                meta.ip.as_deref().unwrap_or("an unknown address"),
            );
            let id = crate::mail::Mailer::enqueue_with(&mut *tx, &to, &subject, &body).await?;
            Some((id, to, subject))
        }
        _ => None,
    };
    tx.commit().await?;
    svc.auth_cache.forget_key(&k.project_id, key, &k.id);
    tracing::warn!(project.id = %k.project_id, key.id = %k.id, failures, "an API key revoked itself after wrong secrets");
    if let Some((id, to, subject)) = mail {
        svc.mailer.queued(&id, &to, &subject);
    }
    Ok(())
}

/// A right secret for a key that revokes itself: the count of wrong ones starts again.
pub(crate) async fn reset_failures(svc: &Services, key_id: &str) -> Result<()> {
    sqlx::query("UPDATE project_api_keys SET failed_attempts = 0 WHERE id = $1 AND failed_attempts > 0")
        .bind(key_id)
        .execute(svc.db.writer())
        .await?;
    Ok(())
}
