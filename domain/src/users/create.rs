//! New users: made by the project's backend or admins (`active` unless told otherwise), or
//! registering themselves with the publishable key alone (always `pending` until approved).

use super::input::{self, Checked, UserFields};
use super::{guard_admin, store, User};
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::{Permission, PublicProject, Tenant};
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time;

/// Creates a user (API key with `users:manage`, or a project admin). Its roles must exist; only
/// a project admin may grant `admin`.
pub async fn create(svc: &Services, t: &Tenant, input: UserFields, meta: &RequestMeta) -> Result<User> {
    t.require(Permission::UsersManage)?;
    let fields = input.check()?;
    guard_admin(t, fields.grants_admin())?;
    crate::roles::ensure_exist(svc, t, fields.role_names()).await?;
    crate::usage::quota::require_room(svc, t.project_id(), crate::usage::quota::Counted::Users, 1).await?;
    let user = insert_new(svc, t.project_id(), fields, "active", false).await?;
    audit::record(
        svc,
        AuditEntry::tenant(t, "user.create", "user", Some(&user.id), meta)
            .with_metadata(serde_json::json!({"roles": user.roles, "status": user.status})),
    )
    .await?;
    Ok(user)
}

/// Self-registration (the SDK's `users.register`): a caller holding only the publishable key
/// creates a `pending` user, which a project admin or the backend then approves. It may ask for
/// existing roles, never for `admin`, and cannot choose its status.
pub async fn register(svc: &Services, p: &PublicProject, input: UserFields, meta: &RequestMeta) -> Result<User> {
    let fields = input.check()?;
    if fields.status.is_some() {
        return Err(Error::field("status", "is set by the project when it approves the user"));
    }
    if fields.grants_admin() {
        return Err(Error::field("roles", "admin cannot be asked for when registering"));
    }
    if fields.push_tokens.is_some() {
        return Err(Error::field("pushTokens", "are set by the user's app once signed in, not when registering"));
    }
    let unknown = crate::roles::missing_in(svc, p.project_id(), fields.role_names()).await?;
    if !unknown.is_empty() {
        return Err(Error::field("roles", format!("unknown roles: {}", unknown.join(", "))));
    }
    crate::usage::quota::require_room(svc, p.project_id(), crate::usage::quota::Counted::Users, 1).await?;
    let user = insert_new(svc, p.project_id(), fields, "pending", true).await?;
    audit::record(
        svc,
        AuditEntry::public(p, "user.register", "user", Some(&user.id), meta)
            .with_metadata(serde_json::json!({"roles": user.roles})),
    )
    .await?;
    crate::webhooks::emit::user_registered(svc, p.project_id(), &user).await;
    Ok(user)
}

/// Builds the new user from checked fields and stores it in its own transaction;
/// `self_registered` marks a row a stranger made with the publishable key (see `sync`).
async fn insert_new(
    svc: &Services,
    project_id: &str,
    fields: Checked,
    default_status: &str,
    self_registered: bool,
) -> Result<User> {
    let user = new_user(project_id, &fields, default_status)?;
    let hash = input::hash_password(svc, fields.password.flatten()).await?;
    let mut tx = svc.db.pool().begin().await?;
    store::insert(&mut tx, &user, hash.as_deref()).await?;
    if self_registered {
        sqlx::query("UPDATE users SET self_registered = 1 WHERE project_id = $1 AND id = $2")
            .bind(project_id)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// A new user of the project with `fields` over the defaults.
pub(super) fn new_user(project_id: &str, fields: &Checked, default_status: &str) -> Result<User> {
    let now = time::now();
    let mut user = User {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: project_id.to_string(),
        email: None,
        phone: None,
        roles: vec![],
        status: default_status.to_string(),
        external_user_id: None,
        metadata: serde_json::json!({}),
        push_tokens: serde_json::json!({}),
        created_at: now,
        updated_at: now,
    };
    fields.apply(&mut user);
    input::ensure_identifiable(&user)?;
    Ok(user)
}
