//! Queuing events for a project's endpoint. Called on request paths and by the notification
//! worker, so it only inserts message rows (one read of the endpoint, one insert each); the
//! delivery worker sends them. Nothing is queued for a project without an enabled endpoint
//! subscribed to the event.

use sqlx::Row;

use super::TEST_EVENT;
use crate::auth::Tenant;
use crate::db::sql;
use crate::error::{Error, Result};
use crate::notifications::Notification;
use crate::services::Services;
use crate::time::{self, Timestamp};

/// Rows per multi-row INSERT (7 values each).
const MESSAGES_PER_INSERT: usize = 200;

/// Queues `event` with each of `items` as its `data`, when the project's endpoint wants it.
/// Answers the new messages' ids.
pub(crate) async fn queue(
    svc: &Services,
    t: &Tenant,
    event: &str,
    items: Vec<serde_json::Value>,
) -> Result<Vec<String>> {
    if items.is_empty() {
        return Ok(vec![]);
    }
    let row = sqlx::query("SELECT events, enabled FROM webhook_endpoints WHERE project_id = $1")
        .bind(t.project_id())
        .fetch_optional(svc.db.pool())
        .await?;
    let Some(row) = row else { return Ok(vec![]) };
    let events: Vec<String> = serde_json::from_str(&row.get::<String, _>("events")).unwrap_or_default();
    if row.get::<i64, _>("enabled") == 0 || (event != TEST_EVENT && !events.iter().any(|e| e == event)) {
        return Ok(vec![]);
    }
    let now = time::now();
    let now_s = time::to_db(now);
    let messages: Vec<(String, String)> = items
        .into_iter()
        .map(|data| {
            let body =
                serde_json::json!({ "event": event, "projectId": t.project_id(), "timestamp": now, "data": data });
            (format!("msg_{}", uuid::Uuid::now_v7().simple()), body.to_string())
        })
        .collect();
    let mut tx = svc.db.writer().begin().await?;
    for chunk in messages.chunks(MESSAGES_PER_INSERT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, 'pending', 0, NULL, NULL)", sql::list_placeholders(7, i * 7)))
            .collect();
        let statement = sql::positional(
            svc.db.backend(),
            &format!(
                "INSERT INTO webhook_messages (id, project_id, event_type, body, next_attempt_at, created_at, updated_at, \
                 status, attempts, lease_until, last_error) VALUES {}",
                values.join(", ")
            ),
        );
        let mut q = sqlx::query(&statement);
        for (id, body) in chunk {
            q = q.bind(id).bind(t.project_id()).bind(event).bind(body).bind(&now_s).bind(&now_s).bind(&now_s);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let ids = messages.into_iter().map(|(id, _)| id).collect();
    svc.webhook_wake.ring();
    Ok(ids)
}

/// Queues an event after the change that caused it was committed; a failure to queue is logged,
/// not answered, since the change itself stands.
async fn after_commit(svc: &Services, t: &Tenant, event: &str, items: Vec<serde_json::Value>) {
    if let Err(e) = queue(svc, t, event, items).await {
        tracing::warn!(error = %e, project.id = t.project_id(), webhook.event = event, "could not queue a webhook");
    }
}

/// `POST /projects/me/webhook/test`: a `webhook.test` message, sent as soon as the worker wakes.
pub async fn send_test(svc: &Services, t: &Tenant) -> Result<String> {
    t.require_admin()?;
    let ep = super::endpoint::get(svc, t).await?;
    if !ep.enabled {
        return Err(Error::Conflict("the webhook is disabled; enable it before testing".into()));
    }
    let data = serde_json::json!({"message": "This is a test event from the notification platform."});
    queue(svc, t, TEST_EVENT, vec![data]).await?.pop().ok_or(Error::NotFound)
}

/// `notification.delivered` for each notification whose frame reached at least one live socket:
/// `(notification, the recipients who had one)`.
pub async fn notifications_delivered(svc: &Services, delivered: &[(&Notification, Vec<String>)]) {
    let at = time::now();
    let mut by_project: std::collections::BTreeMap<&str, Vec<serde_json::Value>> = Default::default();
    for (n, users) in delivered {
        by_project.entry(&n.project_id).or_default().push(serde_json::json!({
            "notificationId": n.id, "eventId": n.event_id, "ruleId": n.rule_id, "userIds": users,
            "status": "delivered", "deliveredAt": at,
        }));
    }
    for (project_id, items) in by_project {
        svc.meter.add(project_id, crate::usage::meter::Metric::NotificationsDelivered, items.len() as i64);
        after_commit(svc, &Tenant::system_for_queued_work(project_id), "notification.delivered", items).await;
    }
}

/// `notification.failed`, when every push for a notification that reached no live socket failed.
pub(crate) async fn notification_failed(svc: &Services, t: &Tenant, n: &Notification, error: &str) {
    svc.meter.add(t.project_id(), crate::usage::meter::Metric::NotificationsFailed, 1);
    svc.analytics.failed(t.project_id(), crate::analytics::Channel::All, n.created_at);
    let data = serde_json::json!({
        "notificationId": n.id, "eventId": n.event_id, "ruleId": n.rule_id, "userIds": n.recipients,
        "status": "failed", "error": error, "failedAt": time::now(),
    });
    after_commit(svc, t, "notification.failed", vec![data]).await;
}

/// `notification.acknowledged`, when a recipient's acknowledgement was first recorded.
pub(crate) async fn notification_acknowledged(
    svc: &Services,
    t: &Tenant,
    n: &Notification,
    user_id: &str,
    by: &str,
    at: Timestamp,
) {
    let data = serde_json::json!({
        "notificationId": n.id, "eventId": n.event_id, "ruleId": n.rule_id, "userId": user_id,
        "recordedBy": by, "status": "acknowledged", "acknowledgedAt": at,
    });
    after_commit(svc, t, "notification.acknowledged", vec![data]).await;
}

/// `user.registered`, when a user registered themselves with the publishable key.
pub(crate) async fn user_registered(svc: &Services, project_id: &str, user: &crate::users::User) {
    let data = serde_json::json!({
        "userId": user.id, "externalUserId": user.external_user_id, "email": user.email,
        "roles": user.roles, "status": user.status, "createdAt": user.created_at,
    });
    after_commit(svc, &Tenant::system_for_queued_work(project_id), "user.registered", vec![data]).await;
}

/// Queues `event` inside the caller's transaction, so it commits (or not) with the change that
/// caused it; the caller rings `webhook_wake` after committing. Answers whether it was queued.
pub(crate) async fn queue_in(
    conn: &mut sqlx::AnyConnection,
    project_id: &str,
    event: &str,
    data: serde_json::Value,
) -> Result<bool> {
    let row = sqlx::query("SELECT events, enabled FROM webhook_endpoints WHERE project_id = $1")
        .bind(project_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(false) };
    let events: Vec<String> = serde_json::from_str(&row.get::<String, _>("events")).unwrap_or_default();
    if row.get::<i64, _>("enabled") == 0 || !events.iter().any(|e| e == event) {
        return Ok(false);
    }
    let now = time::now();
    let now_s = time::to_db(now);
    let body = serde_json::json!({ "event": event, "projectId": project_id, "timestamp": now, "data": data });
    sqlx::query(
        "INSERT INTO webhook_messages (id, project_id, event_type, body, next_attempt_at, created_at, updated_at, \
         status, attempts, lease_until, last_error) VALUES ($1, $2, $3, $4, $5, $5, $5, 'pending', 0, NULL, NULL)",
    )
    .bind(format!("msg_{}", uuid::Uuid::now_v7().simple()))
    .bind(project_id)
    .bind(event)
    .bind(body.to_string())
    .bind(&now_s)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}
