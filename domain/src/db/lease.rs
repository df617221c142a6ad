//! Claiming due rows of a durable job table (webhook messages, push jobs, own-Pusher triggers,
//! platform mail) across processes, and finishing them (docs/JOBS.md).
//!
//! A claim is one statement: it picks due rows and sets their `lease_until`, so of two workers
//! only one gets a row (PostgreSQL: the sub-select locks them and skips rows another claim
//! holds; SQLite: one writer). A worker that dies lets its lease run out and the row comes back.
//!
//! Tables whose rows belong to projects are claimed round-robin: each project with pending rows
//! gets its share of the batch in turn (found by a loose scan of the `(status, project_id, due)`
//! index, so a long queue costs nothing extra), and a project's rows still leased (in flight in
//! any process) count against its cap; so one project's backlog, or its server that never
//! answers, cannot fill a claim or hold more than its cap of the workers' slots.
//!
//! Leases are fences: each claim's `lease_until` is the attempt's token, and every outcome is
//! written `… AND lease_until = <claimed>`, so an attempt whose lease ran out (and whose row was
//! claimed again) can never overwrite the newer attempt's outcome.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::any::AnyRow;

use super::dialect;
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
    /// Rows carry a `project_id`: claims go round-robin across projects, under a per-project cap.
    pub per_project: bool,
    /// The column keeping the last failure.
    pub error_column: &'static str,
    /// The table has an `updated_at` column, stamped by every outcome.
    pub updated_at: bool,
}

/// Rows one claim took, all under the same lease.
pub struct Claimed {
    /// The `lease_until` the claim wrote: the token [`finish`] (and every other outcome) must match.
    pub lease: String,
    pub rows: Vec<AnyRow>,
}

/// Claims up to `limit` pending rows due now for `lease` and answers them with their
/// [`JobTable::columns`]. For [`JobTable::per_project`] tables, round-robin across projects
/// (continuing after the project the previous claim of this process ended on), and no project
/// gets more than `cap` rows leased at once, counting those still in flight from earlier claims
/// in any process.
pub async fn claim_due(svc: &Services, jobs: &JobTable, limit: i64, lease: Duration, cap: i64) -> Result<Claimed> {
    let now = time::now();
    let until = time::to_db(now + chrono::Duration::from_std(lease).expect("small duration"));
    let now = time::to_db(now);
    if limit <= 0 {
        return Ok(Claimed { lease: until, rows: vec![] });
    }
    if !jobs.per_project {
        let rows = claim_rows(svc, jobs, None, limit, &until, &now).await?;
        return Ok(Claimed { lease: until, rows });
    }
    let busy = in_flight(svc, jobs, &now).await?;
    let after = svc.job_cursors.after(jobs.table);
    let mut candidates = projects_after(svc, jobs, &after, limit).await?;
    if (candidates.len() as i64) < limit && !after.is_empty() {
        let wrapped = projects_after(svc, jobs, "", limit - candidates.len() as i64).await?;
        candidates.extend(wrapped.into_iter().filter(|p| p.as_str() <= after.as_str()));
    }
    let mut room: Vec<(String, i64)> = candidates
        .into_iter()
        .map(|p| {
            let free = cap.saturating_sub(busy.get(&p).copied().unwrap_or(0));
            (p, free)
        })
        .filter(|(_, free)| *free > 0)
        .collect();
    let mut rows = Vec::new();
    // Each project its share of the batch in turn; what a project could not use goes round again.
    while !room.is_empty() && (rows.len() as i64) < limit {
        let share = ((limit - rows.len() as i64) / room.len() as i64).max(1);
        let mut still = Vec::with_capacity(room.len());
        for (project, free) in room {
            let want = share.min(free).min(limit - rows.len() as i64);
            if want <= 0 {
                break;
            }
            let got = claim_rows(svc, jobs, Some(&project), want, &until, &now).await?;
            let full = got.len() as i64 == want;
            rows.extend(got);
            svc.job_cursors.set(jobs.table, &project);
            if full && free > want {
                still.push((project, free - want));
            }
        }
        room = still;
    }
    Ok(Claimed { lease: until, rows })
}

/// One statement: leases up to `limit` of the oldest due rows (of `project`, when given).
async fn claim_rows(
    svc: &Services,
    jobs: &JobTable,
    project: Option<&str>,
    limit: i64,
    until: &str,
    now: &str,
) -> Result<Vec<AnyRow>> {
    let (table, due) = (jobs.table, jobs.due_column);
    let of_project = if project.is_some() { "project_id = $4 AND " } else { "" };
    let sql = format!(
        "UPDATE {table} SET lease_until = $1 WHERE id IN (SELECT id FROM {table} WHERE {of_project}status = 'pending' \
         AND {due} <= $2 AND (lease_until IS NULL OR lease_until < $2) ORDER BY {due} LIMIT $3{skip_locked}) \
         RETURNING {columns}",
        columns = jobs.columns,
        skip_locked = dialect::skip_locked(svc.db.backend()),
    );
    let mut q = sqlx::query(&sql).bind(until).bind(now).bind(limit);
    if let Some(p) = project {
        q = q.bind(p);
    }
    Ok(q.fetch_all(svc.db.writer()).await?)
}

