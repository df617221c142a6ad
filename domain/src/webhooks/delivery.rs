//! The delivery worker's storage side, in stages: claim due messages (with a lease, so two
//! processes never send the same attempt), then, after the worker's HTTP attempt, record it as a
//! WebhookLog row and either finish the message or schedule its retry, disabling an endpoint that
//! has failed for [`DISABLE_AFTER`](super::DISABLE_AFTER).
//!
//! The claim is cross-project (it is the sweeper that finds work); everything after it acts
//! through a system tenant of the message's own project.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use sqlx::Row;

use super::{endpoint, DISABLE_AFTER};
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::Tenant;
use crate::db::lease::{self, Held, JobTable};
use crate::db::sql;
use crate::error::Result;
use crate::services::Services;
use crate::time::{self, Timestamp};

/// How long a claimed message stays with its worker: well past the attempt's timeout
/// (`WEBHOOK_TIMEOUT_MS`), so only a dead worker's lease runs out.
pub fn lease_for(timeout: Duration) -> Duration {
    timeout * 2 + Duration::from_secs(30)
}

/// The longest `Retry-After` honoured; a longer one waits this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// A claimed message, ready to send.
#[derive(Debug, Clone)]
pub struct Due {
    /// The `webhook-id`, the same on every attempt.
    pub id: String,
    pub project_id: String,
    pub event_type: String,
    pub body: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
    pub url: String,
    /// Current secret first, then the previous one during a rotation's overlap.
    pub secrets: Vec<String>,
    /// The claim's `lease_until`: the outcome is written only while it still holds (db/lease.rs).
    pub lease: String,
}

/// What one HTTP attempt came to.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub response_status: Option<u16>,
    /// The start of the response body (the worker truncates it).
    pub response_body: Option<String>,
    /// Why it failed without a usable answer (timeout, refused address, redirect...).
    pub error: Option<String>,
    pub retry_after: Option<Duration>,
    pub duration_ms: i64,
}

