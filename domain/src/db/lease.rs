//! Claiming due rows of a durable job table (webhook messages, push jobs) across processes: pick
//! the oldest due candidates, then take each with a compare-and-set on `lease_until`, so of two
//! workers only one gets a row. A worker that dies lets its lease run out and the row comes back.

use std::time::Duration;

use sqlx::Row;

use crate::error::Result;
use crate::services::Services;
use crate::time;

/// A job table: its name and the column saying when a row is due. Both are fixed names from the
/// code, never input.
pub struct JobTable {
    pub table: &'static str,
    pub due_column: &'static str,
}

/// Claims up to `limit` pending rows due now, oldest first, for `lease`; answers
/// `(id, project_id)` of the rows this worker won.
pub async fn claim_due(svc: &Services, jobs: &JobTable, limit: i64, lease: Duration) -> Result<Vec<(String, String)>> {
    let now = time::now();
    let now_s = time::to_db(now);
    let candidates = sqlx::query(&format!(
        "SELECT id, project_id FROM {table} WHERE status = 'pending' AND {due} <= $1 \
         AND (lease_until IS NULL OR lease_until < $1) ORDER BY {due} LIMIT $2",
        table = jobs.table,
        due = jobs.due_column,
    ))
    .bind(&now_s)
    .bind(limit)
    .fetch_all(svc.db.pool())
    .await?;
    let until = time::to_db(now + chrono::Duration::from_std(lease).expect("small duration"));
    let mut won = Vec::with_capacity(candidates.len());
    for c in candidates {
        let (id, project_id): (String, String) = (c.get("id"), c.get("project_id"));
        let claimed = sqlx::query(&format!(
            "UPDATE {} SET lease_until = $1 WHERE project_id = $2 AND id = $3 AND status = 'pending' \
             AND (lease_until IS NULL OR lease_until < $4)",
            jobs.table
        ))
        .bind(&until)
        .bind(&project_id)
        .bind(&id)
        .bind(&now_s)
        .execute(svc.db.pool())
        .await?
        .rows_affected();
        if claimed == 1 {
            won.push((id, project_id));
        }
    }
    Ok(won)
}