/// Each project's rows leased now (in flight in some process).
async fn in_flight(svc: &Services, jobs: &JobTable, now: &str) -> Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT project_id, COUNT(*) FROM {} WHERE lease_until >= $1 AND status = 'pending' GROUP BY project_id",
        jobs.table
    ))
    .bind(now)
    .fetch_all(svc.db.pool())
    .await?;
    Ok(rows.into_iter().collect())
}

/// Up to `limit` projects with pending rows, in id order after `after`: one index step each
/// (a loose scan of the `(status, project_id, …)` index), however long their queues are.
async fn projects_after(svc: &Services, jobs: &JobTable, after: &str, limit: i64) -> Result<Vec<String>> {
    let table = jobs.table;
    let next = format!("SELECT MIN(project_id) FROM {table} WHERE status = 'pending' AND project_id > ");
    let sql = format!(
        "WITH RECURSIVE next_project (project_id, n) AS (SELECT ({next}$1), 1 UNION ALL \
         SELECT ({next}next_project.project_id), n + 1 FROM next_project \
         WHERE next_project.project_id IS NOT NULL AND n < $2) \
         SELECT project_id FROM next_project WHERE project_id IS NOT NULL"
    );
    let found: Vec<String> = sqlx::query_scalar(&sql).bind(after).bind(limit).fetch_all(svc.db.pool()).await?;
    Ok(found)
}

/// Where each job table's round-robin stands in this process: the project its last claim served.
#[derive(Default)]
pub struct Cursors(std::sync::Mutex<HashMap<&'static str, String>>);

impl Cursors {
    fn after(&self, table: &'static str) -> String {
        self.0.lock().expect("cursor lock").get(table).cloned().unwrap_or_default()
    }

    fn set(&self, table: &'static str, project: &str) {
        self.0.lock().expect("cursor lock").insert(table, project.to_string());
    }
}

/// A claimed row: which one, and under which lease.
pub struct Held<'a> {
    /// `Some` for [`JobTable::per_project`] tables: the row's project (every write is scoped to it).
    pub project_id: Option<&'a str>,
    pub id: &'a str,
    pub lease: &'a str,
}

/// Ends a claimed row's lease with its final `status` (and the attempts made, when given).
/// Answers false, changing nothing, when the lease is no longer the one held (it ran out and
/// another attempt claimed the row).
pub async fn finish(
    svc: &Services,
    jobs: &JobTable,
    held: Held<'_>,
    status: &str,
    attempts: Option<i64>,
    error: Option<&str>,
) -> Result<bool> {
    settle(svc, jobs, held, Settle { status, attempts, error, next_due: None }).await
}

/// What becomes of a held row.
pub struct Settle<'a> {
    pub status: &'a str,
    pub attempts: Option<i64>,
    /// The row's `last_error` (cleared when `None`).
    pub error: Option<&'a str>,
    /// When the row is due again (a retry); `None` keeps its due time.
    pub next_due: Option<String>,
}

/// Writes a held row's outcome and ends its lease, fenced as [`finish`] is.
pub async fn settle(svc: &Services, jobs: &JobTable, held: Held<'_>, s: Settle<'_>) -> Result<bool> {
    let updated_at = if jobs.updated_at { ", updated_at = $7" } else { "" };
    let project_param = if jobs.updated_at { 8 } else { 7 };
    let scope = if held.project_id.is_some() { format!(" AND project_id = ${project_param}") } else { String::new() };
    let sql = format!(
        "UPDATE {table} SET status = $1, attempts = COALESCE($2, attempts), {due} = COALESCE($3, {due}), lease_until = NULL, \
         {error} = $4{updated_at} WHERE id = $5 AND lease_until = $6{scope}",
        table = jobs.table,
        due = jobs.due_column,
        error = jobs.error_column,
    );
    let mut q =
        sqlx::query(&sql).bind(s.status).bind(s.attempts).bind(s.next_due).bind(s.error).bind(held.id).bind(held.lease);
    if jobs.updated_at {
        q = q.bind(time::to_db(time::now()));
    }
    if let Some(project_id) = held.project_id {
        q = q.bind(project_id);
    }
    let done = q.execute(svc.db.writer()).await?.rows_affected();
    if done == 0 {
        stale(jobs, held.id);
    }
    Ok(done > 0)
}

/// Logs an outcome the fence turned away.
pub fn stale(jobs: &JobTable, id: &str) {
    tracing::warn!(
        table = jobs.table,
        id,
        "a job's lease ran out before its outcome was written; the newer attempt's stands"
    );
}
