//! The `outbox` table: claiming due mail through the job leases every job table uses
//! (db/lease.rs; any process may claim, a dead process's lease runs out and the mail is due
//! again) and recording each attempt's outcome, fenced by the claim's lease. Platform-level,
//! not tenant data: the mail is the platform's own.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;

use super::{MAX_ATTEMPTS, RETRY_AFTER};
use crate::db::lease::{self, Held, JobTable, Settle};
use crate::error::Result;
use crate::services::Services;
use crate::time::{self, Timestamp};

/// How long a claimed mail stays with its sender; past it, the sender is presumed dead.
pub const LEASE: Duration = Duration::from_secs(300);

/// One mail as the outbox keeps it. `status`: pending, sent, failed.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMail {
    pub id: String,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub status: String,
    pub attempts: i64,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub error: Option<String>,
}

const COLUMNS: &str = "id, to_address, subject, body_text, status, attempts, created_at, sent_at, error";

const JOBS: JobTable = JobTable {
    table: "outbox",
    due_column: "next_attempt_at",
    columns: COLUMNS,
    per_project: false,
    error_column: "error",
    updated_at: false,
};

fn from_row(r: &sqlx::any::AnyRow) -> OutboxMail {
    OutboxMail {
        id: r.get("id"),
        to_address: r.get("to_address"),
        subject: r.get("subject"),
        body_text: r.get("body_text"),
        status: r.get("status"),
        attempts: r.get("attempts"),
        created_at: time::from_db(&r.get::<String, _>("created_at")),
        sent_at: time::opt_from_db(r.get("sent_at")),
        error: r.get("error"),
    }
}

/// A claimed mail: `attempts` already counts the attempt about to be made.
pub struct Claimed {
    pub mail: OutboxMail,
    pub lease: String,
}

/// Claims up to `limit` due mails, oldest due first.
pub async fn claim_due(svc: &Services, limit: i64) -> Result<Vec<Claimed>> {
    let claimed = lease::claim_due(svc, &JOBS, limit, LEASE, i64::MAX).await?;
    Ok(claimed
        .rows
        .iter()
        .map(|r| {
            let mut mail = from_row(r);
            mail.attempts += 1;
            Claimed { mail, lease: claimed.lease.clone() }
        })
        .collect())
}

fn held(c: &Claimed) -> Held<'_> {
    Held { project_id: None, id: &c.mail.id, lease: &c.lease }
}

pub async fn mark_sent(svc: &Services, c: &Claimed) -> Result<()> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'sent', attempts = $1, sent_at = $2, error = NULL, lease_until = NULL \
         WHERE id = $3 AND lease_until = $4",
    )
    .bind(c.mail.attempts)
    .bind(time::to_db(time::now()))
    .bind(&c.mail.id)
    .bind(&c.lease)
    .execute(svc.db.writer())
    .await?
    .rows_affected();
    if done == 0 {
        lease::stale(&JOBS, &c.mail.id);
    }
    Ok(())
}

/// Records a failed attempt: `failed` when `permanent` or out of attempts, else due again after
/// [`RETRY_AFTER`].
pub async fn mark_failed(svc: &Services, c: &Claimed, error: &str, permanent: bool) -> Result<()> {
    let last = permanent || c.mail.attempts >= MAX_ATTEMPTS;
    let next_due = time::now() + chrono::Duration::from_std(RETRY_AFTER).expect("small duration");
    let outcome = Settle {
        status: if last { "failed" } else { "pending" },
        attempts: Some(c.mail.attempts),
        error: Some(error),
        next_due: (!last).then(|| time::to_db(next_due)),
    };
    lease::settle(svc, &JOBS, held(c), outcome).await?;
    Ok(())
}

/// The newest mails, for the platform admin panel. Cross-tenant by nature: platform staff only.
pub async fn recent(svc: &Services, limit: i64) -> Result<Vec<OutboxMail>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1"))
        .bind(limit)
        .fetch_all(svc.db.pool())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}
