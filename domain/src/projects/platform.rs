//! Projects as platform staff govern them (`/api/v1/platform/projects`). These are the only
//! cross-project reads and writes reachable from a request, and each takes a
//! [`PlatformAdminCtx`], so the escape from tenant scoping is visible in every signature.

use serde::{Deserialize, Serialize};

use super::me::SettingsPatch;
use super::{Project, ProjectRow, COLUMNS, STATUSES};
use crate::api_keys::{self, CreatedApiKey, KeySpec, NewApiKey};
use crate::audit::{self, AuditEntry, RequestMeta};
use crate::auth::{AdminRole, PlatformAdminCtx};
use crate::error::{Error, OnConstraint, Result, Validator};
use crate::page::{Cursor, Page, PageRequest};
use crate::services::Services;
use crate::time;
use crate::users::{self, User};
use crate::validate;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewProject {
    pub name: String,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub billing_email: Option<String>,
    #[serde(default)]
    pub owner_email: Option<String>,
    #[serde(default)]
    pub owner_password: Option<String>,
    /// The owner's name, kept in the owner's `metadata.name`.
    #[serde(default)]
    pub owner_name: Option<String>,
}

/// A new project, its first key pair (secret shown once) and its owner when one was asked for.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedProject {
    pub project: Project,
    pub api_key: CreatedApiKey,
    pub owner: Option<User>,
}

pub async fn create(
    svc: &Services,
    by: &PlatformAdminCtx,
    input: NewProject,
    meta: &RequestMeta,
) -> Result<CreatedProject> {
    by.require(&[])?;
    let created = insert(svc, input, Some(by.admin_id())).await?;
    audit::record(
        svc,
        AuditEntry::platform(by, "project.create", "project", Some(&created.project.id), meta)
            .in_project(&created.project.id)
            .with_metadata(serde_json::json!({"name": created.project.name, "slug": created.project.slug})),
    )
    .await?;
    Ok(created)
}

