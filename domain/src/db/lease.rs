//! Claiming due rows of a durable job table (webhook messages, push jobs) across processes: one
//! statement picks the oldest due rows and sets their `lease_until`, so of two workers only one
//! gets a row (PostgreSQL: the sub-select locks them and skips rows another claim holds; SQLite:
//! one writer). A worker that dies lets its lease run out and the row comes back.

use std::time::Duration;

use sqlx::any::AnyRow;

use super::dialect;
use crate::auth::Tenant;
use crate::error::Result;
use crate::services::Services;
use crate::time;

/// A job table: its name, the column saying when a row is due, and the columns a claim answers.
/// All are fixed names from the code, never input.
pub struct JobTable {
    pub table: &'static str,
    pub due_column: &'static str,
    /// What the claim returns of each row, e.g. `"id, project_id"`.
    pub columns: &'static str,
}

/// Claims up to `limit` pending rows due now, oldest first, for `lease`, in one write; answers
/// the claimed rows' [`JobTable::columns`].
pub async fn claim_due(svc: &Services, jobs: &JobTable, limit: i64, lease: Duration) -> Result<Vec<AnyRow>> {
    let now = time::now();
    let until = time::to_db(now + chrono::Duration::from_std(lease).expect("small duration"));
    let sql = format!(
        "UPDATE {table} SET lease_until = $1 WHERE id IN (SELECT id FROM {table} WHERE status = 'pending' \
         AND {due} <= $2 AND (lease_until IS NULL OR lease_until < $2) ORDER BY {due} LIMIT $3{skip_locked}) \
         RETURNING {columns}",
        table = jobs.table,
        due = jobs.due_column,
        columns = jobs.columns,
        skip_locked = dialect::skip_locked(svc.db.backend()),
    );
    let rows = sqlx::query(&sql)
        .bind(until)
        .bind(time::to_db(now))
        .bind(limit)
        .fetch_all(svc.db.writer())
        .await?;
    Ok(rows)
}

/// Ends a claimed row's lease with its final `status` (and the attempts made, when given).
pub async fn finish(
    svc: &Services,
    jobs: &JobTable,
    t: &Tenant,
    id: &str,
    status: &str,
    attempts: Option<i64>,
    error: Option<&str>,
) -> Result<()> {
    sqlx::query(&format!(
        "UPDATE {} SET status = $1, attempts = COALESCE($2, attempts), lease_until = NULL, last_error = $3, \
         updated_at = $4 WHERE project_id = $5 AND id = $6",
        jobs.table
    ))
    .bind(status)
    .bind(attempts)
    .bind(error)
    .bind(time::to_db(time::now()))
    .bind(t.project_id())
    .bind(id)
    .execute(svc.db.writer())
    .await?;
    Ok(())
}
