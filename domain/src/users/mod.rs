//! A project's users (SPEC §4.2, §5.4): created by the project's backend or admins
//! ([`create`]), registering themselves with the publishable key ([`create::register`]), listed
//! ([`list`]), changed, approved and deleted ([`update`]), synced in bulk from the client's own
//! user base ([`sync`]), and given tokens ([`token`]).
//!
//! `users.roles` (a JSON array) is what the API shows; `user_roles` holds the same names as rows,
//! for the notification engine's recipient lookups. Every write here changes both in one
//! transaction (`store::write_roles`).

pub mod create;
pub mod input;
pub mod list;
pub mod sync;
pub mod token;
pub mod update;

mod store;

use serde::Serialize;
use sqlx::{Any, Transaction};

pub use create::{create, register};
pub use input::UserFields;
pub use list::{get, list, ListFilter};
pub use sync::{sync, SyncItem, MAX_SYNC};
pub use token::{token, UserToken};
pub use update::{approve, delete, update};

pub(crate) use store::store_roles;

use crate::auth::{Actor, Tenant};
use crate::error::{Error, OnConstraint, Result};
use crate::time::{self, Timestamp};

/// The role that makes a user a project admin.
pub const ADMIN_ROLE: &str = "admin";

/// A user's possible statuses; only `active` users receive notifications and get tokens.
pub const STATUSES: [&str; 4] = ["pending", "active", "disabled", "unverified"];

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub project_id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub roles: Vec<String>,
    pub status: String,
    pub external_user_id: Option<String>,
    pub metadata: serde_json::Value,
    pub push_tokens: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl User {
    /// Holds the project's `admin` role.
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == ADMIN_ROLE)
    }

    fn is_active_admin(&self) -> bool {
        self.is_admin() && self.status == "active"
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    project_id: String,
    email: Option<String>,
    phone: Option<String>,
    pub(crate) password_hash: Option<String>,
    roles: String,
    status: String,
    external_user_id: Option<String>,
    metadata: String,
    push_tokens: String,
    created_at: String,
    updated_at: String,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            project_id: r.project_id,
            email: r.email,
            phone: r.phone,
            roles: serde_json::from_str(&r.roles).unwrap_or_default(),
            status: r.status,
            external_user_id: r.external_user_id,
            metadata: serde_json::from_str(&r.metadata).unwrap_or_default(),
            push_tokens: serde_json::from_str(&r.push_tokens).unwrap_or_default(),
            created_at: time::from_db(&r.created_at),
            updated_at: time::from_db(&r.updated_at),
        }
    }
}

pub(crate) const COLUMNS: &str = "id, project_id, email, phone, password_hash, roles, status, external_user_id, \
    metadata, push_tokens, created_at, updated_at";

/// Creates a project's owner: an active user holding the `admin` role.
pub(crate) async fn insert_owner(
    tx: &mut Transaction<'_, Any>,
    project_id: &str,
    email: &str,
    password: &str,
    name: Option<&str>,
) -> Result<User> {
    let now = time::now();
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        project_id: project_id.to_string(),
        email: Some(email.trim().to_lowercase()),
        phone: None,
        roles: vec![ADMIN_ROLE.to_string()],
        status: "active".into(),
        external_user_id: None,
        metadata: match name {
            Some(n) => serde_json::json!({ "name": n.trim() }),
            None => serde_json::json!({}),
        },
        push_tokens: serde_json::json!({}),
        created_at: now,
        updated_at: now,
    };
    sqlx::query(&format!("INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)"))
        .bind(&user.id)
        .bind(&user.project_id)
        .bind(&user.email)
        .bind(&user.phone)
        .bind(crate::crypto::hash_password(password))
        .bind(serde_json::to_string(&user.roles).expect("strings serialize"))
        .bind(&user.status)
        .bind(&user.external_user_id)
        .bind(user.metadata.to_string())
        .bind(user.push_tokens.to_string())
        .bind(time::to_db(now))
        .execute(&mut **tx)
        .await
        .on_unique(|| Error::field("ownerEmail", "is already a user of this project"))?;
    store::write_roles(tx, project_id, &user.id, &user.roles).await?;
    Ok(user)
}

/// The user id behind a token, when the tenant is a signed-in person.
fn signed_in_user(t: &Tenant) -> Option<&str> {
    match t.actor() {
        Actor::User { user_id } | Actor::ProjectAdmin { user_id } => Some(user_id),
        _ => None,
    }
}

/// Users holding `admin`, and the `admin` role itself, are managed by project admins only: an
/// API key with `users:manage` could otherwise make itself an admin (grant the role to a user it
/// controls, or set an admin's password and sign in, or mint an admin's token).
fn guard_admin(t: &Tenant, touches_admin: bool) -> Result<()> {
    if touches_admin {
        t.require_admin().map_err(|_| Error::Forbidden("only a project admin may manage admins and the admin role"))
    } else {
        Ok(())
    }
}
