//! A project's webhook endpoint: URL, subscribed events, on/off, and its signing secret, shown
//! once when created or rotated and kept sealed (Keys::seal) otherwise.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{guard, signing, EVENT_TYPES, ROTATION_OVERLAP};
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::Tenant;
use crate::error::{Error, Result, Validator};
use crate::services::Services;
use crate::time::{self, Timestamp};

/// The endpoint as its admins see it; `secret` only in the answer that created it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    /// When the previous secret stops signing, during a rotation's overlap.
    pub previous_secret_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The addresses the platform sends webhooks from (`WEBHOOK_SOURCE_IPS`), for an allow-list
    /// on the receiving side; empty when the operator published none (SPEC §14.3).
    pub source_ips: Vec<String>,
}

/// `PUT /projects/me/webhook`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointInput {
    pub url: String,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

const COLUMNS: &str = "url, events, enabled, disabled_reason, previous_secret_expires_at, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Endpoint {
    Endpoint {
        url: r.get("url"),
        events: serde_json::from_str(&r.get::<String, _>("events")).unwrap_or_default(),
        enabled: r.get::<i64, _>("enabled") != 0,
        disabled_reason: r.get("disabled_reason"),
        previous_secret_expires_at: time::opt_from_db(r.get("previous_secret_expires_at")).filter(|t| *t > time::now()),
        created_at: time::from_db(&r.get::<String, _>("created_at")),
        updated_at: time::from_db(&r.get::<String, _>("updated_at")),
        secret: None,
        source_ips: vec![],
    }
}

async fn load(svc: &Services, t: &Tenant) -> Result<Option<Endpoint>> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE project_id = $1"))
        .bind(t.project_id())
        .fetch_optional(svc.db.pool())
        .await?;
    Ok(row.as_ref().map(from_row).map(|mut ep| {
        ep.source_ips = svc.settings.webhook_source_ips.clone();
        ep
    }))
}

/// The project's endpoint (never its secret); 404 when none is configured.
pub async fn get(svc: &Services, t: &Tenant) -> Result<Endpoint> {
    t.require_admin()?;
    load(svc, t).await?.ok_or(Error::NotFound)
}

/// Creates or changes the endpoint. The first save generates the signing secret and answers it;
/// later saves keep it. Re-enabling clears the failure record.
pub async fn put(svc: &Services, t: &Tenant, input: EndpointInput, meta: &RequestMeta) -> Result<Endpoint> {
    t.require_admin()?;
    crate::usage::quota::require_feature(svc, t.project_id(), crate::usage::quota::Feature::Webhook).await?;
    let mut v = Validator::new();
    let url = input.url.trim().to_string();
    let problem = match guard::check_url(&url, svc.settings.webhook_allow_private_targets) {
        Ok(_) if url.len() > 500 => Some("must be at most 500 characters"),
        Ok(parsed) => guard::check_port(&parsed, svc.settings.auth.webhook_allow_any_port).err(),
        Err(p) => Some(p),
    };
    v.check(problem.is_none(), "url", problem.unwrap_or(""));
    if let Some(events) = &input.events {
        let unknown: Vec<&str> = events.iter().map(String::as_str).filter(|e| !EVENT_TYPES.contains(e)).collect();
        v.check(
            unknown.is_empty(),
            "events",
            &format!("unknown event types: {}; known: {}", unknown.join(", "), EVENT_TYPES.join(", ")),
        );
    }
    v.finish()?;
    let events = input.events.map(|mut e| {
        e.sort();
        e.dedup();
        e
    });
    let now = time::to_db(time::now());
    let existing = load(svc, t).await?;
    let secret = match existing {
        Some(_) => {
            sqlx::query(
                "UPDATE webhook_endpoints SET url = $1, events = COALESCE($2, events), \
                 enabled = COALESCE($3, enabled), \
                 disabled_reason = CASE WHEN $3 = 1 THEN NULL ELSE disabled_reason END, \
                 failing_since = CASE WHEN $3 = 1 THEN NULL ELSE failing_since END, \
                 updated_at = $4 WHERE project_id = $5",
            )
            .bind(&url)
            .bind(events.as_ref().map(|e| serde_json::to_string(e).expect("strings serialize")))
            .bind(input.enabled.map(i64::from))
            .bind(&now)
            .bind(t.project_id())
            .execute(svc.db.pool())
            .await?;
            None
        }
        None => {
            let secret = signing::new_secret();
            let events = events.unwrap_or_else(|| EVENT_TYPES.iter().map(|e| e.to_string()).collect());
            sqlx::query(
                "INSERT INTO webhook_endpoints (project_id, url, events, enabled, disabled_reason, secret_sealed, \
                 previous_secret_sealed, previous_secret_expires_at, failing_since, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, NULL, $5, NULL, NULL, NULL, $6, $6) ON CONFLICT (project_id) DO NOTHING",
            )
            .bind(t.project_id())
            .bind(&url)
            .bind(serde_json::to_string(&events).expect("strings serialize"))
            .bind(i64::from(input.enabled.unwrap_or(true)))
            .bind(svc.keys.seal(&secret))
            .bind(&now)
            .execute(svc.db.pool())
            .await?
            .rows_affected()
            .eq(&1)
            .then_some(secret)
        }
    };
    let mut ep = load(svc, t).await?.ok_or(Error::NotFound)?;
    audit::record(
        svc,
        AuditEntry::tenant(t, "webhook.update", "webhook", None, meta)
            .with_metadata(serde_json::json!({"url": ep.url, "events": ep.events, "enabled": ep.enabled})),
    )
    .await?;
    ep.secret = secret;
    Ok(ep)
}

