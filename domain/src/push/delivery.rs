//! The push worker's storage side, in stages: claim due jobs (with a lease, so two processes
//! never send the same attempt) and prepare what each sends, skipping those that need nothing
//! (acknowledged in time, no device token, no credentials); then, after the worker's requests,
//! record the outcome: drop device tokens the services call dead, update the notification's
//! delivery fields, finish the job or schedule its retry, and emit `notification.failed` when
//! every push for a notification failed.
//!
//! The claim is cross-project (it is the sweeper that finds work); everything after it acts
//! through a system tenant of the job's own project.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::Row;

use super::credentials::{self, ApnsCredentials};
use super::signing::ServiceAccount;
use super::Urgency;
use crate::auth::Tenant;
use crate::db::lease::{self, Held, JobTable, Settle};
use crate::error::Result;
use crate::notifications::{NotificationRow, COLUMNS};
use crate::services::Services;
use crate::time::{self, Timestamp};

/// How long a claimed job stays with its worker: well past its requests' timeout
/// (`PUSH_TIMEOUT_MS`; a job makes a token request and a push per service, the services side by
/// side), so only a dead worker's lease runs out.
fn lease_for(timeout: Duration) -> Duration {
    timeout * 4 + Duration::from_secs(30)
}

/// Seconds before each retry of a job whose pushes failed for a passing reason (a 5xx, a 429,
/// no answer); after the last, the job is failed.
const RETRY_SCHEDULE: [i64; 3] = [10, 60, 300];

/// A claimed job with what it sends.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: String,
    pub project_id: String,
    pub notification_id: String,
    pub user_id: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
    pub title: String,
    pub body: String,
    pub sound: Option<String>,
    pub urgency: Urgency,
    /// FCM's `data` and extra keys of the APNs payload: all strings.
    pub data: BTreeMap<String, String>,
    /// The service account and the user's FCM token, when both exist.
    pub fcm: Option<(ServiceAccount, String)>,
    pub apns: Option<(ApnsCredentials, String)>,
    /// The claim's `lease_until`: the outcome is written only while it still holds (db/lease.rs).
    pub lease: String,
}

impl Due {
    /// The sound as APNs wants it: the whole name of the file the app bundles, the sound's name
    /// plus its file's extension (`alarm.caf`; docs/SOUNDS.md). Android's raw resources are
    /// named without the extension, so FCM's `android.notification.sound` is the name alone.
    pub fn apns_sound(&self) -> Option<String> {
        let name = self.sound.as_deref()?;
        let ext = self
            .data
            .get("soundUrl")
            .and_then(|u| u.rsplit('/').next())
            .and_then(|file| file.rsplit_once('.'))
            .map(|(_, ext)| ext)
            .filter(|ext| !ext.is_empty() && ext.bytes().all(|b| b.is_ascii_alphanumeric()));
        Some(match ext {
            Some(ext) if !name.contains('.') => format!("{name}.{ext}"),
            _ => name.to_string(),
        })
    }
}

/// A push service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Fcm,
    Apns,
}

impl Provider {
    /// The key of the user's `pushTokens`.
    pub fn key(self) -> &'static str {
        match self {
            Provider::Fcm => "fcm",
            Provider::Apns => "apns",
        }
    }
}

/// What one push request came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// The service says the device token is gone or invalid: it is removed from the user.
    DeadToken(String),
    /// Worth another try later (5xx, 429, no answer, an expired credential).
    Retry(String),
    /// Will not work by retrying (refused credentials, a malformed request).
    Failed(String),
}

/// The push job table, for [`lease`].
const JOBS: JobTable = JobTable {
    table: "push_jobs",
    due_column: "due_at",
    columns: "id, project_id",
    per_project: true,
    error_column: "last_error",
    updated_at: true,
};

/// Claims up to `limit` due jobs, round-robin across projects and at most
/// `PUSH_MAX_IN_FLIGHT_PER_PROJECT` in flight per project (db/lease.rs), and prepares them; jobs
/// with nothing to send are finished here as `skipped`.
pub async fn claim_due_across_projects(svc: &Services, limit: i64) -> Result<Vec<Due>> {
    let jobs = &svc.settings.jobs;
    let claimed =
        lease::claim_due(svc, &JOBS, limit, lease_for(jobs.push_timeout), jobs.push_max_in_flight_per_project).await?;
    let mut due = Vec::with_capacity(claimed.rows.len());
    for row in claimed.rows {
        let (id, project_id): (String, String) = (row.get("id"), row.get("project_id"));
        let t = Tenant::system_for_queued_work(&project_id);
        match prepare(svc, &t, &id, &claimed.lease).await? {
            Ok(d) => due.push(d),
            Err(reason) => {
                let held = Held { project_id: Some(t.project_id()), id: &id, lease: &claimed.lease };
                lease::finish(svc, &JOBS, held, "skipped", None, Some(reason)).await?;
            }
        }
    }
    Ok(due)
}