/// Creates a project with its first key (all permissions) and optional owner, in one transaction.
pub(crate) async fn insert(svc: &Services, input: NewProject, created_by: Option<&str>) -> Result<CreatedProject> {
    let plan = input.plan.clone().unwrap_or_else(|| "free".into());
    let mut v = Validator::new();
    v.check(validate::name(&input.name, 255), "name", "must be 1 to 255 characters")
        .check(input.slug.as_deref().is_none_or(validate::slug), "slug", "must be 1 to 100 of a-z, 0-9 and -")
        .check(crate::plans::is_plan(&plan), "plan", "must be one of free, starter, professional, enterprise")
        .check(input.billing_email.as_deref().is_none_or(validate::email), "billingEmail", "must be an email address")
        .check(input.owner_email.as_deref().is_none_or(validate::email), "ownerEmail", "must be an email address")
        .check(
            input.owner_password.as_deref().is_none_or(validate::password),
            "ownerPassword",
            "must be 8 to 256 characters",
        )
        .check(
            input.owner_email.is_some() == input.owner_password.is_some(),
            "ownerPassword",
            "ownerEmail and ownerPassword come together",
        );
    v.finish()?;

    let id = uuid::Uuid::new_v4().to_string();
    let explicit_slug = input.slug.is_some();
    let mut slug = input.slug.clone().unwrap_or_else(|| validate::slugify(&input.name));
    let now = time::to_db(time::now());
    let quotas = crate::plans::plan(&plan).quotas;
    let mut tx = svc.db.pool().begin().await?;
    // A derived slug that is taken gets a random suffix; an explicit one is a conflict.
    for attempt in 0..4 {
        let res = sqlx::query(
            "INSERT INTO projects (id, name, slug, status, plan, billing_email, settings, created_at, updated_at, \
             quota_events_per_month, quota_notifications_per_month, quota_users, quota_rules, quota_sounds) \
             VALUES ($1, $2, $3, 'active', $4, $5, '{}', $6, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(input.name.trim())
        .bind(&slug)
        .bind(&plan)
        .bind(&input.billing_email)
        .bind(&now)
        .bind(quotas.events_per_month)
        .bind(quotas.notifications_per_month)
        .bind(quotas.users)
        .bind(quotas.rules)
        .bind(quotas.sounds)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => break,
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() && !explicit_slug && attempt < 3 => {
                // PostgreSQL aborts the transaction on an error: start again.
                tx.rollback().await?;
                tx = svc.db.pool().begin().await?;
                slug = format!("{}-{}", validate::slugify(&input.name), &crate::crypto::random_hex(3));
            }
            Err(e) => return Err(Err::<(), _>(e).on_unique(|| Error::field("slug", "is already taken")).unwrap_err()),
        }
    }
    let api_key = api_keys::insert(
        &mut tx,
        svc,
        &id,
        KeySpec::validate(NewApiKey { name: Some("Default".into()), ..Default::default() })?,
        created_by,
    )
    .await?;
    let owner = match (&input.owner_email, &input.owner_password) {
        (Some(email), Some(password)) => {
            let owner = users::insert_owner(&mut tx, &id, email, password, input.owner_name.as_deref()).await?;
            sqlx::query("UPDATE projects SET owner_id = $1 WHERE id = $2")
                .bind(&owner.id)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            Some(owner)
        }
        _ => None,
    };
    tx.commit().await?;
    Ok(CreatedProject { project: super::load(svc, &id).await?, api_key, owner })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListFilter {
    pub status: Option<String>,
    pub q: Option<String>,
}

pub async fn list(
    svc: &Services,
    by: &PlatformAdminCtx,
    filter: ListFilter,
    page: PageRequest,
) -> Result<Page<Project>> {
    by.require(&[AdminRole::Support, AdminRole::Billing])?;
    let (before, before_id) = page.keyset();
    let pattern = filter.q.map(|q| format!("%{}%", q.replace(['%', '_'], "")));
    let like = crate::db::dialect::ilike(svc.db.backend());
    let rows: Vec<ProjectRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM projects WHERE (created_at, id) < ($1, $5) AND ($2 IS NULL OR status = $2) \
         AND ($3 IS NULL OR name {like} $3 OR slug {like} $3) ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind(before)
    .bind(filter.status)
    .bind(pattern)
    .bind(page.fetch_limit())
    .bind(before_id)
    .fetch_all(svc.db.pool())
    .await?;
    let projects = rows.into_iter().map(Project::from).collect();
    Ok(Page::from_rows(projects, page.limit, |p: &Project| Cursor(format!("{}{}", time::to_db(p.created_at), p.id))))
}

pub async fn get(svc: &Services, by: &PlatformAdminCtx, id: &str) -> Result<Project> {
    by.require(&[AdminRole::Support, AdminRole::Billing])?;
    let mut p = super::load(svc, &validate::id(id)?).await?;
    p.current_usage = Some(crate::usage::current(svc, &p.id).await?);
    Ok(p)
}

/// What staff may change: the admins' settings plus status, plan and quotas. Billing staff may
/// change only the plan, quotas and billing email.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformPatch {
    #[serde(flatten)]
    pub settings: SettingsPatch,
    pub status: Option<String>,
    pub plan: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub quota_events_per_month: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub quota_notifications_per_month: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub quota_users: Option<Option<i64>>,
    /// Quota overrides by name: a number sets one, `null` makes it unlimited, `"plan"` returns
    /// it to the plan's; `quotas: null` drops every override.
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub quotas: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub rate_limit_per_second: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub stripe_customer_id: Option<Option<String>>,
}