/// A new signing secret, answered once; the previous one keeps signing for
/// [`ROTATION_OVERLAP`] so receivers can switch without losing deliveries.
pub async fn rotate(svc: &Services, t: &Tenant, meta: &RequestMeta) -> Result<Endpoint> {
    t.require_admin()?;
    let secret = signing::new_secret();
    let expires = time::now() + chrono::Duration::from_std(ROTATION_OVERLAP).expect("small duration");
    let changed = sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret_sealed = secret_sealed, previous_secret_expires_at = $1, \
         secret_sealed = $2, updated_at = $3 WHERE project_id = $4",
    )
    .bind(time::to_db(expires))
    .bind(svc.keys.seal(&secret))
    .bind(time::to_db(time::now()))
    .bind(t.project_id())
    .execute(svc.db.pool())
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(Error::NotFound);
    }
    audit::record(svc, AuditEntry::tenant(t, "webhook.rotate_secret", "webhook", None, meta)).await?;
    let mut ep = load(svc, t).await?.ok_or(Error::NotFound)?;
    ep.secret = Some(secret);
    Ok(ep)
}

/// The secrets that sign a delivery now: the current one, then the previous one during its
/// overlap. `None` when there is no endpoint; secrets that no longer open are skipped (logged).
pub(crate) async fn signing_secrets(svc: &Services, t: &Tenant) -> Result<Option<(String, bool, Vec<String>)>> {
    let row = sqlx::query(
        "SELECT url, enabled, secret_sealed, previous_secret_sealed, previous_secret_expires_at \
         FROM webhook_endpoints WHERE project_id = $1",
    )
    .bind(t.project_id())
    .fetch_optional(svc.db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let mut secrets = Vec::with_capacity(2);
    let mut sealed = vec![r.get::<String, _>("secret_sealed")];
    let previous: Option<String> = r.get("previous_secret_sealed");
    let until = time::opt_from_db(r.get("previous_secret_expires_at"));
    if let (Some(p), Some(until)) = (previous, until) {
        if until > time::now() {
            sealed.push(p);
        }
    }
    for s in sealed {
        match svc.keys.open(&s) {
            Some(secret) => secrets.push(secret),
            None => tracing::error!(project.id = t.project_id(), "a webhook secret does not open under APP_SECRET"),
        }
    }
    Ok(Some((r.get("url"), r.get::<i64, _>("enabled") != 0, secrets)))
}
