//! Reading users: the project's list with filters, and one user (also for that user's own token).

use serde::Deserialize;

use super::{signed_in_user, store, User, UserRow, COLUMNS};
use crate::auth::{Permission, Tenant};
use crate::error::Result;
use crate::page::{Cursor, Page, PageRequest};
use crate::services::Services;
use crate::time;

/// `GET /users` filters; all optional, combined with AND.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListFilter {
    /// Users holding this role.
    pub role: Option<String>,
    pub status: Option<String>,
    /// A part of the email, case-insensitive.
    pub q: Option<String>,
    pub external_user_id: Option<String>,
}

/// The project's users, newest first.
pub async fn list(svc: &Services, t: &Tenant, filter: ListFilter, page: PageRequest) -> Result<Page<User>> {
    t.require(Permission::UsersManage)?;
    let (before, before_id) = page.keyset();
    let pattern =
        filter.q.map(|q| q.trim().replace(['%', '_'], "")).filter(|q| !q.is_empty()).map(|q| format!("%{q}%"));
    let like = crate::db::dialect::ilike(svc.db.backend());
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let rows: Vec<UserRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users WHERE project_id = $1 AND (created_at, id) < ($2, $8) \
         AND ($3 IS NULL OR status = $3) \
         AND ($4 IS NULL OR email {like} $4) \
         AND ($5 IS NULL OR external_user_id = $5) \
         AND ($6 IS NULL OR EXISTS (SELECT 1 FROM user_roles ur \
              WHERE ur.project_id = users.project_id AND ur.user_id = users.id AND ur.role = $6)) \
         ORDER BY created_at DESC, id DESC LIMIT $7"
    ))
    .bind(t.project_id())
    .bind(before)
    .bind(nonempty(filter.status))
    .bind(pattern)
    .bind(nonempty(filter.external_user_id))
    .bind(nonempty(filter.role))
    .bind(page.fetch_limit())
    .bind(before_id)
    .fetch_all(svc.db.pool())
    .await?;
    let users = rows.into_iter().map(User::from).collect();
    Ok(Page::from_rows(users, page.limit, |u: &User| Cursor(format!("{}{}", time::to_db(u.created_at), u.id))))
}

/// One user of the project: for `users:manage`, a project admin, or the user's own token.
pub async fn get(svc: &Services, t: &Tenant, id: &str) -> Result<User> {
    let id = crate::validate::id(id)?;
    if signed_in_user(t) != Some(id.as_str()) {
        t.require(Permission::UsersManage)?;
    }
    Ok(store::load(svc.db.pool(), t.project_id(), &id).await?.into())
}