/// The overrides after `patch`, or the fields that are wrong.
fn overrides_after(
    current: &crate::plans::Overrides,
    patch: &PlatformPatch,
    v: &mut Validator,
) -> crate::plans::Overrides {
    use serde_json::Value;
    let mut o = current.clone();
    let legacy = [
        ("eventsPerMonth", patch.quota_events_per_month),
        ("notificationsPerMonth", patch.quota_notifications_per_month),
        ("users", patch.quota_users),
    ];
    for (name, value) in legacy {
        if let Some(value) = value {
            o.insert(name.into(), value.map_or(Value::Null, Value::from));
        }
    }
    match &patch.quotas {
        None => {}
        Some(None) => o.clear(),
        Some(Some(given)) => {
            for (name, value) in given {
                if !crate::plans::QUOTA_NAMES.contains(&name.as_str()) {
                    v.check(
                        false,
                        &format!("quotas.{name}"),
                        "is not a quota (eventsPerMonth, notificationsPerMonth, users, rules, sounds)",
                    );
                    continue;
                }
                match value {
                    Value::String(s) if s == "plan" => {
                        o.remove(name);
                    }
                    Value::Null => {
                        o.insert(name.clone(), Value::Null);
                    }
                    Value::Number(n) if n.as_i64().is_some_and(|n| n >= 0) => {
                        o.insert(name.clone(), value.clone());
                    }
                    _ => {
                        v.check(
                            false,
                            &format!("quotas.{name}"),
                            "must be a whole number of zero or more, null (unlimited) or \"plan\"",
                        );
                    }
                }
            }
        }
    }
    o
}

pub async fn update(
    svc: &Services,
    by: &PlatformAdminCtx,
    id: &str,
    patch: PlatformPatch,
    meta: &RequestMeta,
) -> Result<Project> {
    by.require(&[AdminRole::Billing])?;
    let touches_more_than_billing = patch.status.is_some()
        || patch.settings.name.is_some()
        || patch.settings.logo_url.is_some()
        || patch.settings.brand_color.is_some()
        || patch.settings.custom_domain.is_some();
    if touches_more_than_billing {
        by.require(&[])?;
    }
    let mut project = super::load(svc, &validate::id(id)?).await?;
    let mut v = Validator::new();
    if let Some(s) = &patch.status {
        v.check(
            STATUSES.contains(&s.as_str()),
            "status",
            "must be one of active, past_due, suspended, trial, cancelled",
        );
    }
    if let Some(p) = &patch.plan {
        v.check(crate::plans::is_plan(p), "plan", "must be one of free, starter, professional, enterprise");
    }
    if let Some(Some(r)) = patch.rate_limit_per_second {
        v.check((1..=1_000_000).contains(&r), "rateLimitPerSecond", "must be 1 to 1000000, or null for the plan's");
    }
    if let Some(Some(c)) = &patch.stripe_customer_id {
        v.check(c.starts_with("cus_") && c.len() <= 100, "stripeCustomerId", "must be a Stripe customer id (cus_…)");
    }
    for (field, value) in [
        ("quotaEventsPerMonth", patch.quota_events_per_month),
        ("quotaNotificationsPerMonth", patch.quota_notifications_per_month),
        ("quotaUsers", patch.quota_users),
    ] {
        v.check(value.flatten().is_none_or(|n| n >= 0), field, "must be zero or more, or null for unlimited");
    }
    let overrides = overrides_after(&project.quota_overrides, &patch, &mut v);
    v.finish()?;
    let mut columns = vec![];
    if !patch.settings.is_empty() {
        columns.push(super::Columns::Settings);
    }
    if patch.status.is_some() {
        columns.push(super::Columns::Status);
    }
    if patch.plan.is_some()
        || patch.quota_events_per_month.is_some()
        || patch.quota_notifications_per_month.is_some()
        || patch.quota_users.is_some()
        || patch.quotas.is_some()
        || patch.rate_limit_per_second.is_some()
        || patch.stripe_customer_id.is_some()
    {
        columns.push(super::Columns::Billing);
    }
    let before = (project.plan.clone(), project.status.clone(), project.quotas, project.quota_overrides.clone());
    project.quota_overrides = overrides;
    let plan = patch.plan.clone().unwrap_or_else(|| project.plan.clone());
    crate::billing::state::set_plan(&mut project, &plan);
    patch.settings.apply(&mut project)?;
    if let Some(s) = patch.status {
        project.status = s;
    }
    project.rate_limit_per_second = crate::patch::apply(project.rate_limit_per_second, patch.rate_limit_per_second);
    project.stripe_customer_id = crate::patch::apply(project.stripe_customer_id.take(), patch.stripe_customer_id);
    let mut tx = svc.db.begin_write().await?;
    super::store_in(&mut tx, &project, &columns).await?;
    audit::record_in(
        &mut tx,
        AuditEntry::platform(by, "project.update", "project", Some(&project.id), meta)
            .in_project(&project.id)
            .with_metadata(serde_json::json!({"status": project.status, "plan": project.plan})),
    )
    .await?;
    if before.0 != project.plan {
        let entry = AuditEntry::platform(by, "project.plan_change", "project", Some(&project.id), meta)
            .in_project(&project.id)
            .with_metadata(serde_json::json!({"from": before.0, "to": project.plan, "quotas": project.quotas}));
        audit::record_in(&mut tx, entry).await?;
    }
    if before.3 != project.quota_overrides {
        let entry = AuditEntry::platform(by, "project.quota_override", "project", Some(&project.id), meta)
            .in_project(&project.id)
            .with_metadata(serde_json::json!({"overrides": project.quota_overrides, "quotas": project.quotas}));
        audit::record_in(&mut tx, entry).await?;
    }
    if before.1 != project.status && project.status == "suspended" {
        let entry =
            AuditEntry::platform(by, "project.suspend", "project", Some(&project.id), meta).in_project(&project.id);
        audit::record_in(&mut tx, entry).await?;
    }
    tx.commit().await?;
    super::forget(svc, &project.id);
    get(svc, by, &project.id).await
}

