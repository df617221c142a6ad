//! The presence-aware fallback: when a notification is published, each recipient without a live
//! socket gets a push job due now, and each connected one a job due when the project's
//! `ackTimeoutSeconds` runs out (the worker skips it if they acknowledged by then). Called on
//! the publish path, so it only inserts rows; the (notification, user) key makes publishing twice
//! harmless.

use std::collections::BTreeMap;

use super::{credentials, DEFAULT_ACK_TIMEOUT_SECS};
use crate::auth::Tenant;
use crate::error::Result;
use crate::notifications::Notification;
use crate::services::Services;
use crate::time;

/// Queues the fallback pushes for `published`: `(notification, the recipients who had a live
/// socket)`. Failures are logged, not answered: the realtime delivery already happened.
pub async fn after_publish(svc: &Services, published: &[(&Notification, Vec<String>)]) {
    let mut by_project: BTreeMap<&str, Vec<&(&Notification, Vec<String>)>> = BTreeMap::new();
    for p in published {
        by_project.entry(&p.0.project_id).or_default().push(p);
    }
    for (project_id, items) in by_project {
        let t = Tenant::system_for_queued_work(project_id);
        if let Err(e) = queue(svc, &t, &items).await {
            tracing::warn!(error = %e, project.id = project_id, "could not queue push fallbacks");
        }
    }
}

async fn queue(svc: &Services, t: &Tenant, items: &[&(&Notification, Vec<String>)]) -> Result<()> {
    if !credentials::any_configured(svc, t.project_id()).await? {
        return Ok(());
    }
    let timeout = ack_timeout_secs(svc, t).await?;
    let now = time::now();
    let later = time::to_db(now + chrono::Duration::seconds(timeout));
    let now_s = time::to_db(now);
    let mut due_now = false;
    let mut tx = svc.db.writer().begin().await?;
    for (n, live) in items {
        for user in &n.recipients {
            let connected = live.contains(user);
            due_now |= !connected;
            sqlx::query(
                "INSERT INTO push_jobs (id, project_id, notification_id, user_id, reason, status, attempts, due_at, \
                 lease_until, last_error, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, NULL, NULL, $7, $7) \
                 ON CONFLICT (notification_id, user_id) DO NOTHING",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(t.project_id())
            .bind(&n.id)
            .bind(user)
            .bind(if connected { "ack_timeout" } else { "offline" })
            .bind(if connected { &later } else { &now_s })
            .bind(&now_s)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    if due_now {
        svc.push_wake.ring();
    }
    Ok(())
}

/// The project's `settings.ackTimeoutSeconds`, or the default.
async fn ack_timeout_secs(svc: &Services, t: &Tenant) -> Result<i64> {
    let settings: Option<String> = sqlx::query_scalar("SELECT settings FROM projects WHERE id = $1")
        .bind(t.project_id())
        .fetch_optional(svc.db.pool())
        .await?;
    let value = settings.and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
    Ok(value
        .and_then(|v| v.get("ackTimeoutSeconds").and_then(|s| s.as_i64()))
        .filter(|s| *s >= 0)
        .unwrap_or(DEFAULT_ACK_TIMEOUT_SECS))
}
