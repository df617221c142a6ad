//! What ingest and authentication need to know of a project's plan, cached in memory for a few
//! seconds so the hot path reads no project row. A change made in this process is seen at once
//! (`projects::forget`); other processes see it within [`TTL`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use crate::db::Db;
use crate::error::Result;
use crate::plans::{self, Plan};

/// How long a cached view is trusted.
pub const TTL: Duration = Duration::from_secs(5);

/// A project's limits as they stand.
#[derive(Debug)]
pub struct ProjectLimits {
    pub plan: &'static Plan,
    pub events_per_month: Option<i64>,
    pub notifications_per_month: Option<i64>,
    /// `true` when the project's overage policy is `bill` (followed on paid plans only).
    pub bill_overage: bool,
    /// Requests a second per key: the project's own setting, else the plan's; `None` = no limit.
    pub rate_limit_per_second: Option<u32>,
}

impl ProjectLimits {
    /// The monthly event limit ingest must never go past, if any: the free plan always stops at
    /// its quota, a paid plan only when its overage policy is `reject`.
    pub fn hard_event_limit(&self) -> Option<i64> {
        match self.events_per_month {
            Some(limit) if !(self.plan.paid && self.bill_overage) => Some(limit),
            _ => None,
        }
    }
}

#[derive(Default)]
pub struct LimitCache {
    entries: DashMap<String, (Instant, Option<Arc<ProjectLimits>>)>,
}

/// plan, quota_events_per_month, quota_notifications_per_month, overage, rate_limit_per_second.
type LimitsRow = (String, Option<i64>, Option<i64>, String, Option<i64>);

impl LimitCache {
    /// The project's limits (`None` when it does not exist), from the cache when fresh.
    pub async fn get(&self, db: &Db, project_id: &str) -> Result<Option<Arc<ProjectLimits>>> {
        if let Some(e) = self.entries.get(project_id) {
            if e.0.elapsed() < TTL {
                return Ok(e.1.clone());
            }
        }
        let row: Option<LimitsRow> = sqlx::query_as(
            "SELECT plan, quota_events_per_month, quota_notifications_per_month, overage, rate_limit_per_second \
             FROM projects WHERE id = $1",
        )
        .bind(project_id)
        .fetch_optional(db.pool())
        .await?;
        let value = row.map(|(plan, events, notifications, overage, rate)| {
            let plan = plans::plan(&plan);
            Arc::new(ProjectLimits {
                plan,
                events_per_month: events,
                notifications_per_month: notifications,
                bill_overage: overage == "bill",
                rate_limit_per_second: match rate {
                    Some(r) => u32::try_from(r.max(1)).ok(),
                    None => plan.rate_limit_per_second,
                },
            })
        });
        self.entries.insert(project_id.to_string(), (Instant::now(), value.clone()));
        Ok(value)
    }

    pub fn forget(&self, project_id: &str) {
        self.entries.remove(project_id);
    }
}
