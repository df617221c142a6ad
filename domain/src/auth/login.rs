//! Sign-in with an email and a password: platform staff, and a project's admins and users.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::token::{self, TokenType};
use crate::crypto;
use crate::error::{Error, Result};
use crate::platform_admins::{self, PlatformAdmin};
use crate::services::Services;
use crate::time::Timestamp;
use crate::users::{User, UserRow, COLUMNS};

#[derive(Debug, Deserialize)]
pub struct PlatformLogin {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformSession {
    pub token: String,
    pub expires_at: Timestamp,
    pub admin: PlatformAdmin,
}

const BAD_LOGIN: Error = Error::Unauthenticated("wrong email or password");

/// Signs a platform admin in; `client` is the caller's address, for throttling.
pub async fn platform(svc: &Services, input: PlatformLogin, client: Option<IpAddr>) -> Result<PlatformSession> {
    let account = format!("platform:{}", input.email.trim().to_lowercase());
    svc.login_throttle.attempt(&account, client)?;
    let found = platform_admins::find_by_email(svc, &input.email).await?;
    let password = input.password;
    let (admin, hash) = match found {
        Some(f) => f,
        None => {
            let _ = super::passwords::verify(svc, password, crypto::dummy_password_hash().to_string()).await;
            svc.login_throttle.failed(&account);
            return Err(BAD_LOGIN);
        }
    };
    if !super::passwords::verify(svc, password, hash).await || admin.status != "active" {
        svc.login_throttle.failed(&account);
        return Err(BAD_LOGIN);
    }
    platform_admins::mark_login(svc, &admin.id).await?;
    let (token, expires_at) =
        token::issue(&svc.keys, admin.id.clone(), None, vec![admin.role.as_str().into()], TokenType::PlatformAdmin);
    Ok(PlatformSession { token, expires_at, admin })
}

#[derive(Debug, Deserialize)]
pub struct ProjectLogin {
    /// The project's slug or id.
    pub project: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSession {
    pub token: String,
    pub expires_at: Timestamp,
    pub user: User,
}

/// Signs a project's admin or user in; `client` is the caller's address, for throttling.
pub async fn project(svc: &Services, input: ProjectLogin, client: Option<IpAddr>) -> Result<ProjectSession> {
    let account = format!("project:{}:{}", input.project.trim(), input.email.trim().to_lowercase());
    svc.login_throttle.attempt(&account, client)?;
    let row: Option<UserRow> = sqlx::query_as(&format!(
        "SELECT {} FROM users WHERE email = $1 AND project_id = \
         (SELECT id FROM projects WHERE slug = $2 OR id = $2)",
        COLUMNS.split(", ").map(|c| format!("users.{c}")).collect::<Vec<_>>().join(", ")
    ))
    .bind(input.email.trim().to_lowercase())
    .bind(input.project.trim())
    .fetch_optional(svc.db.pool())
    .await?;
    let Some(mut row) = row else {
        let _ = super::passwords::verify(svc, input.password, crypto::dummy_password_hash().to_string()).await;
        svc.login_throttle.failed(&account);
        return Err(BAD_LOGIN);
    };
    let hash = row.password_hash.take().unwrap_or_else(|| crypto::dummy_password_hash().to_string());
    let user = User::from(row);
    if !super::passwords::verify(svc, input.password, hash).await || user.status != "active" {
        svc.login_throttle.failed(&account);
        return Err(BAD_LOGIN);
    }
    let status = svc.auth_cache.project_status(&svc.db, &user.project_id).await?;
    if matches!(status.as_deref(), Some("suspended") | Some("cancelled")) {
        return Err(Error::Forbidden("this project is suspended"));
    }
    let kind = if user.is_admin() { TokenType::ProjectAdmin } else { TokenType::User };
    let (token, expires_at) =
        token::issue(&svc.keys, user.id.clone(), Some(user.project_id.clone()), user.roles.clone(), kind);
    Ok(ProjectSession { token, expires_at, user })
}
