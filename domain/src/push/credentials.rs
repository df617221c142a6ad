//! A project's push credentials (`/projects/me/push`): an FCM service account and an APNs
//! signing key. Both are checked when saved (the keys must sign), sealed with Keys::seal, and
//! never answered again: admins see only whether each is configured and whose it is.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::signing::{check_apns_key, ApnsKey, ServiceAccount};
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::Tenant;
use crate::error::{Result, Validator};
use crate::patch::nullable;
use crate::services::Services;
use crate::time;

/// `PUT /projects/me/push`: a part left out is kept, `null` removes it, a value replaces it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushCredentialsInput {
    #[serde(default, deserialize_with = "nullable")]
    pub fcm: Option<Option<FcmInput>>,
    #[serde(default, deserialize_with = "nullable")]
    pub apns: Option<Option<ApnsInput>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FcmInput {
    /// The key file's JSON, as a string or as the object itself.
    pub service_account_json: serde_json::Value,
}

impl std::fmt::Debug for FcmInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FcmInput { .. }")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApnsInput {
    pub team_id: String,
    pub key_id: String,
    pub private_key_pem: String,
    /// The app's bundle id, sent as `apns-topic`.
    pub topic: String,
    #[serde(default)]
    pub sandbox: bool,
}

impl std::fmt::Debug for ApnsInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsInput").field("team_id", &self.team_id).field("key_id", &self.key_id).finish()
    }
}

