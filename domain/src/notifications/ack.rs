//! Acknowledgement: a recipient says they saw it, or a project admin records it for them.

use serde::Deserialize;

use super::Notification;
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::{Actor, Tenant};
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AckInput {
    /// The recipient a project admin acknowledges for.
    pub user_id: Option<String>,
}

/// Records the acknowledgement (once; repeating it keeps the first time). A user who is not a
/// recipient gets 404, as if the notification did not exist for them.
pub async fn acknowledge(
    svc: &Services,
    t: &Tenant,
    id: &str,
    input: AckInput,
    meta: &RequestMeta,
) -> Result<Notification> {
    let (user_id, recorded_by) = match t.actor() {
        Actor::User { user_id } => (user_id.clone(), user_id.clone()),
        Actor::ProjectAdmin { user_id: admin } => match input.user_id {
            Some(u) => (u, admin.clone()),
            None => (admin.clone(), admin.clone()),
        },
        _ => return Err(Error::Forbidden("acknowledge with a recipient's or a project admin's token")),
    };
    let n = super::list::load(svc, t, id).await?;
    if !n.recipients.contains(&user_id) {
        return Err(Error::NotFound);
    }
    let at = time::now();
    let changed = sqlx::query(
        "UPDATE notification_recipients SET acknowledged_at = $1, acknowledged_by = $2 \
         WHERE project_id = $3 AND notification_id = $4 AND user_id = $5 AND acknowledged_at IS NULL",
    )
    .bind(time::to_db(at))
    .bind(&recorded_by)
    .bind(t.project_id())
    .bind(&n.id)
    .bind(&user_id)
    .execute(svc.db.pool())
    .await?
    .rows_affected();
    if changed > 0 {
        svc.analytics.acknowledged(t.project_id(), &user_id, n.created_at, at);
        audit::record(
            svc,
            AuditEntry::tenant(t, "notification.acknowledge", "notification", Some(&n.id), meta)
                .with_metadata(serde_json::json!({"userId": user_id})),
        )
        .await?;
        crate::webhooks::emit::notification_acknowledged(svc, t, &n, &user_id, &recorded_by, at).await;
    }
    super::list::load(svc, t, &n.id).await
}
