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

/// Which of a project's columns a change writes, so a change of one kind never writes back a
/// stale value of another (a settings change racing a suspension must not make it `active`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Columns {
    /// What its admins configure: name, branding, domain, billing email, `settings`.
    Settings,
    Status,
    /// Plan and quotas.
    Billing,
}

/// Writes the `groups` of columns of `p` (and `updated_at`).
pub(crate) async fn store(svc: &Services, p: &Project, groups: &[Columns]) -> Result<()> {
    use crate::error::OnConstraint;
    let mut set: Vec<&str> = vec![];
    if groups.contains(&Columns::Settings) {
        set.extend(["name", "logo_url", "brand_color", "custom_domain", "billing_email", "settings"]);
    }
    if groups.contains(&Columns::Status) {
        set.push("status");
    }
    if groups.contains(&Columns::Billing) {
        set.extend(["plan", "quota_events_per_month", "quota_notifications_per_month", "quota_users"]);
    }
    let assignments: Vec<String> = set.iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
    let n = set.len();
    let sql = format!(
        "UPDATE projects SET {}{}updated_at = ${} WHERE id = ${}",
        assignments.join(", "),
        if n > 0 { ", " } else { "" },
        n + 1,
        n + 2
    );
    let mut q = sqlx::query(&sql);
    for c in &set {
        q = match *c {
            "name" => q.bind(p.name.clone()),
            "logo_url" => q.bind(p.logo_url.clone()),
            "brand_color" => q.bind(p.brand_color.clone()),
            "custom_domain" => q.bind(p.custom_domain.clone()),
            "billing_email" => q.bind(p.billing_email.clone()),
            "settings" => q.bind(p.settings.to_string()),
            "status" => q.bind(p.status.clone()),
            "plan" => q.bind(p.plan.clone()),
            "quota_events_per_month" => q.bind(p.quota_events_per_month),
            "quota_notifications_per_month" => q.bind(p.quota_notifications_per_month),
            _ => q.bind(p.quota_users),
        };
    }
    q.bind(time::to_db(time::now()))
        .bind(&p.id)
        .execute(svc.db.pool())
        .await
        .on_unique(|| Error::field("customDomain", "is already used by another project"))?;
    svc.auth_cache.forget_project(&p.id);
    Ok(())
}
