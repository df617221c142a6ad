//! The attempt log (SPEC §4.10): one row per delivery attempt, newest first, and redelivery of
//! the message a row belongs to.

use serde::Serialize;
use sqlx::Row;

use crate::auth::Tenant;
use crate::error::{Error, Result};
use crate::page::{Cursor, Page, PageRequest};
use crate::services::Services;
use crate::time::{self, Timestamp};
use crate::validate;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookLog {
    pub id: String,
    /// The `webhook-id` the attempt carried; the same for every attempt of one message.
    pub message_id: String,
    pub event_type: String,
    pub payload: serde_json::Value,
    pub url: String,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub attempt_number: i64,
    pub success: bool,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub created_at: Timestamp,
}

fn from_row(r: &sqlx::any::AnyRow) -> WebhookLog {
    WebhookLog {
        id: r.get("id"),
        message_id: r.get("message_id"),
        event_type: r.get("event_type"),
        payload: serde_json::from_str(&r.get::<String, _>("payload")).unwrap_or_default(),
        url: r.get("url"),
        response_status: r.get("response_status"),
        response_body: r.get("response_body"),
        attempt_number: r.get("attempt_number"),
        success: r.get::<i64, _>("success") != 0,
        error: r.get("error"),
        duration_ms: r.get("duration_ms"),
        created_at: time::from_db(&r.get::<String, _>("created_at")),
    }
}

/// The project's attempts, newest first. Ids are UUIDv7, so the id is the cursor.
pub async fn list(svc: &Services, t: &Tenant, page: PageRequest) -> Result<Page<WebhookLog>> {
    t.require_admin()?;
    let before = page.cursor.as_ref().map(|c| c.0.clone()).unwrap_or_else(|| "~".into());
    let rows = sqlx::query(
        "SELECT id, message_id, event_type, payload, url, response_status, response_body, attempt_number, success, \
         error, duration_ms, created_at FROM webhook_logs WHERE project_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(t.project_id())
    .bind(before)
    .bind(page.fetch_limit())
    .fetch_all(svc.db.pool())
    .await?;
    Ok(Page::from_rows(rows.iter().map(from_row).collect(), page.limit, |l| Cursor(l.id.clone())))
}

/// Queues a new attempt, now, of the message a log row belongs to (under the same
/// `webhook-id`). Answers the message id. While an attempt of the message is in flight (its
/// lease holds) the redelivery is refused with a conflict, so two attempts never run side by
/// side; once that attempt is recorded it may be asked for again (docs/JOBS.md).
pub async fn redeliver(svc: &Services, t: &Tenant, log_id: &str, meta: &crate::audit::RequestMeta) -> Result<String> {
    t.require_admin()?;
    let log_id = validate::id(log_id)?;
    let message_id: String = sqlx::query("SELECT message_id FROM webhook_logs WHERE project_id = $1 AND id = $2")
        .bind(t.project_id())
        .bind(&log_id)
        .fetch_optional(svc.db.pool())
        .await?
        .ok_or(Error::NotFound)?
        .get("message_id");
    let now = time::to_db(time::now());
    let queued = sqlx::query(
        "UPDATE webhook_messages SET status = 'pending', next_attempt_at = $1, updated_at = $1 \
         WHERE project_id = $2 AND id = $3 AND (lease_until IS NULL OR lease_until < $1)",
    )
    .bind(&now)
    .bind(t.project_id())
    .bind(&message_id)
    .execute(svc.db.pool())
    .await?
    .rows_affected();
    if queued == 0 {
        return Err(Error::Conflict(
            "an attempt of this message is in flight; redeliver it once that attempt shows in the logs".into(),
        ));
    }
    crate::audit::record(
        svc,
        crate::audit::AuditEntry::tenant(t, "webhook.redeliver", "webhook_message", Some(&message_id), meta),
    )
    .await?;
    svc.webhook_wake.ring();
    Ok(message_id)
}
