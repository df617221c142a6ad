//! Tokens for end users, minted by the client's backend (`POST /users/{id}/token`), so its app
//! can read the user's notifications and authorise the user's realtime channel.

use serde::Serialize;

use super::{guard_admin, store, User};
use crate::auth::token::{self, TokenType};
use crate::auth::{Permission, Tenant};
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time::Timestamp;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserToken {
    pub token: String,
    pub expires_at: Timestamp,
}

/// A token for an active user: `project_admin` when the user holds `admin` (which only a project
/// admin may ask for), else `user`.
pub async fn token(svc: &Services, t: &Tenant, id: &str) -> Result<UserToken> {
    t.require(Permission::UsersManage)?;
    let id = crate::validate::id(id)?;
    let user = User::from(store::load(svc.db.pool(), t.project_id(), &id).await?);
    guard_admin(t, user.is_admin())?;
    if user.status != "active" {
        return Err(Error::Conflict(format!("only an active user gets a token; this one is {}", user.status)));
    }
    let kind = if user.is_admin() { TokenType::ProjectAdmin } else { TokenType::User };
    let via = match t.actor() {
        crate::auth::Actor::ApiKey { key_id, .. } => Some(key_id.clone()),
        _ => None,
    };
    let (token, expires_at) = token::issue_via(&svc.keys, user.id, Some(user.project_id), user.roles, kind, via);
    Ok(UserToken { token, expires_at })
}
