//! The `outbox` table: claiming pending mail (any process may; a claim older than
//! [`CLAIM_TIMEOUT`] is presumed dead and taken over) and recording each attempt's outcome.
//! Platform-level, not tenant data: the mail is the platform's own.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;

use super::{MAX_ATTEMPTS, RETRY_AFTER};
use crate::error::Result;
use crate::services::Services;
use crate::time::{self, Timestamp};

/// A claim this old belongs to a process that died mid-send.
pub const CLAIM_TIMEOUT: Duration = Duration::from_secs(300);

/// One mail as the outbox keeps it. `status`: pending, sending, sent, failed.
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

const COLUMNS: &str = "id, to_address, subject, body_text, status, attempts, claimed_at, created_at, sent_at, error";

fn from_row(r: &sqlx::any::AnyRow) -> (OutboxMail, Option<String>) {
    let mail = OutboxMail {
        id: r.get("id"),
        to_address: r.get("to_address"),
        subject: r.get("subject"),
        body_text: r.get("body_text"),
        status: r.get("status"),
        attempts: r.get("attempts"),
        created_at: time::from_db(&r.get::<String, _>("created_at")),
        sent_at: time::opt_from_db(r.get("sent_at")),
        error: r.get("error"),
    };
    (mail, r.get("claimed_at"))
}

fn ago(d: Duration) -> String {
    time::to_db(time::now() - chrono::Duration::from_std(d).expect("small duration"))
}

/// Claims up to `limit` mails that are due: pending (and past their retry wait), or stuck in a
/// dead process's claim. Each claim is a conditional update, so two processes never both win.
pub async fn claim_due(svc: &Services, limit: i64) -> Result<Vec<OutboxMail>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE (status = 'pending' AND (claimed_at IS NULL OR claimed_at <= $1)) \
         OR (status = 'sending' AND claimed_at <= $2) ORDER BY created_at LIMIT $3"
    ))
    .bind(ago(RETRY_AFTER))
    .bind(ago(CLAIM_TIMEOUT))
    .bind(limit)
    .fetch_all(svc.db.pool())
    .await?;
    let now = time::to_db(time::now());
    let mut claimed = Vec::new();
    for r in &rows {
        let (mut mail, claimed_at) = from_row(r);
        let won = sqlx::query(
            "UPDATE outbox SET status = 'sending', claimed_at = $1, attempts = attempts + 1 \
             WHERE id = $2 AND status = $3 AND COALESCE(claimed_at, '') = $4",
        )
        .bind(&now)
        .bind(&mail.id)
        .bind(&mail.status)
        .bind(claimed_at.unwrap_or_default())
        .execute(svc.db.pool())
        .await?
        .rows_affected();
        if won == 1 {
            mail.attempts += 1;
            mail.status = "sending".into();
            claimed.push(mail);
        }
    }
    Ok(claimed)
}

pub async fn mark_sent(svc: &Services, id: &str) -> Result<()> {
    sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $1, error = NULL WHERE id = $2")
        .bind(time::to_db(time::now()))
        .bind(id)
        .execute(svc.db.pool())
        .await?;
    Ok(())
}

/// Records a failed attempt: `failed` when `permanent` or out of attempts, else pending again
/// (claimed_at marks when the wait started).
pub async fn mark_failed(svc: &Services, mail: &OutboxMail, error: &str, permanent: bool) -> Result<()> {
    let status = if permanent || mail.attempts >= MAX_ATTEMPTS { "failed" } else { "pending" };
    sqlx::query("UPDATE outbox SET status = $1, error = $2, claimed_at = $3 WHERE id = $4")
        .bind(status)
        .bind(error)
        .bind(time::to_db(time::now()))
        .bind(&mail.id)
        .execute(svc.db.pool())
        .await?;
    Ok(())
}

/// The newest mails, for the platform admin panel. Cross-tenant by nature: platform staff only.
pub async fn recent(svc: &Services, limit: i64) -> Result<Vec<OutboxMail>> {
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1"))
        .bind(limit)
        .fetch_all(svc.db.pool())
        .await?;
    Ok(rows.iter().map(|r| from_row(r).0).collect())
}
