//! Usage metering per project and period (docs/PLANS.md): daily and monthly rows, the quotas they
//! feed, the 80% / 100% warnings, and per-key rate limits.
//!
//! Events of a project with a hard monthly limit are counted inside the ingest commit, which
//! also refuses what does not fit ([`quota`]); every other count is kept in memory and added to
//! the rows about once a second ([`meter`]).

pub mod alerts;
pub mod limits;
pub mod meter;
pub mod quota;
pub mod rate;
mod read;

use chrono::{Datelike, TimeZone};
use serde::Serialize;

pub(crate) use read::current;
pub use read::{for_platform, for_project, ProjectUsage, UsageQuery, UsageReport, UsageRow};

use crate::error::Result;
use crate::time::{self, Timestamp};

/// The seed's `currentUsage` of a project.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUsage {
    pub events_this_month: i64,
    pub notifications_this_month: i64,
    pub active_users: i64,
}

/// `YYYY-MM`, the monthly period holding `t` (UTC).
pub fn month(t: Timestamp) -> String {
    t.format("%Y-%m").to_string()
}

/// `YYYY-MM-DD`, the daily period holding `t`.
pub fn day(t: Timestamp) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// When the month holding `t` ends: monthly quotas start again then.
pub fn month_resets_at(t: Timestamp) -> Timestamp {
    let (y, m) = if t.month() == 12 { (t.year() + 1, 1) } else { (t.year(), t.month() + 1) };
    chrono::Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().unwrap_or(t)
}

/// Counts to add to a project's rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    pub events: i64,
    pub notifications_sent: i64,
    pub notifications_delivered: i64,
    pub notifications_failed: i64,
    pub api_calls: i64,
}

impl Delta {
    pub fn merge(&mut self, o: &Delta) {
        self.events += o.events;
        self.notifications_sent += o.notifications_sent;
        self.notifications_delivered += o.notifications_delivered;
        self.notifications_failed += o.notifications_failed;
        self.api_calls += o.api_calls;
    }
}

/// Adds `d` to the project's daily and monthly rows of `at`'s periods (creating them); answers
/// the month's events and notifications after the addition. The monthly row stays locked (on
/// PostgreSQL) until the caller's transaction ends.
pub(crate) async fn add(
    conn: &mut sqlx::AnyConnection,
    project_id: &str,
    at: Timestamp,
    d: &Delta,
) -> Result<(i64, i64)> {
    let now = time::to_db(time::now());
    let mut month_totals = (0, 0);
    for (period, period_type) in [(month(at), "monthly"), (day(at), "daily")] {
        let totals: (i64, i64) = sqlx::query_as(
            "INSERT INTO usage_metrics (project_id, period, period_type, events_received, notifications_sent, \
             notifications_delivered, notifications_failed, active_users, api_calls, storage_used_bytes, overage_reported, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, 0, 0, $9, $9) \
             ON CONFLICT (project_id, period, period_type) DO UPDATE SET \
             events_received = usage_metrics.events_received + excluded.events_received, \
             notifications_sent = usage_metrics.notifications_sent + excluded.notifications_sent, \
             notifications_delivered = usage_metrics.notifications_delivered + excluded.notifications_delivered, \
             notifications_failed = usage_metrics.notifications_failed + excluded.notifications_failed, \
             api_calls = usage_metrics.api_calls + excluded.api_calls, updated_at = excluded.updated_at \
             RETURNING events_received, notifications_sent",
        )
        .bind(project_id)
        .bind(&period)
        .bind(period_type)
        .bind(d.events)
        .bind(d.notifications_sent)
        .bind(d.notifications_delivered)
        .bind(d.notifications_failed)
        .bind(d.api_calls)
        .bind(&now)
        .fetch_one(&mut *conn)
        .await?;
        if period_type == "monthly" {
            month_totals = totals;
        }
    }
    Ok(month_totals)
}

/// Sets `storageUsedBytes` of the project's rows for `at`'s day and month (creating them): a
/// level, written whenever the project's stored files change.
pub(crate) async fn set_storage(db: &crate::db::Db, project_id: &str, at: Timestamp, bytes: i64) -> Result<()> {
    let now = time::to_db(time::now());
    for (period, period_type) in [(month(at), "monthly"), (day(at), "daily")] {
        sqlx::query(
            "INSERT INTO usage_metrics (project_id, period, period_type, events_received, notifications_sent, \
             notifications_delivered, notifications_failed, active_users, api_calls, storage_used_bytes, overage_reported, \
             created_at, updated_at) VALUES ($1, $2, $3, 0, 0, 0, 0, 0, 0, $4, 0, $5, $5) \
             ON CONFLICT (project_id, period, period_type) DO UPDATE SET \
             storage_used_bytes = excluded.storage_used_bytes, updated_at = excluded.updated_at",
        )
        .bind(project_id)
        .bind(&period)
        .bind(period_type)
        .bind(bytes)
        .bind(&now)
        .execute(db.pool())
        .await?;
    }
    Ok(())
}

/// The project's month so far as the rows hold it (what this process has not flushed yet is
/// added by the caller when it matters).
pub(crate) async fn month_totals(db: &crate::db::Db, project_id: &str, at: Timestamp) -> Result<(i64, i64)> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT events_received, notifications_sent FROM usage_metrics \
         WHERE project_id = $1 AND period = $2 AND period_type = 'monthly'",
    )
    .bind(project_id)
    .bind(month(at))
    .fetch_optional(db.pool())
    .await?;
    Ok(row.unwrap_or((0, 0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_month_resets_on_the_first_of_the_next() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(month_resets_at(t), chrono::Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(month(t), "2026-12");
        assert_eq!(day(t), "2026-12-31");
    }
}
