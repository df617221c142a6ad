//! Who a matched rule notifies: the project's active users holding any target role, plus the
//! event's own user (`payload.userId` = their `externalUserId`) when the rule asks for it.

use sqlx::Row;

use crate::auth::Tenant;
use crate::error::Result;
use crate::services::Services;

/// Active users of the project holding any of `roles`, by id.
pub async fn with_roles(svc: &Services, t: &Tenant, roles: &[String]) -> Result<Vec<String>> {
    if roles.is_empty() {
        return Ok(vec![]);
    }
    let placeholders: Vec<String> = (0..roles.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id \
         WHERE u.project_id = $1 AND r.project_id = $1 AND u.status = 'active' AND r.role IN ({}) ORDER BY u.id",
        placeholders.join(", ")
    );
    let mut q = sqlx::query(&sql).bind(t.project_id());
    for r in roles {
        q = q.bind(r);
    }
    Ok(q.fetch_all(svc.db.pool()).await?.iter().map(|r| r.get::<String, _>(0)).collect())
}

/// The active user whose `externalUserId` is the event's `payload.userId` (a string or a number).
pub async fn event_user(svc: &Services, t: &Tenant, payload: &serde_json::Value) -> Result<Option<String>> {
    let external = match payload.get("userId") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return Ok(None),
    };
    Ok(sqlx::query_scalar("SELECT id FROM users WHERE project_id = $1 AND external_user_id = $2 AND status = 'active'")
        .bind(t.project_id())
        .bind(external)
        .fetch_optional(svc.db.pool())
        .await?)
}

/// A rule's recipients for one event, sorted and distinct.
pub async fn resolve(
    svc: &Services,
    t: &Tenant,
    roles: &[String],
    notify_event_user: bool,
    payload: &serde_json::Value,
) -> Result<Vec<String>> {
    let holders = with_roles(svc, t, roles).await?;
    with_event_user(svc, t, holders, notify_event_user, payload).await
}

/// Adds the event's own user to the role holders when the rule asks for it; sorted, distinct.
pub async fn with_event_user(
    svc: &Services,
    t: &Tenant,
    mut ids: Vec<String>,
    notify_event_user: bool,
    payload: &serde_json::Value,
) -> Result<Vec<String>> {
    if notify_event_user {
        if let Some(u) = event_user(svc, t, payload).await? {
            ids.push(u);
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}
