//! Projects, the tenants (SPEC §4.1): created and governed by platform staff ([`platform`]), and
//! seen and configured by their own admins ([`me`]), or signed up by themselves ([`signup`]).

pub mod domains;
pub mod me;
pub mod platform;
pub mod pusher;
pub mod pusher_jobs;
pub mod signup;

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

/// Which of a project's columns a change writes, so a change of one kind never writes back a
/// stale value of another (a settings change racing a suspension must not make it `active`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Columns {
    /// What its admins configure: name, branding, domain, billing email, `settings`, overage.
    Settings,
    Status,
    /// Plan, quotas and their overrides, the rate limit, the Stripe customer (billing's own
    /// subscription state is written by `billing`).
    Billing,
}

/// Writes the `groups` of columns of `p` (and `updated_at`) in a transaction of its own.
pub(crate) async fn store(svc: &Services, p: &Project, groups: &[Columns]) -> Result<()> {
    let mut tx = svc.db.pool().begin().await?;
    store_in(&mut tx, p, groups).await?;
    tx.commit().await?;
    forget(svc, &p.id);
    Ok(())
}

/// [`store`] inside the caller's transaction; the caller then calls [`forget`] after committing.
pub(crate) async fn store_in(conn: &mut sqlx::AnyConnection, p: &Project, groups: &[Columns]) -> Result<()> {
    use crate::error::OnConstraint;
    let mut set: Vec<&str> = vec![];
    if groups.contains(&Columns::Settings) {
        set.extend(["name", "logo_url", "brand_color", "custom_domain", "billing_email", "settings", "overage"]);
    }
    if groups.contains(&Columns::Status) {
        set.push("status");
    }
    if groups.contains(&Columns::Billing) {
        set.extend([
            "plan",
            "quota_events_per_month",
            "quota_notifications_per_month",
            "quota_users",
            "quota_rules",
            "quota_sounds",
            "quota_overrides",
            "overage",
            "rate_limit_per_second",
            "stripe_customer_id",
        ]);
    }
    let mut seen = std::collections::HashSet::new();
    set.retain(|c| seen.insert(*c));
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
            "overage" => q.bind(p.overage.clone()),
            "status" => q.bind(p.status.clone()),
            "plan" => q.bind(p.plan.clone()),
            "quota_events_per_month" => q.bind(p.quotas.events_per_month),
            "quota_notifications_per_month" => q.bind(p.quotas.notifications_per_month),
            "quota_users" => q.bind(p.quotas.users),
            "quota_rules" => q.bind(p.quotas.rules),
            "quota_sounds" => q.bind(p.quotas.sounds),
            "quota_overrides" => q.bind(serde_json::Value::Object(p.quota_overrides.clone()).to_string()),
            "rate_limit_per_second" => q.bind(p.rate_limit_per_second),
            _ => q.bind(p.stripe_customer_id.clone()),
        };
    }
    q.bind(time::to_db(time::now()))
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