/// The job's message and targets, or why nothing is sent.
async fn prepare(svc: &Services, t: &Tenant, id: &str, lease: &str) -> Result<std::result::Result<Due, &'static str>> {
    let job = sqlx::query("SELECT notification_id, user_id, attempts FROM push_jobs WHERE project_id = $1 AND id = $2")
        .bind(t.project_id())
        .bind(id)
        .fetch_one(svc.db.pool())
        .await?;
    let (notification_id, user_id): (String, String) = (job.get("notification_id"), job.get("user_id"));
    let acked: Option<Option<String>> = sqlx::query_scalar(
        "SELECT acknowledged_at FROM notification_recipients WHERE project_id = $1 AND notification_id = $2 AND user_id = $3",
    )
    .bind(t.project_id())
    .bind(&notification_id)
    .bind(&user_id)
    .fetch_optional(svc.db.pool())
    .await?;
    if matches!(acked, Some(Some(_))) {
        return Ok(Err("acknowledged in time"));
    }
    let row: Option<NotificationRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM notifications WHERE project_id = $1 AND id = $2"))
            .bind(t.project_id())
            .bind(&notification_id)
            .fetch_optional(svc.db.pool())
            .await?;
    let Some(n) = row.map(|r| r.into_notification(vec![])) else { return Ok(Err("the notification is gone")) };
    let user = sqlx::query("SELECT status, push_tokens FROM users WHERE project_id = $1 AND id = $2")
        .bind(t.project_id())
        .bind(&user_id)
        .fetch_optional(svc.db.pool())
        .await?;
    let Some(user) = user else { return Ok(Err("the user is gone")) };
    if user.get::<String, _>("status") != "active" {
        return Ok(Err("the user is not active"));
    }
    let tokens: serde_json::Value = serde_json::from_str(&user.get::<String, _>("push_tokens")).unwrap_or_default();
    let token = |p: Provider| tokens.get(p.key()).and_then(|v| v.as_str()).map(str::to_string);
    let creds = credentials::for_sending(svc, t).await?;
    let fcm = creds.fcm.zip(token(Provider::Fcm));
    let apns = creds.apns.zip(token(Provider::Apns));
    if fcm.is_none() && apns.is_none() {
        return Ok(Err("no device token for a configured push service"));
    }
    let mut data = BTreeMap::from([
        ("notificationId".to_string(), n.id.clone()),
        ("eventId".to_string(), n.event_id.clone()),
        ("ruleId".to_string(), n.rule_id.clone()),
        ("priority".to_string(), n.priority.to_string()),
    ]);
    if let Some(action) = &n.action {
        data.insert("action".into(), action.to_string());
    }
    if let Some(url) = &n.sound_url {
        data.insert("soundUrl".into(), url.clone());
    }
    Ok(Ok(Due {
        id: id.to_string(),
        project_id: t.project_id().to_string(),
        notification_id,
        user_id,
        attempt: job.get::<i64, _>("attempts") + 1,
        title: n.title,
        body: n.message,
        sound: n.sound,
        urgency: Urgency::from_priority(n.priority),
        data,
        fcm,
        apns,
        lease: lease.to_string(),
    }))
}

