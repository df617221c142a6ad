//! Platform staff: the people who run the platform itself (SPEC §4.9).

use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditEntry};
use crate::auth::{AdminRole, PlatformAdminCtx};
use crate::crypto;
use crate::error::{Error, OnConstraint, Result, Validator};
use crate::services::Services;
use crate::time::{self, Timestamp};
use crate::validate;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformAdmin {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: AdminRole,
    pub status: String,
    pub last_login_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AdminRow {
    id: String,
    email: String,
    password_hash: String,
    name: String,
    role: String,
    status: String,
    last_login_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl AdminRow {
    fn into_admin(self) -> (PlatformAdmin, String) {
        let admin = PlatformAdmin {
            id: self.id,
            email: self.email,
            name: self.name,
            role: AdminRole::parse(&self.role).unwrap_or(AdminRole::Support),
            status: self.status,
            last_login_at: time::opt_from_db(self.last_login_at),
            created_at: time::from_db(&self.created_at),
            updated_at: time::from_db(&self.updated_at),
        };
        (admin, self.password_hash)
    }
}

const COLUMNS: &str = "id, email, password_hash, name, role, status, last_login_at, created_at, updated_at";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAdmin {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
}

/// Creates a platform admin; only a super admin may.
pub async fn create(
    svc: &Services,
    by: &PlatformAdminCtx,
    input: NewAdmin,
    meta: &audit::RequestMeta,
) -> Result<PlatformAdmin> {
    by.require(&[])?;
    let admin = insert(svc, input).await?;
    audit::record(
        svc,
        AuditEntry::platform(by, "platform_admin.create", "platform_admin", Some(&admin.id), meta)
            .with_metadata(serde_json::json!({"email": admin.email, "role": admin.role})),
    )
    .await?;
    Ok(admin)
}

/// Creates an admin without an acting admin: the start-up bootstrap and the `create-admin` command.
pub async fn insert(svc: &Services, input: NewAdmin) -> Result<PlatformAdmin> {
    let role_str = input.role.clone().unwrap_or_else(|| "support".into());
    let role = AdminRole::parse(&role_str);
    let mut v = Validator::new();
    v.check(validate::email(&input.email), "email", "must be an email address")
        .check(validate::password(&input.password), "password", "must be 8 to 256 characters")
        .check(role.is_some(), "role", "must be one of super_admin, support, billing");
    v.finish()?;
    let now = time::to_db(time::now());
    let id = uuid::Uuid::new_v4().to_string();
    let email = input.email.trim().to_lowercase();
    let name = input.name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
    sqlx::query(
        "INSERT INTO platform_admins (id, email, password_hash, name, role, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $6)",
    )
    .bind(&id)
    .bind(&email)
    .bind(crypto::hash_password(&input.password))
    .bind(&name)
    .bind(role.expect("validated").as_str())
    .bind(&now)
    .execute(svc.db.pool())
    .await
    .on_unique(|| Error::Conflict("a platform admin with this email exists".into()))?;
    find_active(svc, &id).await?.ok_or(Error::NotFound)
}

/// Creates the first super admin from PLATFORM_ADMIN_EMAIL / PLATFORM_ADMIN_PASSWORD when no
/// admin exists yet.
pub async fn bootstrap(svc: &Services, email: &str, password: &str) -> Result<bool> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM platform_admins").fetch_one(svc.db.pool()).await?;
    if count > 0 {
        return Ok(false);
    }
    insert(
        svc,
        NewAdmin { email: email.into(), password: password.into(), name: None, role: Some("super_admin".into()) },
    )
    .await?;
    Ok(true)
}

/// The e-mail address of the platform admin [`first_run`] creates.
pub const FIRST_ADMIN_EMAIL: &str = "admin@example.com";

/// First start without any platform admin and without `PLATFORM_ADMIN_*`: creates the
/// `super_admin` `admin@example.com` with a random password, keeps the credentials in
/// `<data_dir>/first-admin.txt` (readable by the owner only) and answers them, so that running
/// the server alone leads to a usable sign-in. Answers `None` when an admin exists.
pub async fn first_run(svc: &Services) -> Result<Option<(String, String, std::path::PathBuf)>> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM platform_admins").fetch_one(svc.db.pool()).await?;
    if count > 0 {
        return Ok(None);
    }
    let password = crate::crypto::random_hex(12);
    let path = svc.settings.data_dir.join("first-admin.txt");
    std::fs::create_dir_all(&svc.settings.data_dir).map_err(crate::error::Error::internal)?;
    crate::config::write_private(
        &path,
        &format!("platform admin (super_admin)\nemail: {FIRST_ADMIN_EMAIL}\npassword: {password}\n"),
    )
    .map_err(crate::error::Error::internal)?;
    insert(
        svc,
        NewAdmin {
            email: FIRST_ADMIN_EMAIL.into(),
            password: password.clone(),
            name: None,
            role: Some("super_admin".into()),
        },
    )
    .await?;
    Ok(Some((FIRST_ADMIN_EMAIL.to_string(), password, path)))
}

pub async fn find_active(svc: &Services, id: &str) -> Result<Option<PlatformAdmin>> {
    let row: Option<AdminRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM platform_admins WHERE id = $1 AND status = 'active'"))
            .bind(id)
            .fetch_optional(svc.db.pool())
            .await?;
    Ok(row.map(|r| r.into_admin().0))
}

/// The admin and their password hash, for login.
pub(crate) async fn find_by_email(svc: &Services, email: &str) -> Result<Option<(PlatformAdmin, String)>> {
    let row: Option<AdminRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM platform_admins WHERE email = $1"))
        .bind(email.trim().to_lowercase())
        .fetch_optional(svc.db.pool())
        .await?;
    Ok(row.map(AdminRow::into_admin))
}

pub(crate) async fn mark_login(svc: &Services, id: &str) -> Result<()> {
    sqlx::query("UPDATE platform_admins SET last_login_at = $1 WHERE id = $2")
        .bind(time::to_db(time::now()))
        .bind(id)
        .execute(svc.db.pool())
        .await?;
    Ok(())
}