impl Attempt {
    pub fn success(&self) -> bool {
        self.error.is_none() && self.response_status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The message table, for [`lease`].
const JOBS: JobTable = JobTable {
    table: "webhook_messages",
    due_column: "next_attempt_at",
    columns: "id, project_id, event_type, body, attempts",
    per_project: true,
    error_column: "last_error",
    updated_at: true,
};

/// Claims up to `limit` due messages, round-robin across projects and at most
/// `WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT` in flight per endpoint (db/lease.rs). Each comes back
/// with its endpoint's URL and secrets (read once per project); a message whose endpoint was
/// removed or disabled is failed here.
pub async fn claim_due_across_projects(svc: &Services, limit: i64) -> Result<Vec<Due>> {
    let jobs = &svc.settings.jobs;
    let claimed =
        lease::claim_due(svc, &JOBS, limit, lease_for(jobs.webhook_timeout), jobs.webhook_max_in_flight_per_endpoint)
            .await?;
    let mut endpoints: HashMap<String, Option<(String, bool, Vec<String>)>> = HashMap::new();
    let mut due = Vec::with_capacity(claimed.rows.len());
    for msg in claimed.rows {
        let (id, project_id): (String, String) = (msg.get("id"), msg.get("project_id"));
        let t = Tenant::system_for_queued_work(&project_id);
        let held = Held { project_id: Some(t.project_id()), id: &id, lease: &claimed.lease };
        if !endpoints.contains_key(&project_id) {
            endpoints.insert(project_id.clone(), endpoint::signing_secrets(svc, &t).await?);
        }
        match &endpoints[&project_id] {
            Some((url, true, secrets)) if !secrets.is_empty() => due.push(Due {
                id,
                project_id,
                event_type: msg.get("event_type"),
                body: msg.get("body"),
                attempt: msg.get::<i64, _>("attempts") + 1,
                url: url.clone(),
                secrets: secrets.clone(),
                lease: claimed.lease.clone(),
            }),
            Some((_, true, _)) => {
                lease::finish(svc, &JOBS, held, "failed", None, Some("the signing secret cannot be read")).await?;
            }
            Some((_, false, _)) => {
                lease::finish(svc, &JOBS, held, "failed", None, Some("the webhook is disabled")).await?;
            }
            None => {
                lease::finish(svc, &JOBS, held, "failed", None, Some("no webhook is configured")).await?;
            }
        }
    }
    Ok(due)
}

/// Records many attempts. The successes share one commit (their WebhookLog rows, the messages
/// finished, the endpoints' failure streaks ended), so a busy endpoint costs one write per batch,
/// not two per message; each failure goes through [`record`], which schedules its retry.
pub async fn record_all(svc: &Services, attempts: &[(Due, Attempt)]) -> Result<()> {
    let (delivered, failed): (Vec<_>, Vec<_>) = attempts.iter().partition(|(_, a)| a.success());
    record_delivered(svc, &delivered).await?;
    for (due, a) in failed {
        record(svc, due, a).await?;
    }
    Ok(())
}

/// Rows per multi-row INSERT of log rows (13 values each).
const LOG_ROWS_PER_INSERT: usize = 200;

async fn record_delivered(svc: &Services, delivered: &[&(Due, Attempt)]) -> Result<()> {
    if delivered.is_empty() {
        return Ok(());
    }
    let now = time::to_db(time::now());
    let mut tx = svc.db.writer().begin().await?;
    // The messages first, each only while its claim's lease holds; the log rows then for
    // those whose lease held (a late outcome is not recorded over a newer attempt).
    let mut groups: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
    for (due, _) in delivered.iter().map(|d| (&d.0, &d.1)) {
        groups.entry((due.project_id.as_str(), due.lease.as_str())).or_default().push(due.id.as_str());
    }
    let mut held: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut projects: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for ((project_id, lease), ids) in groups {
        let t = Tenant::system_for_queued_work(project_id);
        for chunk in ids.chunks(500) {
            let statement = sql::positional(
                svc.db.backend(),
                &format!(
                    "UPDATE webhook_messages SET status = 'delivered', attempts = attempts + 1, lease_until = NULL, \
                     last_error = NULL, updated_at = $1 WHERE project_id = $2 AND lease_until = $3 AND id IN ({}) RETURNING id",
                    sql::list_placeholders(chunk.len(), 3)
                ),
            );
            let mut q = sqlx::query_scalar::<_, String>(&statement).bind(&now).bind(t.project_id()).bind(lease);
            for id in chunk {
                q = q.bind(*id);
            }
            let done = q.fetch_all(&mut *tx).await?;
            if !done.is_empty() {
                projects.insert(project_id);
            }
            held.extend(done);
        }
    }
    for project_id in projects {
        sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE project_id = $1 AND failing_since IS NOT NULL",
        )
        .bind(project_id)
        .execute(&mut *tx)
        .await?;
    }
    let logged: Vec<&(Due, Attempt)> = delivered.iter().copied().filter(|d| held.contains(&d.0.id)).collect();
    for d in delivered.iter().filter(|d| !held.contains(&d.0.id)) {
        lease::stale(&JOBS, &d.0.id);
    }
    for chunk in logged.chunks(LOG_ROWS_PER_INSERT) {
        let statement = sql::positional(
            svc.db.backend(),
            &format!("INSERT INTO webhook_logs ({LOG_COLUMNS}) VALUES {}", sql::row_placeholders(chunk.len(), 13, 0)),
        );
        let mut q = sqlx::query(&statement);
        for (due, a) in chunk.iter().map(|d| (&d.0, &d.1)) {
            q = bind_log(q, due, a, &now);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

const LOG_COLUMNS: &str = "id, project_id, message_id, event_type, payload, url, response_status, response_body, \
                           attempt_number, success, error, duration_ms, created_at";

/// Binds one WebhookLog row's 13 values, in [`LOG_COLUMNS`] order.
fn bind_log<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    due: &'q Due,
    a: &'q Attempt,
    now: &str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(uuid::Uuid::now_v7().to_string())
        .bind(&due.project_id)
        .bind(&due.id)
        .bind(&due.event_type)
        .bind(&due.body)
        .bind(&due.url)
        .bind(a.response_status.map(i64::from))
        .bind(&a.response_body)
        .bind(due.attempt)
        .bind(i64::from(a.success()))
        .bind(&a.error)
        .bind(a.duration_ms)
        .bind(now.to_string())
}

/// Records an attempt (a WebhookLog row) and, in the same commit, finishes the message or
/// schedules its next try; so a log row is never seen without its message's new state. Written
/// only while the claim's lease holds: a late outcome changes nothing (db/lease.rs).
pub async fn record(svc: &Services, due: &Due, a: &Attempt) -> Result<()> {
    let t = Tenant::system_for_queued_work(&due.project_id);
    let now = time::now();
    let success = a.success();
    let problem = a.error.clone().unwrap_or_else(|| format!("answered HTTP {}", a.response_status.unwrap_or(0)));
    let (status, next, error) = if success {
        ("delivered", None, None)
    } else {
        let next = svc
            .settings
            .webhook_retry_schedule
            .get(due.attempt as usize)
            .map(|&secs| now + chrono::Duration::from_std(next_delay(secs, a.retry_after)).unwrap_or_default());
        (if next.is_some() { "pending" } else { "failed" }, next, Some(problem.as_str()))
    };
    let now_s = time::to_db(now);
    let mut tx = svc.db.writer().begin().await?;
    let held = sqlx::query(
        "UPDATE webhook_messages SET status = $1, attempts = $2, next_attempt_at = COALESCE($3, next_attempt_at), \
         lease_until = NULL, last_error = $4, updated_at = $5 WHERE project_id = $6 AND id = $7 AND lease_until = $8",
    )
    .bind(status)
    .bind(due.attempt)
    .bind(next.map(time::to_db))
    .bind(error)
    .bind(&now_s)
    .bind(t.project_id())
    .bind(&due.id)
    .bind(&due.lease)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if held == 0 {
        lease::stale(&JOBS, &due.id);
        return Ok(()); // the transaction rolls back unused
    }
    let sql = format!("INSERT INTO webhook_logs ({LOG_COLUMNS}) VALUES {}", sql::row_placeholders(1, 13, 0));
    bind_log(sqlx::query(&sql), due, a, &now_s).execute(&mut *tx).await?;
    if success {
        sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE project_id = $1 AND failing_since IS NOT NULL",
        )
        .bind(t.project_id())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    if success {
        return Ok(());
    }
    endpoint_failed(svc, &t, now).await
}

/// The wait before the next attempt: the schedule's delay ±20%, or longer when the endpoint
/// asked for it with `Retry-After` (at most [`MAX_RETRY_AFTER`]).
pub fn next_delay(scheduled_secs: u64, retry_after: Option<Duration>) -> Duration {
    let base = Duration::from_secs(scheduled_secs);
    let jittered = if base.is_zero() { base } else { base.mul_f64(rand::thread_rng().gen_range(0.8..=1.2)) };
    match retry_after {
        Some(r) => jittered.max(r.min(MAX_RETRY_AFTER)),
        None => jittered,
    }
}

/// Notes when the endpoint started failing; disables it once it has failed for
/// [`DISABLE_AFTER`] without a success, and tells the project's admins through the audit log
/// and a mail. The disable, its audit row and the mail's outbox row are one transaction: whoever
/// sees the endpoint disabled also finds the row and the mail (docs/ARCHITECTURE.md, "Side
/// effects").
async fn endpoint_failed(svc: &Services, t: &Tenant, now: Timestamp) -> Result<()> {
    let mut tx = svc.db.writer().begin().await?;
    sqlx::query("UPDATE webhook_endpoints SET failing_since = $1 WHERE project_id = $2 AND failing_since IS NULL")
        .bind(time::to_db(now))
        .bind(t.project_id())
        .execute(&mut *tx)
        .await?;
    let cutoff = now - chrono::Duration::from_std(DISABLE_AFTER).expect("small duration");
    let reason = format!("every delivery failed for {} days", DISABLE_AFTER.as_secs() / 86_400);
    let disabled = sqlx::query(
        "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $1, updated_at = $2 \
         WHERE project_id = $3 AND enabled = 1 AND failing_since <= $4",
    )
    .bind(&reason)
    .bind(time::to_db(now))
    .bind(t.project_id())
    .bind(time::to_db(cutoff))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if disabled == 0 {
        tx.commit().await?;
        return Ok(());
    }
    tracing::warn!(project.id = t.project_id(), reason = %reason, "disabled a failing webhook endpoint");
    audit::record_with(
        &mut *tx,
        AuditEntry::tenant(t, "webhook.disabled", "webhook", None, &RequestMeta::default())
            .with_metadata(serde_json::json!({"reason": reason})),
    )
    .await?;
    let mail = disabled_mail(&mut tx, t, &reason).await?;
    tx.commit().await?;
    if let Some((id, to, subject)) = mail {
        svc.mailer.queued(&id, &to, &subject);
    }
    Ok(())
}

/// Queues, in `tx`, the mail to the project's billing address, else its owner, that the webhook
/// was disabled; answers (outbox id, address, subject) when there was someone to tell.
async fn disabled_mail(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    t: &Tenant,
    reason: &str,
) -> Result<Option<(String, String, String)>> {
    let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT p.name, p.billing_email, u.email FROM projects p \
         LEFT JOIN users u ON u.project_id = p.id AND u.id = p.owner_id WHERE p.id = $1",
    )
    .bind(t.project_id())
    .fetch_optional(&mut **tx)
    .await?;
    let Some((name, billing, owner)) = row else { return Ok(None) };
    let Some(to) = billing.or(owner) else {
        tracing::info!(project.id = t.project_id(), "no billing or owner email to tell about the disabled webhook");
        return Ok(None);
    };
    let body = format!(
        "The webhook endpoint of your project \"{name}\" was disabled: {reason}.\n\n\
         Fix the receiver, then enable the endpoint again in the project's webhook settings; \
         messages are not queued while it is disabled.\n"
    );
    let subject = format!("[{name}] Your webhook endpoint was disabled");
    let id = crate::mail::Mailer::enqueue_with(&mut **tx, &to, &subject, &body).await?;
    Ok(Some((id, to, subject)))
}

/// Waits until a message may be due now, or `at_most`.
pub async fn wait_for_work(svc: &Services, at_most: Duration) {
    let _ = tokio::time::timeout(at_most, svc.webhook_wake.0.notified()).await;
}
