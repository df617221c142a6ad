//! Audit rows are kept for `AUDIT_RETENTION_DAYS` (default 365; 0 keeps them for good). A sweep
//! every hour deletes older rows in small batches, so it never holds the database for long.

use std::sync::Arc;
use std::time::Duration;

use crate::error::Result;
use crate::services::Services;
use crate::time;

/// Rows deleted per statement.
const BATCH: i64 = 5000;
const EVERY: Duration = Duration::from_secs(3600);

/// Deletes the rows older than the retention; answers how many went.
pub async fn sweep(svc: &Services) -> Result<u64> {
    let days = svc.settings.audit_retention_days;
    if days == 0 {
        return Ok(0);
    }
    let cutoff = time::to_db(time::now() - chrono::Duration::days(days as i64));
    let mut total = 0;
    loop {
        let done =
            sqlx::query("DELETE FROM audit_logs WHERE id IN (SELECT id FROM audit_logs WHERE timestamp < $1 LIMIT $2)")
                .bind(&cutoff)
                .bind(BATCH)
                .execute(svc.db.pool())
                .await?
                .rows_affected();
        total += done;
        if done < BATCH as u64 {
            return Ok(total);
        }
    }
}

pub fn spawn_sweeper(svc: Arc<Services>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep(&svc).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "audit rows past their retention deleted"),
                Err(e) => tracing::warn!(error = %e, "the audit retention sweep failed"),
            }
        }
    });
}