/// What admins see: never a key.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushCredentials {
    pub fcm: FcmStatus,
    pub apns: ApnsStatus,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FcmStatus {
    pub configured: bool,
    pub project_id: Option<String>,
    pub client_email: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApnsStatus {
    pub configured: bool,
    pub team_id: Option<String>,
    pub key_id: Option<String>,
    pub topic: Option<String>,
    pub sandbox: bool,
}

/// The stored row: sealed secrets beside their public parts.
#[derive(Default)]
struct Stored {
    fcm_sealed: Option<String>,
    fcm_project_id: Option<String>,
    fcm_client_email: Option<String>,
    apns_sealed: Option<String>,
    apns_team_id: Option<String>,
    apns_key_id: Option<String>,
    apns_topic: Option<String>,
    apns_sandbox: bool,
}

impl Stored {
    fn status(&self) -> PushCredentials {
        PushCredentials {
            fcm: FcmStatus {
                configured: self.fcm_sealed.is_some(),
                project_id: self.fcm_project_id.clone(),
                client_email: self.fcm_client_email.clone(),
            },
            apns: ApnsStatus {
                configured: self.apns_sealed.is_some(),
                team_id: self.apns_team_id.clone(),
                key_id: self.apns_key_id.clone(),
                topic: self.apns_topic.clone(),
                sandbox: self.apns_sandbox,
            },
        }
    }
}

async fn load(svc: &Services, t: &Tenant) -> Result<Option<Stored>> {
    let row = sqlx::query(
        "SELECT fcm_sealed, fcm_project_id, fcm_client_email, apns_sealed, apns_team_id, apns_key_id, apns_topic, \
         apns_sandbox FROM push_credentials WHERE project_id = $1",
    )
    .bind(t.project_id())
    .fetch_optional(svc.db.pool())
    .await?;
    Ok(row.map(|r| Stored {
        fcm_sealed: r.get("fcm_sealed"),
        fcm_project_id: r.get("fcm_project_id"),
        fcm_client_email: r.get("fcm_client_email"),
        apns_sealed: r.get("apns_sealed"),
        apns_team_id: r.get("apns_team_id"),
        apns_key_id: r.get("apns_key_id"),
        apns_topic: r.get("apns_topic"),
        apns_sandbox: r.get::<i64, _>("apns_sandbox") != 0,
    }))
}

/// `GET /projects/me/push`.
pub async fn get(svc: &Services, t: &Tenant) -> Result<PushCredentials> {
    t.require_admin()?;
    Ok(load(svc, t).await?.unwrap_or_default().status())
}

/// `PUT /projects/me/push`: checks every part, then saves them all or none.
pub async fn put(
    svc: &Services,
    t: &Tenant,
    input: PushCredentialsInput,
    meta: &RequestMeta,
) -> Result<PushCredentials> {
    t.require_admin()?;
    let (fcm_touched, apns_touched) = (input.fcm.is_some(), input.apns.is_some());
    let mut v = Validator::new();
    let fcm = match &input.fcm {
        Some(Some(f)) => {
            let json = match &f.service_account_json {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match ServiceAccount::parse(&json) {
                Ok(sa) => Some(Some((sa, json))),
                Err(problem) => {
                    v.check(false, "fcm.serviceAccountJson", problem);
                    None
                }
            }
        }
        Some(None) => Some(None),
        None => None,
    };
    if let Some(Some(a)) = &input.apns {
        let id = |s: &str| s.len() == 10 && s.chars().all(|c| c.is_ascii_alphanumeric());
        v.check(id(a.team_id.trim()), "apns.teamId", "must be the 10-character Apple team id");
        v.check(id(a.key_id.trim()), "apns.keyId", "must be the 10-character key id");
        v.check(
            check_apns_key(&a.private_key_pem),
            "apns.privateKeyPem",
            "must be the .p8 key: an EC P-256 private key in PEM form",
        );
        let topic = a.topic.trim();
        v.check(
            !topic.is_empty() && topic.len() <= 255 && !topic.contains(char::is_whitespace),
            "apns.topic",
            "must be the app's bundle id",
        );
    }
    v.finish()?;
    let mut s = load(svc, t).await?.unwrap_or_default();
    match fcm {
        Some(Some((sa, json))) => {
            s.fcm_sealed = Some(svc.keys.seal(&json));
            s.fcm_project_id = Some(sa.project_id);
            s.fcm_client_email = Some(sa.client_email);
        }
        Some(None) => (s.fcm_sealed, s.fcm_project_id, s.fcm_client_email) = (None, None, None),
        None => {}
    }
    match input.apns {
        Some(Some(a)) => {
            s.apns_sealed = Some(svc.keys.seal(&a.private_key_pem));
            s.apns_team_id = Some(a.team_id.trim().to_string());
            s.apns_key_id = Some(a.key_id.trim().to_string());
            s.apns_topic = Some(a.topic.trim().to_string());
            s.apns_sandbox = a.sandbox;
        }
        Some(None) => {
            (s.apns_sealed, s.apns_team_id, s.apns_key_id, s.apns_topic) = (None, None, None, None);
            s.apns_sandbox = false;
        }
        None => {}
    }
    let now = time::to_db(time::now());
    sqlx::query(
        "INSERT INTO push_credentials (project_id, fcm_sealed, fcm_project_id, fcm_client_email, apns_sealed, \
         apns_team_id, apns_key_id, apns_topic, apns_sandbox, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) ON CONFLICT (project_id) DO UPDATE SET \
         fcm_sealed = excluded.fcm_sealed, fcm_project_id = excluded.fcm_project_id, \
         fcm_client_email = excluded.fcm_client_email, apns_sealed = excluded.apns_sealed, \
         apns_team_id = excluded.apns_team_id, apns_key_id = excluded.apns_key_id, apns_topic = excluded.apns_topic, \
         apns_sandbox = excluded.apns_sandbox, updated_at = excluded.updated_at",
    )
    .bind(t.project_id())
    .bind(&s.fcm_sealed)
    .bind(&s.fcm_project_id)
    .bind(&s.fcm_client_email)
    .bind(&s.apns_sealed)
    .bind(&s.apns_team_id)
    .bind(&s.apns_key_id)
    .bind(&s.apns_topic)
    .bind(i64::from(s.apns_sandbox))
    .bind(&now)
    .execute(svc.db.pool())
    .await?;
    let change = |p: bool, removed: bool| {
        if !p {
            "kept"
        } else if removed {
            "removed"
        } else {
            "set"
        }
    };
    audit::record(
        svc,
        AuditEntry::tenant(t, "push.update", "push_credentials", None, meta).with_metadata(serde_json::json!({
            "fcm": change(fcm_touched, s.fcm_sealed.is_none()),
            "apns": change(apns_touched, s.apns_sealed.is_none()),
        })),
    )
    .await?;
    Ok(s.status())
}

/// APNs credentials ready to sign with.
#[derive(Debug, Clone)]
pub struct ApnsCredentials {
    pub key: ApnsKey,
    pub topic: String,
    pub sandbox: bool,
}

/// What the worker sends with: the opened credentials (a part that does not open under this
/// APP_SECRET is left out, and logged).
#[derive(Debug, Clone, Default)]
pub struct Sendable {
    pub fcm: Option<ServiceAccount>,
    pub apns: Option<ApnsCredentials>,
}

pub(crate) async fn for_sending(svc: &Services, t: &Tenant) -> Result<Sendable> {
    let Some(s) = load(svc, t).await? else { return Ok(Sendable::default()) };
    let open = |sealed: &Option<String>, what: &str| {
        let opened = sealed.as_deref().and_then(|x| svc.keys.open(x));
        if sealed.is_some() && opened.is_none() {
            tracing::error!(
                project.id = t.project_id(),
                credential = what,
                "push credentials do not open under APP_SECRET"
            );
        }
        opened
    };
    let fcm = open(&s.fcm_sealed, "fcm").and_then(|json| ServiceAccount::parse(&json).ok());
    let apns = open(&s.apns_sealed, "apns").map(|pem| ApnsCredentials {
        key: ApnsKey {
            team_id: s.apns_team_id.clone().unwrap_or_default(),
            key_id: s.apns_key_id.clone().unwrap_or_default(),
            private_key_pem: pem,
        },
        topic: s.apns_topic.clone().unwrap_or_default(),
        sandbox: s.apns_sandbox,
    });
    Ok(Sendable { fcm, apns })
}

/// Whether the project can push at all; the fallback queues nothing for a project that cannot.
pub(crate) async fn any_configured(svc: &Services, project_id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM push_credentials WHERE project_id = $1 AND (fcm_sealed IS NOT NULL OR apns_sealed IS NOT NULL)",
    )
    .bind(project_id)
    .fetch_one(svc.db.pool())
    .await?;
    Ok(n > 0)
}
