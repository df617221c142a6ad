//! Reading notifications: a list with filters, and one by id. An end user sees only their own.

use serde::Deserialize;
use sqlx::Row;

use super::{Acknowledgement, Notification, NotificationRow, COLUMNS};
use crate::auth::{Actor, Permission, Tenant};
use crate::error::{Error, Result};
use crate::page::{Cursor, Page, PageRequest};
use crate::services::Services;
use crate::{time, validate};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListFilter {
    pub user_id: Option<String>,
    pub rule_id: Option<String>,
    pub since: Option<String>,
    /// With `userId`: whether that user acknowledged; without: whether anyone did.
    pub acknowledged: Option<bool>,
}

/// Who may read: a key with `notifications:read` or a project admin (anyone's); an end user
/// (their own only). Answers the user a read is restricted to.
fn reader(t: &Tenant) -> Result<Option<String>> {
    match t.actor() {
        Actor::User { user_id } => Ok(Some(user_id.clone())),
        _ => t.require(Permission::NotificationsRead).map(|_| None),
    }
}

pub async fn list(svc: &Services, t: &Tenant, mut filter: ListFilter, page: PageRequest) -> Result<Page<Notification>> {
    if let Some(own) = reader(t)? {
        filter.user_id = Some(own);
    }
    let since = match &filter.since {
        Some(s) => {
            Some(time::to_db(time::parse_client(s).ok_or_else(|| Error::field("since", "must be an RFC 3339 time"))?))
        }
        None => None,
    };
    let (before, before_id) = page.keyset();
    let ack_clause = match (filter.acknowledged, filter.user_id.is_some()) {
        (None, _) => "",
        (Some(true), true) => " AND EXISTS (SELECT 1 FROM notification_recipients r WHERE r.notification_id = n.id AND r.user_id = $4 AND r.acknowledged_at IS NOT NULL)",
        (Some(false), true) => " AND EXISTS (SELECT 1 FROM notification_recipients r WHERE r.notification_id = n.id AND r.user_id = $4 AND r.acknowledged_at IS NULL)",
        (Some(true), false) => " AND EXISTS (SELECT 1 FROM notification_recipients r WHERE r.notification_id = n.id AND r.acknowledged_at IS NOT NULL)",
        (Some(false), false) => " AND NOT EXISTS (SELECT 1 FROM notification_recipients r WHERE r.notification_id = n.id AND r.acknowledged_at IS NOT NULL)",
    };
    let cols = COLUMNS.split(", ").map(|c| format!("n.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols} FROM notifications n WHERE n.project_id = $1 AND (n.created_at, n.id) < ($2, $7) \
         AND ($3 IS NULL OR n.rule_id = $3) \
         AND ($4 IS NULL OR EXISTS (SELECT 1 FROM notification_recipients u WHERE u.notification_id = n.id AND u.user_id = $4)) \
         AND ($5 IS NULL OR n.created_at >= $5){ack_clause} ORDER BY n.created_at DESC, n.id DESC LIMIT $6"
    );
    let rows: Vec<NotificationRow> = sqlx::query_as(&sql)
        .bind(t.project_id())
        .bind(before)
        .bind(filter.rule_id)
        .bind(filter.user_id)
        .bind(since)
        .bind(page.fetch_limit())
        .bind(before_id)
        .fetch_all(svc.db.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let acks = acknowledgements(svc, t, &r_id(&r)).await?;
        out.push(r.into_notification(acks));
    }
    Ok(Page::from_rows(out, page.limit, |n: &Notification| Cursor(format!("{}{}", time::to_db(n.created_at), n.id))))
}

fn r_id(r: &NotificationRow) -> String {
    r.id.clone()
}

pub async fn get(svc: &Services, t: &Tenant, id: &str) -> Result<Notification> {
    let own = reader(t)?;
    let n = load(svc, t, id).await?;
    if let Some(user) = own {
        if !n.recipients.contains(&user) {
            return Err(Error::NotFound);
        }
    }
    Ok(n)
}

pub(crate) async fn load(svc: &Services, t: &Tenant, id: &str) -> Result<Notification> {
    let id = validate::id(id)?;
    let row: NotificationRow =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM notifications WHERE project_id = $1 AND id = $2"))
            .bind(t.project_id())
            .bind(&id)
            .fetch_optional(svc.db.pool())
            .await?
            .ok_or(Error::NotFound)?;
    let acks = acknowledgements(svc, t, &id).await?;
    Ok(row.into_notification(acks))
}

pub(crate) async fn acknowledgements(
    svc: &Services,
    t: &Tenant,
    notification_id: &str,
) -> Result<Vec<Acknowledgement>> {
    let rows = sqlx::query(
        "SELECT user_id, acknowledged_at, acknowledged_by FROM notification_recipients \
         WHERE project_id = $1 AND notification_id = $2 AND acknowledged_at IS NOT NULL \
         AND ($3 IS NULL OR user_id = $3) ORDER BY acknowledged_at",
    )
    .bind(t.project_id())
    .bind(notification_id)
    // An end user sees their own acknowledgement, not who else received it.
    .bind(match t.actor() {
        crate::auth::Actor::User { user_id } => Some(user_id.clone()),
        _ => None,
    })
    .fetch_all(svc.db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Acknowledgement {
            user_id: r.get("user_id"),
            acknowledged_at: time::from_db(&r.get::<String, _>("acknowledged_at")),
            recorded_by: r.get::<Option<String>, _>("acknowledged_by").unwrap_or_default(),
        })
        .collect())
}
