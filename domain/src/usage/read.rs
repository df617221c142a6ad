//! The usage answers: `GET /projects/me/usage` for a project's admins and
//! `GET /platform/usage` for platform staff, and `currentUsage` on the project.

use serde::{Deserialize, Serialize};

use super::CurrentUsage;
use crate::auth::{AdminRole, PlatformAdminCtx, Tenant};
use crate::error::{Error, Result};
use crate::plans::Quotas;
use crate::services::Services;
use crate::time;

/// `?periodType=daily|monthly&from=&to=`; `from` and `to` are dates (`YYYY-MM-DD`), months
/// (`YYYY-MM`) or times, compared by the period they fall in.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageQuery {
    pub period_type: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct UsageRow {
    pub period: String,
    pub period_type: String,
    pub events_received: i64,
    pub notifications_sent: i64,
    pub notifications_delivered: i64,
    pub notifications_failed: i64,
    pub active_users: i64,
    pub api_calls: i64,
    pub storage_used_bytes: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageReport {
    pub current: CurrentUsage,
    pub quotas: Quotas,
    pub data: Vec<UsageRow>,
}

/// One project's entry in the platform's answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectUsage {
    pub project_id: String,
    pub name: String,
    pub plan: String,
    pub status: String,
    pub events_this_month: i64,
    pub users: i64,
    #[serde(flatten)]
    pub report: UsageReport,
}

struct Range {
    period_type: &'static str,
    from: String,
    to: String,
}

fn range(q: &UsageQuery) -> Result<Range> {
    let period_type = match q.period_type.as_deref().unwrap_or("daily") {
        "daily" => "daily",
        "monthly" => "monthly",
        _ => return Err(Error::field("periodType", "must be daily or monthly")),
    };
    let width = if period_type == "daily" { 10 } else { 7 };
    let bound = |v: &Option<String>, field: &str, default: &str| -> Result<String> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(default.to_string()),
            Some(s) => {
                let ok = s.len() >= 7
                    && s.is_char_boundary(7)
                    && (chrono::NaiveDate::parse_from_str(&format!("{}-01", &s[..7]), "%Y-%m-%d").is_ok())
                    && (s.len() < 10 || chrono::NaiveDate::parse_from_str(&s[..10.min(s.len())], "%Y-%m-%d").is_ok());
                if !ok {
                    return Err(Error::field(
                        field,
                        "must be a date (YYYY-MM-DD), a month (YYYY-MM) or an RFC 3339 time",
                    ));
                }
                Ok(s.chars().take(width).collect())
            }
        }
    };
    Ok(Range { period_type, from: bound(&q.from, "from", "0000")?, to: bound(&q.to, "to", "9999")? })
}

async fn report(svc: &Services, project_id: &str, quotas: Quotas, r: &Range) -> Result<UsageReport> {
    let now = time::now();
    let _consistent = svc.meter.hold().await;
    let mut data: Vec<UsageRow> = sqlx::query_as(
        "SELECT period, period_type, events_received, notifications_sent, notifications_delivered, notifications_failed, \
         active_users, api_calls, storage_used_bytes FROM usage_metrics \
         WHERE project_id = $1 AND period_type = $2 AND period >= $3 AND period <= $4 ORDER BY period",
    )
    .bind(project_id)
    .bind(r.period_type)
    .bind(&r.from)
    .bind(&r.to)
    .fetch_all(svc.db.pool())
    .await?;
    let pending = svc.meter.pending(project_id);
    let active_users: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE project_id = $1 AND status = 'active'")
            .bind(project_id)
            .fetch_one(svc.db.pool())
            .await?;
    let storage_used_bytes = crate::sounds::stored_bytes(svc, project_id).await?;
    let current_period = if r.period_type == "daily" { super::day(now) } else { super::month(now) };
    // What this process counted and has not flushed yet belongs to the current period.
    if let Some(row) = data.iter_mut().find(|row| row.period == current_period) {
        row.events_received += pending.events;
        row.notifications_sent += pending.notifications_sent;
        row.notifications_delivered += pending.notifications_delivered;
        row.notifications_failed += pending.notifications_failed;
        row.api_calls += pending.api_calls;
        row.active_users = active_users;
        row.storage_used_bytes = storage_used_bytes;
    } else if pending != super::Delta::default() && r.from <= current_period && current_period <= r.to {
        data.push(UsageRow {
            period: current_period,
            period_type: r.period_type.to_string(),
            events_received: pending.events,
            notifications_sent: pending.notifications_sent,
            notifications_delivered: pending.notifications_delivered,
            notifications_failed: pending.notifications_failed,
            active_users,
            api_calls: pending.api_calls,
            storage_used_bytes,
        });
    }
    let (events, notifications) = super::month_totals(&svc.db, project_id, now).await?;
    let current = CurrentUsage {
        events_this_month: events + pending.events,
        notifications_this_month: notifications + pending.notifications_sent,
        active_users,
    };
    Ok(UsageReport { current, quotas, data })
}

/// The month so far of one project (its `currentUsage`).
pub(crate) async fn current(svc: &Services, project_id: &str) -> Result<CurrentUsage> {
    let r = Range { period_type: "monthly", from: "9999".into(), to: "9999".into() };
    Ok(report(svc, project_id, Quotas::default(), &r).await?.current)
}

/// `GET /projects/me/usage`: the project's admins.
pub async fn for_project(svc: &Services, t: &Tenant, q: &UsageQuery) -> Result<UsageReport> {
    t.require_admin()?;
    let r = range(q)?;
    let project = crate::projects::load(svc, t.project_id()).await?;
    report(svc, t.project_id(), project.quotas, &r).await
}

/// `GET /platform/usage`: every project, oldest first. Cross-project: platform staff only.
pub async fn for_platform(svc: &Services, by: &PlatformAdminCtx, q: &UsageQuery) -> Result<Vec<ProjectUsage>> {
    by.require(&[AdminRole::Support, AdminRole::Billing])?;
    let r = range(q)?;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM projects ORDER BY created_at, id").fetch_all(svc.db.pool()).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let p = crate::projects::load(svc, &id).await?;
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE project_id = $1")
            .bind(&id)
            .fetch_one(svc.db.pool())
            .await?;
        let report = report(svc, &id, p.quotas, &r).await?;
        out.push(ProjectUsage {
            project_id: p.id,
            name: p.name,
            plan: p.plan,
            status: p.status,
            events_this_month: report.current.events_this_month,
            users,
            report,
        });
    }
    Ok(out)
}
