//! Projects as platform staff govern them (`/api/v1/platform/projects`). These are the only
//! cross-project reads and writes reachable from a request, and each takes a
//! [`PlatformAdminCtx`], so the escape from tenant scoping is visible in every signature.

use serde::{Deserialize, Serialize};

use super::me::SettingsPatch;
use super::{Project, ProjectRow, COLUMNS, PLANS, STATUSES};
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
}

/// A new project, its first key pair (secret shown once) and its owner when one was asked for.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedProject {
    pub project: Project,
    pub api_key: CreatedApiKey,
    pub owner: Option<User>,
}

pub async fn create(svc: &Services, by: &PlatformAdminCtx, input: NewProject, meta: &RequestMeta) -> Result<CreatedProject> {
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
        .check(input.slug.as_deref().map_or(true, validate::slug), "slug", "must be 1 to 100 of a-z, 0-9 and -")
        .check(PLANS.contains(&plan.as_str()), "plan", "must be one of free, starter, professional, enterprise")
        .check(input.billing_email.as_deref().map_or(true, validate::email), "billingEmail", "must be an email address")
        .check(input.owner_email.as_deref().map_or(true, validate::email), "ownerEmail", "must be an email address")
        .check(
            input.owner_password.as_deref().map_or(true, validate::password),
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
    let mut tx = svc.db.pool().begin().await?;
    // A derived slug that is taken gets a random suffix; an explicit one is a conflict.
    for attempt in 0..4 {
        let res = sqlx::query(
            "INSERT INTO projects (id, name, slug, status, plan, billing_email, settings, created_at, updated_at) \
             VALUES ($1, $2, $3, 'active', $4, $5, '{}', $6, $6)",
        )
        .bind(&id)
        .bind(input.name.trim())
        .bind(&slug)
        .bind(&plan)
        .bind(&input.billing_email)
        .bind(&now)
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
            let owner = users::insert_owner(&mut tx, &id, email, password).await?;
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

pub async fn list(svc: &Services, by: &PlatformAdminCtx, filter: ListFilter, page: PageRequest) -> Result<Page<Project>> {
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
    super::load(svc, &validate::id(id)?).await
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
}

pub async fn update(svc: &Services, by: &PlatformAdminCtx, id: &str, patch: PlatformPatch, meta: &RequestMeta) -> Result<Project> {
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
        v.check(STATUSES.contains(&s.as_str()), "status", "must be one of active, suspended, trial, cancelled");
    }
    if let Some(p) = &patch.plan {
        v.check(PLANS.contains(&p.as_str()), "plan", "must be one of free, starter, professional, enterprise");
    }
    for (field, value) in [
        ("quotaEventsPerMonth", patch.quota_events_per_month),
        ("quotaNotificationsPerMonth", patch.quota_notifications_per_month),
        ("quotaUsers", patch.quota_users),
    ] {
        v.check(value.flatten().map_or(true, |n| n >= 0), field, "must be zero or more, or null for the plan's");
    }
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
    {
        columns.push(super::Columns::Billing);
    }
    patch.settings.apply(&mut project)?;
    if let Some(s) = patch.status {
        project.status = s;
    }
    if let Some(p) = patch.plan {
        project.plan = p;
    }
    project.quota_events_per_month = crate::patch::apply(project.quota_events_per_month, patch.quota_events_per_month);
    project.quota_notifications_per_month =
        crate::patch::apply(project.quota_notifications_per_month, patch.quota_notifications_per_month);
    project.quota_users = crate::patch::apply(project.quota_users, patch.quota_users);
    super::store(svc, &project, &columns).await?;
    audit::record(
        svc,
        AuditEntry::platform(by, "project.update", "project", Some(&project.id), meta)
            .in_project(&project.id)
            .with_metadata(serde_json::json!({"status": project.status, "plan": project.plan})),
    )
    .await?;
    super::load(svc, &project.id).await
}

/// `DELETE` suspends: the data stays, the keys answer 403 until staff reactivate the project.
pub async fn suspend(svc: &Services, by: &PlatformAdminCtx, id: &str, meta: &RequestMeta) -> Result<Project> {
    by.require(&[])?;
    let mut project = super::load(svc, &validate::id(id)?).await?;
    project.status = "suspended".into();
    super::store(svc, &project, &[super::Columns::Status]).await?;
    audit::record(
        svc,
        AuditEntry::platform(by, "project.suspend", "project", Some(&project.id), meta).in_project(&project.id),
    )
    .await?;
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
    let last_24h: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE received_at >= $1")
        .bind(since)
        .fetch_one(pool)
        .await?;
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectUsage {
    pub project_id: String,
    pub name: String,
    pub events_this_month: i64,
    pub users: i64,
}

/// Events this calendar month (UTC) and users, per project.
pub async fn usage(svc: &Services, by: &PlatformAdminCtx) -> Result<Vec<ProjectUsage>> {
    by.require(&[AdminRole::Support, AdminRole::Billing])?;
    let month_start = time::now().format("%Y-%m-01T00:00:00.000000Z").to_string();
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT p.id, p.name, \
         (SELECT COUNT(*) FROM events e WHERE e.project_id = p.id AND e.received_at >= $1), \
         (SELECT COUNT(*) FROM users u WHERE u.project_id = p.id) \
         FROM projects p ORDER BY p.created_at",
    )
    .bind(month_start)
    .fetch_all(svc.db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(project_id, name, events_this_month, users)| ProjectUsage { project_id, name, events_this_month, users })
        .collect())
}
