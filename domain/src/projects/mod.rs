//! Projects, the tenants (SPEC §4.1): created and governed by platform staff ([`platform`]), and
//! seen and configured by their own admins ([`me`]).

pub mod me;
pub mod platform;
pub mod pusher;
pub mod pusher_jobs;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::services::Services;
use crate::time::{self, Timestamp};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub status: String,
    pub plan: String,
    pub logo_url: Option<String>,
    pub brand_color: Option<String>,
    pub custom_domain: Option<String>,
    pub billing_email: Option<String>,
    pub quota_events_per_month: Option<i64>,
    pub quota_notifications_per_month: Option<i64>,
    pub quota_users: Option<i64>,
    pub settings: serde_json::Value,
    pub owner_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_event_at: Option<Timestamp>,
    /// The project's own Pusher app, shown to its admins only (`me`); never the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pusher_config: Option<pusher::PusherConfigView>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProjectRow {
    id: String,
    name: String,
    slug: String,
    status: String,
    plan: String,
    logo_url: Option<String>,
    brand_color: Option<String>,
    custom_domain: Option<String>,
    billing_email: Option<String>,
    quota_events_per_month: Option<i64>,
    quota_notifications_per_month: Option<i64>,
    quota_users: Option<i64>,
    settings: String,
    owner_id: Option<String>,
    created_at: String,
    updated_at: String,
    last_event_at: Option<String>,
}

impl From<ProjectRow> for Project {
    fn from(r: ProjectRow) -> Self {
        Project {
            id: r.id,
            name: r.name,
            slug: r.slug,
            status: r.status,
            plan: r.plan,
            logo_url: r.logo_url,
            brand_color: r.brand_color,
            custom_domain: r.custom_domain,
            billing_email: r.billing_email,
            quota_events_per_month: r.quota_events_per_month,
            quota_notifications_per_month: r.quota_notifications_per_month,
            quota_users: r.quota_users,
            settings: serde_json::from_str(&r.settings).unwrap_or_default(),
            owner_id: r.owner_id,
            created_at: time::from_db(&r.created_at),
            updated_at: time::from_db(&r.updated_at),
            last_event_at: time::opt_from_db(r.last_event_at),
            pusher_config: None,
        }
    }
}

pub(crate) const COLUMNS: &str = "id, name, slug, status, plan, logo_url, brand_color, custom_domain, billing_email, \
    quota_events_per_month, quota_notifications_per_month, quota_users, settings, owner_id, created_at, updated_at, \
    last_event_at";

pub const PLANS: [&str; 4] = ["free", "starter", "professional", "enterprise"];
pub const STATUSES: [&str; 4] = ["active", "suspended", "trial", "cancelled"];

/// Reads one project by id. Crate-internal: callers outside reach projects through a tenant or a
/// platform admin context.
pub(crate) async fn load(svc: &Services, id: &str) -> Result<Project> {
    let row: ProjectRow = sqlx::query_as(&format!("SELECT {COLUMNS} FROM projects WHERE id = $1"))
        .bind(id)
        .fetch_optional(svc.db.pool())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(row.into())
}

/// Writes the fields a project's admins and platform staff may change.
pub(crate) async fn store(svc: &Services, p: &Project) -> Result<()> {
    use crate::error::OnConstraint;
    sqlx::query(
        "UPDATE projects SET name = $1, status = $2, plan = $3, logo_url = $4, brand_color = $5, custom_domain = $6, \
         billing_email = $7, quota_events_per_month = $8, quota_notifications_per_month = $9, quota_users = $10, \
         settings = $11, updated_at = $12 WHERE id = $13",
    )
    .bind(&p.name)
    .bind(&p.status)
    .bind(&p.plan)
    .bind(&p.logo_url)
    .bind(&p.brand_color)
    .bind(&p.custom_domain)
    .bind(&p.billing_email)
    .bind(p.quota_events_per_month)
    .bind(p.quota_notifications_per_month)
    .bind(p.quota_users)
    .bind(p.settings.to_string())
    .bind(time::to_db(time::now()))
    .bind(&p.id)
    .execute(svc.db.pool())
    .await
    .on_unique(|| Error::field("customDomain", "is already used by another project"))?;
    svc.auth_cache.forget_project(&p.id);
    Ok(())
}
