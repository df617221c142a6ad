//! Quota checks: the monthly event volume inside the ingest commit (never over-admitting, also
//! across processes: the month's row is locked while the commit decides), count limits on users,
//! rules and sounds, and plan-gated features.

use chrono::Timelike;

use crate::error::{Error, Result};
use crate::services::Services;
use crate::time::{self, Timestamp};

/// A monthly quota used up: 429 with `Retry-After` to the month's end.
pub fn monthly_exceeded(quota: &str, limit: i64, used: i64, at: Timestamp) -> Error {
    let resets_at = super::month_resets_at(at);
    let wait = (resets_at - at).num_seconds().max(1) as u64;
    Error::QuotaExceeded {
        status: 429,
        message: format!("the monthly {quota} quota ({limit}) is used up until {}", time::to_db(resets_at)),
        details: serde_json::json!({ "quota": quota, "limit": limit, "used": used, "resetsAt": resets_at }),
        retry_after_secs: Some(wait),
    }
}

/// A count limit reached: 403, naming the quota.
pub fn count_exceeded(quota: &str, limit: i64, used: i64) -> Error {
    Error::QuotaExceeded {
        status: 403,
        message: format!("the plan allows {limit} {quota}; remove some or upgrade the plan"),
        details: serde_json::json!({ "quota": quota, "limit": limit, "used": used }),
        retry_after_secs: None,
    }
}

/// Creates the project's row for the month (when missing) and locks it until the caller's
/// transaction ends; answers the events counted so far. Concurrent commits for the project,
/// in this process or another, wait here, so each decides on what the others admitted.
pub(crate) async fn lock_month(conn: &mut sqlx::AnyConnection, project_id: &str, at: Timestamp) -> Result<i64> {
    let (events, _) = super::add(conn, project_id, at, &super::Delta::default()).await?;
    Ok(events)
}

/// What a month's use looks like to a client: `X-Quota-*` on ingest answers.
#[derive(Clone, Copy, Debug)]
pub struct QuotaStatus {
    pub limit: Option<i64>,
    pub used: i64,
    pub resets_at: Timestamp,
}

impl QuotaStatus {
    pub fn remaining(&self) -> Option<i64> {
        self.limit.map(|l| (l - self.used).max(0))
    }
}

/// Seconds since the epoch of the reset, for `X-Quota-Reset`.
pub fn reset_epoch(s: &QuotaStatus) -> i64 {
    s.resets_at.with_nanosecond(0).unwrap_or(s.resets_at).timestamp()
}

/// The count limits: users, rules and sounds.
#[derive(Clone, Copy, Debug)]
pub enum Counted {
    Users,
    Rules,
    Sounds,
}

impl Counted {
    fn column_and_table(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Counted::Users => ("quota_users", "users", "users"),
            Counted::Rules => ("quota_rules", "rules", "rules"),
            Counted::Sounds => ("quota_sounds", "sounds", "sounds"),
        }
    }
}

/// Refuses with 403 `quota_exceeded` when `adding` more would pass the project's count limit.
pub async fn require_room(svc: &Services, project_id: &str, what: Counted, adding: i64) -> Result<()> {
    let (column, table, name) = what.column_and_table();
    let limit: Option<i64> = sqlx::query_scalar(&format!("SELECT {column} FROM projects WHERE id = $1"))
        .bind(project_id)
        .fetch_optional(svc.db.pool())
        .await?
        .flatten();
    let Some(limit) = limit else { return Ok(()) };
    let used = count_of(svc, project_id, table).await?;
    if used + adding > limit {
        return Err(count_exceeded(name, limit, used));
    }
    Ok(())
}

/// How many of `what` the tenant's project holds now (what its count limit is measured against).
pub async fn count(svc: &Services, t: &crate::auth::Tenant, what: Counted) -> Result<i64> {
    count_of(svc, t.project_id(), what.column_and_table().1).await
}

async fn count_of(svc: &Services, project_id: &str, table: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE project_id = $1"))
        .bind(project_id)
        .fetch_one(svc.db.pool())
        .await?)
}

/// Features some plans lack.
#[derive(Clone, Copy, Debug)]
pub enum Feature {
    Webhook,
    CustomDomain,
}

impl Feature {
    pub fn name(self) -> &'static str {
        match self {
            Feature::Webhook => "webhook",
            Feature::CustomDomain => "customDomain",
        }
    }

    pub fn in_plan(self, plan: &crate::plans::Plan) -> bool {
        match self {
            Feature::Webhook => plan.webhook,
            Feature::CustomDomain => plan.custom_domain,
        }
    }

    /// Refuses with 403 `plan_upgrade_required` unless the plan named `plan` has the feature.
    pub fn require_in(self, plan: &str) -> Result<()> {
        if self.in_plan(crate::plans::plan(plan)) {
            Ok(())
        } else {
            Err(Error::PlanUpgradeRequired { feature: self.name() })
        }
    }
}

/// Refuses with 403 `plan_upgrade_required` when the project's plan lacks `feature`.
pub async fn require_feature(svc: &Services, project_id: &str, feature: Feature) -> Result<()> {
    let plan: Option<String> = sqlx::query_scalar("SELECT plan FROM projects WHERE id = $1")
        .bind(project_id)
        .fetch_optional(svc.db.pool())
        .await?;
    feature.require_in(plan.as_deref().ok_or(Error::NotFound)?)
}