/// `DELETE` suspends: the data stays, the keys answer 403 until staff reactivate the project.
pub async fn suspend(svc: &Services, by: &PlatformAdminCtx, id: &str, meta: &RequestMeta) -> Result<Project> {
    by.require(&[])?;
    let mut project = super::load(svc, &validate::id(id)?).await?;
    project.status = "suspended".into();
    let mut tx = svc.db.begin_write().await?;
    super::store_in(&mut tx, &project, &[super::Columns::Status]).await?;
    audit::record_in(
        &mut tx,
        AuditEntry::platform(by, "project.suspend", "project", Some(&project.id), meta).in_project(&project.id),
    )
    .await?;
    tx.commit().await?;
    super::forget(svc, &project.id);
    super::load(svc, &project.id).await
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlatformMetrics {
    pub projects: ProjectCounts,
    pub events: EventCounts,
    pub users: i64,
    pub platform_admins: i64,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectCounts {
    pub total: i64,
    pub active: i64,
    pub suspended: i64,
    pub trial: i64,
    pub cancelled: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCounts {
    pub total: i64,
    pub last_24h: i64,
    pub accepted: i64,
    pub processed: i64,
    pub failed: i64,
}

pub async fn metrics(svc: &Services, by: &PlatformAdminCtx) -> Result<PlatformMetrics> {
    by.require(&[AdminRole::Support, AdminRole::Billing])?;
    let pool = svc.db.pool();
    let mut projects = ProjectCounts::default();
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM projects GROUP BY status").fetch_all(pool).await?;
    for (status, n) in rows {
        projects.total += n;
        match status.as_str() {
            "active" => projects.active = n,
            "suspended" => projects.suspended = n,
            "trial" => projects.trial = n,
            "cancelled" => projects.cancelled = n,
            _ => {}
        }
    }
    let by_status: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM events GROUP BY status").fetch_all(pool).await?;
    let count = |s: &str| by_status.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    let since = time::to_db(time::now() - chrono::Duration::hours(24));
    let last_24h: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE received_at >= $1").bind(since).fetch_one(pool).await?;
    Ok(PlatformMetrics {
        projects,
        events: EventCounts {
            total: by_status.iter().map(|(_, n)| n).sum(),
            last_24h,
            accepted: count("accepted"),
            processed: count("processed"),
            failed: count("failed"),
        },
        users: sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?,
        platform_admins: sqlx::query_scalar("SELECT COUNT(*) FROM platform_admins").fetch_one(pool).await?,
    })
}
