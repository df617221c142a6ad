//! Changing users: partial updates (also a user's own password, metadata and push tokens),
//! approval of pending users, and deletion.

use super::input::{self, UserFields};
use super::{guard_admin, signed_in_user, store, User};
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::{Actor, Permission, Tenant};
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time;

/// What a user may change on their own record with their own token.
const SELF_SERVICE: [&str; 3] = ["password_hash", "metadata", "push_tokens"];

/// Changes the fields sent (see [`UserFields`]). `users:manage` or a project admin may change
/// everything (roles must exist; `admin` and admins are a project admin's); an end user may change
/// their own password, metadata and push tokens.
pub async fn update(svc: &Services, t: &Tenant, id: &str, input: UserFields, meta: &RequestMeta) -> Result<User> {
    let id = crate::validate::id(id)?;
    let fields = input.check()?;
    let columns = fields.columns();
    let is_self = signed_in_user(t) == Some(id.as_str());
    if is_self && matches!(t.actor(), Actor::User { .. }) {
        if !columns.iter().all(|c| SELF_SERVICE.contains(c)) {
            return Err(Error::Forbidden("you may change only your password, metadata and pushTokens"));
        }
    } else {
        t.require(Permission::UsersManage)?;
    }
    crate::roles::ensure_exist(svc, t, fields.role_names()).await?;
    let hash = input::hash_password(svc, fields.password.clone().flatten()).await?;
    if is_self && columns.contains(&"password_hash") {
        check_current_password(svc, t, &id, fields.current_password.clone()).await?;
    }
    let mut tx = svc.db.begin_write().await?;
    let mut user = User::from(store::load(&mut *tx, t.project_id(), &id).await?);
    if columns.is_empty() {
        return Ok(user);
    }
    let was_active_admin = user.is_active_admin();
    guard_admin(t, user.is_admin() || fields.grants_admin())?;
    fields.apply(&mut user);
    input::ensure_identifiable(&user)?;
    user.updated_at = time::now();
    store::update(&mut tx, &user, hash.as_deref(), &columns).await?;
    store::keep_an_admin(&mut tx, svc.db.backend(), t.project_id(), was_active_admin && !user.is_active_admin())
        .await?;
    tx.commit().await?;
    svc.auth_cache.forget_user(t.project_id(), &user.id);
    audit::record(
        svc,
        AuditEntry::tenant(t, "user.update", "user", Some(&user.id), meta)
            .with_metadata(serde_json::json!({"fields": fields.field_names()})),
    )
    .await?;
    Ok(user)
}

/// Someone changing their own password with their own token proves they know the one set (a
/// stolen token alone must not take the account over).
async fn check_current_password(svc: &Services, t: &Tenant, id: &str, current: Option<String>) -> Result<()> {
    let Some(stored) = store::load(svc.db.pool(), t.project_id(), id).await?.password_hash else {
        return Ok(());
    };
    let Some(current) = current else {
        return Err(Error::field("currentPassword", "is required to change your own password"));
    };
    if !crate::auth::passwords::verify(svc, current, stored).await {
        return Err(Error::Forbidden("the current password is wrong"));
    }
    Ok(())
}

/// Makes a `pending` (or `unverified`) user `active`. Approving an active user changes nothing; a
/// `disabled` one is re-enabled with an update of its `status` instead (409 here).
pub async fn approve(svc: &Services, t: &Tenant, id: &str, meta: &RequestMeta) -> Result<User> {
    t.require(Permission::UsersManage)?;
    let id = crate::validate::id(id)?;
    let mut tx = svc.db.begin_write().await?;
    let mut user = User::from(store::load(&mut *tx, t.project_id(), &id).await?);
    guard_admin(t, user.is_admin())?;
    match user.status.as_str() {
        "active" => return Ok(user),
        "pending" | "unverified" => {}
        _ => return Err(Error::Conflict(format!("a {} user is re-enabled by updating its status", user.status))),
    }
    let previous = std::mem::replace(&mut user.status, "active".into());
    user.updated_at = time::now();
    store::update(&mut tx, &user, None, &["status"]).await?;
    tx.commit().await?;
    svc.auth_cache.forget_user(t.project_id(), &user.id);
    audit::record(
        svc,
        AuditEntry::tenant(t, "user.approve", "user", Some(&user.id), meta)
            .with_metadata(serde_json::json!({"previousStatus": previous})),
    )
    .await?;
    Ok(user)
}

/// Deletes a user and its roles. Notifications it received stay in the history.
pub async fn delete(svc: &Services, t: &Tenant, id: &str, meta: &RequestMeta) -> Result<()> {
    t.require(Permission::UsersManage)?;
    let id = crate::validate::id(id)?;
    let mut tx = svc.db.begin_write().await?;
    let user = User::from(store::load(&mut *tx, t.project_id(), &id).await?);
    guard_admin(t, user.is_admin())?;
    sqlx::query("DELETE FROM user_roles WHERE project_id = $1 AND user_id = $2")
        .bind(t.project_id())
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM users WHERE project_id = $1 AND id = $2")
        .bind(t.project_id())
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE projects SET owner_id = NULL WHERE id = $1 AND owner_id = $2")
        .bind(t.project_id())
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    store::keep_an_admin(&mut tx, svc.db.backend(), t.project_id(), user.is_active_admin()).await?;
    tx.commit().await?;
    svc.auth_cache.forget_user(t.project_id(), &id);
    audit::record(
        svc,
        AuditEntry::tenant(t, "user.delete", "user", Some(&id), meta)
            .with_metadata(serde_json::json!({"externalUserId": user.external_user_id})),
    )
    .await?;
    Ok(())
}