/// Records what the job's pushes came to (one outcome per provider tried).
pub async fn record(svc: &Services, due: &Due, outcomes: &[(Provider, Outcome)]) -> Result<()> {
    let t = Tenant::system_for_queued_work(&due.project_id);
    for (provider, outcome) in outcomes {
        if let Outcome::DeadToken(_) = outcome {
            let token = match provider {
                Provider::Fcm => due.fcm.as_ref().map(|f| f.1.as_str()),
                Provider::Apns => due.apns.as_ref().map(|a| a.1.as_str()),
            };
            if let Some(token) = token {
                remove_token(svc, &t, &due.user_id, *provider, token).await?;
            }
        }
    }
    let problem = || {
        outcomes
            .iter()
            .filter_map(|(p, o)| match o {
                Outcome::Sent => None,
                Outcome::DeadToken(e) | Outcome::Retry(e) | Outcome::Failed(e) => Some(format!("{}: {e}", p.key())),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let now = time::now();
    let held = || Held { project_id: Some(t.project_id()), id: &due.id, lease: &due.lease };
    // One device that got it is enough: retrying would push it there again.
    if outcomes.iter().any(|(_, o)| *o == Outcome::Sent) {
        let partial = problem();
        if lease::finish(
            svc,
            &JOBS,
            held(),
            "sent",
            Some(due.attempt),
            (!partial.is_empty()).then_some(partial.as_str()),
        )
        .await?
        {
            notification_attempt(svc, &t, &due.notification_id, None).await?;
        }
        return Ok(());
    }
    let error = problem();
    let retry = outcomes.iter().any(|(_, o)| matches!(o, Outcome::Retry(_)));
    match RETRY_SCHEDULE.get(due.attempt as usize - 1).filter(|_| retry) {
        Some(&secs) => {
            let next_due = Some(time::to_db(now + chrono::Duration::seconds(secs)));
            let again = Settle { status: "pending", attempts: Some(due.attempt), error: Some(&error), next_due };
            if lease::settle(svc, &JOBS, held(), again).await? {
                notification_attempt(svc, &t, &due.notification_id, Some(&error)).await?;
            }
            Ok(())
        }
        None => {
            if lease::finish(svc, &JOBS, held(), "failed", Some(due.attempt), Some(&error)).await? {
                if let Some((created_at, _)) = notification_attempt(svc, &t, &due.notification_id, Some(&error)).await?
                {
                    svc.analytics.failed(t.project_id(), crate::analytics::Channel::Push, created_at);
                }
                maybe_failed(svc, &t, &due.notification_id, &error).await?;
            }
            Ok(())
        }
    }
}

/// Counts an attempt on the notification; a success marks it delivered, and is counted in the
/// analytics (first for the notification when no channel delivered it before). Answers the
/// notification's creation time and event receipt time (`None`: it is gone).
async fn notification_attempt(
    svc: &Services,
    t: &Tenant,
    id: &str,
    error: Option<&str>,
) -> Result<Option<(Timestamp, Option<Timestamp>)>> {
    let now = time::to_db(time::now());
    let sql = match error {
        None => "UPDATE notifications SET delivery_attempts = delivery_attempts + 1, last_delivery_attempt = $1, \
                 delivered = 1, delivered_at = COALESCE(delivered_at, $1), delivery_error = $2 WHERE project_id = $3 AND id = $4 \
                 RETURNING created_at, event_received_at, delivered_at",
        Some(_) => "UPDATE notifications SET delivery_attempts = delivery_attempts + 1, last_delivery_attempt = $1, \
                    delivery_error = $2 WHERE project_id = $3 AND id = $4 RETURNING created_at, event_received_at, delivered_at",
    };
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(sql)
        .bind(&now)
        .bind(error)
        .bind(t.project_id())
        .bind(id)
        .fetch_optional(svc.db.writer())
        .await?;
    let Some((created_at, received_at, delivered_at)) = row else { return Ok(None) };
    let (created_at, received_at) = (time::from_db(&created_at), time::opt_from_db(received_at));
    if error.is_none() {
        let first = delivered_at.as_deref() == Some(now.as_str());
        svc.analytics.delivered(t.project_id(), crate::analytics::Channel::Push, created_at, received_at, first);
    }
    Ok(Some((created_at, received_at)))
}

/// `notification.failed` once no push for the notification is pending or sent, and it reached
/// no live socket either.
async fn maybe_failed(svc: &Services, t: &Tenant, notification_id: &str, error: &str) -> Result<()> {
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM push_jobs WHERE project_id = $1 AND notification_id = $2 AND status IN ('pending', 'sent')",
    )
    .bind(t.project_id())
    .bind(notification_id)
    .fetch_one(svc.db.pool())
    .await?;
    if open > 0 {
        return Ok(());
    }
    let row: Option<NotificationRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE project_id = $1 AND id = $2 AND delivered = 0"
    ))
    .bind(t.project_id())
    .bind(notification_id)
    .fetch_optional(svc.db.pool())
    .await?;
    if let Some(n) = row.map(|r| r.into_notification(vec![])) {
        crate::webhooks::emit::notification_failed(svc, t, &n, error).await;
    }
    Ok(())
}

/// Removes a dead device token from the user, unless it was replaced meanwhile (the update
/// matches only the value read, so a concurrent change wins).
async fn remove_token(svc: &Services, t: &Tenant, user_id: &str, provider: Provider, token: &str) -> Result<()> {
    let current: Option<String> = sqlx::query_scalar("SELECT push_tokens FROM users WHERE project_id = $1 AND id = $2")
        .bind(t.project_id())
        .bind(user_id)
        .fetch_optional(svc.db.pool())
        .await?;
    let Some(current) = current else { return Ok(()) };
    let mut tokens: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&current).unwrap_or_default();
    if tokens.get(provider.key()).and_then(|v| v.as_str()) != Some(token) {
        return Ok(());
    }
    tokens.remove(provider.key());
    sqlx::query(
        "UPDATE users SET push_tokens = $1, updated_at = $2 WHERE project_id = $3 AND id = $4 AND push_tokens = $5",
    )
    .bind(serde_json::Value::Object(tokens).to_string())
    .bind(time::to_db(time::now()))
    .bind(t.project_id())
    .bind(user_id)
    .bind(&current)
    .execute(svc.db.writer())
    .await?;
    tracing::info!(
        project.id = t.project_id(),
        user.id = user_id,
        provider = provider.key(),
        "removed a dead device token"
    );
    Ok(())
}

/// Waits until a job may be due now, or `at_most`.
pub async fn wait_for_work(svc: &Services, at_most: Duration) {
    let _ = tokio::time::timeout(at_most, svc.push_wake.0.notified()).await;
}
