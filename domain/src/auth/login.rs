//! Sign-in with an email and a password: platform staff, and a project's admins and users.

use serde::{Deserialize, Serialize};

use super::token::{self, TokenType};
use crate::error::{Error, Result};
use crate::platform_admins::{self, PlatformAdmin};
use crate::services::Services;
use crate::time::Timestamp;
use crate::users::{User, UserRow, COLUMNS};
use crate::crypto;

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

pub async fn platform(svc: &Services, input: PlatformLogin) -> Result<PlatformSession> {
    let found = platform_admins::find_by_email(svc, &input.email).await?;
    let password = input.password;
    let (admin, hash) = match found {
        Some(f) => f,
        None => {
            let _ = verify_blocking(password, crypto::dummy_password_hash().to_string()).await;
            return Err(BAD_LOGIN);
        }
    };
    if !verify_blocking(password, hash).await || admin.status != "active" {
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

pub async fn project(svc: &Services, input: ProjectLogin) -> Result<ProjectSession> {
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
        let _ = verify_blocking(input.password, crypto::dummy_password_hash().to_string()).await;
        return Err(BAD_LOGIN);
    };
    let hash = row.password_hash.take().unwrap_or_else(|| crypto::dummy_password_hash().to_string());
    let user = User::from(row);
    if !verify_blocking(input.password, hash).await || user.status != "active" {
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

/// argon2 takes tens of milliseconds of CPU: keep it off the async workers.
async fn verify_blocking(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || crypto::verify_password(&password, &hash)).await.unwrap_or(false)
}
