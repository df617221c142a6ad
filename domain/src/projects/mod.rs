//! Projects, the tenants (SPEC §4.1): created and governed by platform staff ([`platform`]), and
//! seen and configured by their own admins ([`me`]).

pub mod me;
pub mod platform;
pub mod pusher;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::plans::{Overrides, Quotas};
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
    /// The effective quotas: the plan's with `quota_overrides` applied (`null` = unlimited).
    pub quotas: Quotas,
    /// The quotas platform staff set by hand; a plan change leaves these alone.
    pub quota_overrides: Overrides,
    /// Past the monthly event quota on a paid plan: `reject` or `bill`.
    pub overage: String,
    /// Per-key requests a second set for this project; `null` means the plan's.
    pub rate_limit_per_second: Option<i64>,
    pub stripe_customer_id: Option<String>,
    pub subscription_id: Option<String>,
    pub subscription_status: Option<String>,
    #[serde(skip)]
    pub subscription_item_id: Option<String>,
    pub current_period_end: Option<Timestamp>,
    pub grace_until: Option<Timestamp>,
    pub settings: serde_json::Value,
    pub owner_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_event_at: Option<Timestamp>,
    /// The project's own Pusher app, shown to its admins only (`me`); never the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pusher_config: Option<pusher::PusherConfigView>,
    /// This month's volume so far, where the answer shows it (see `usage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_usage: Option<crate::usage::CurrentUsage>,
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
    quota_rules: Option<i64>,
    quota_sounds: Option<i64>,
    quota_overrides: String,
    overage: String,
    rate_limit_per_second: Option<i64>,
    stripe_customer_id: Option<String>,
    subscription_id: Option<String>,
    subscription_status: Option<String>,
    subscription_item_id: Option<String>,
    current_period_end: Option<String>,
    grace_until: Option<String>,
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
            quotas: Quotas {
                events_per_month: r.quota_events_per_month,
                notifications_per_month: r.quota_notifications_per_month,
                users: r.quota_users,
                rules: r.quota_rules,
                sounds: r.quota_sounds,
            },
            quota_overrides: serde_json::from_str(&r.quota_overrides).unwrap_or_default(),
            overage: r.overage,
            rate_limit_per_second: r.rate_limit_per_second,
            stripe_customer_id: r.stripe_customer_id,
            subscription_id: r.subscription_id,
            subscription_status: r.subscription_status,
            subscription_item_id: r.subscription_item_id,
            current_period_end: time::opt_from_db(r.current_period_end),
            grace_until: time::opt_from_db(r.grace_until),
            settings: serde_json::from_str(&r.settings).unwrap_or_default(),
            owner_id: r.owner_id,
            created_at: time::from_db(&r.created_at),
            updated_at: time::from_db(&r.updated_at),
            last_event_at: time::opt_from_db(r.last_event_at),
            pusher_config: None,
            current_usage: None,
        }
    }
}

pub(crate) const COLUMNS: &str = "id, name, slug, status, plan, logo_url, brand_color, custom_domain, billing_email, \
    quota_events_per_month, quota_notifications_per_month, quota_users, quota_rules, quota_sounds, quota_overrides, \
    overage, rate_limit_per_second, stripe_customer_id, subscription_id, subscription_status, subscription_item_id, \
    current_period_end, grace_until, settings, owner_id, created_at, updated_at, last_event_at";

pub const STATUSES: [&str; 5] = ["active", "past_due", "suspended", "trial", "cancelled"];
pub const OVERAGE_POLICIES: [&str; 2] = ["reject", "bill"];

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

/// Writes the fields a project's admins and platform staff may change (the billing state is
/// written by `billing`).
pub(crate) async fn store(svc: &Services, p: &Project) -> Result<()> {
    let mut tx = svc.db.pool().begin().await?;
    store_in(&mut tx, p).await?;
    tx.commit().await?;
    forget(svc, &p.id);
    Ok(())
}

/// [`store`] inside the caller's transaction; the caller then calls [`forget`] after committing.
pub(crate) async fn store_in(conn: &mut sqlx::AnyConnection, p: &Project) -> Result<()> {
    use crate::error::OnConstraint;
    sqlx::query(
        "UPDATE projects SET name = $1, status = $2, plan = $3, logo_url = $4, brand_color = $5, custom_domain = $6, \
         billing_email = $7, quota_events_per_month = $8, quota_notifications_per_month = $9, quota_users = $10, \
         settings = $11, updated_at = $12, quota_rules = $13, quota_sounds = $14, quota_overrides = $15, overage = $16, \
         rate_limit_per_second = $17, stripe_customer_id = $18 WHERE id = $19",
    )
    .bind(&p.name)
    .bind(&p.status)
    .bind(&p.plan)
    .bind(&p.logo_url)
    .bind(&p.brand_color)
    .bind(&p.custom_domain)
    .bind(&p.billing_email)
    .bind(p.quotas.events_per_month)
    .bind(p.quotas.notifications_per_month)
    .bind(p.quotas.users)
    .bind(p.settings.to_string())
    .bind(time::to_db(time::now()))
    .bind(p.quotas.rules)
    .bind(p.quotas.sounds)
    .bind(serde_json::Value::Object(p.quota_overrides.clone()).to_string())
    .bind(&p.overage)
    .bind(p.rate_limit_per_second)
    .bind(&p.stripe_customer_id)
    .bind(&p.id)
    .execute(&mut *conn)
    .await
    .on_unique(|| Error::field("customDomain", "is already used by another project"))?;
    Ok(())
}

/// Drops this process's cached view of the project (status, plan limits) after a change.
pub(crate) fn forget(svc: &Services, project_id: &str) {
    svc.auth_cache.forget_project(project_id);
    svc.limits.forget(project_id);
}
