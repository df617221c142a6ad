//! Group commit: concurrent requests' events are written in one transaction, so one fsync serves
//! many 202s. A request waits for the commit that holds its events; the hand-off to the queue
//! follows the commit.
//!
//! A project with a hard monthly event limit has its month's usage row locked and counted in the
//! same commit, and what does not fit is refused there (docs/PLANS.md); other projects' events
//! are counted in memory after the commit (`usage::meter`).

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

use super::ValidEvent;
use crate::db::{sql, Backend, Db};
use crate::error::{Error, Result};
use crate::queue::{EventQueue, QueuedEvent};
use crate::time;
use crate::usage::alerts::{self, Crossing, Queued};
use crate::usage::meter::Metric;
use crate::usage::{self, quota};

/// What became of one submitted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted(String),
    /// The project already had an event with this `clientEventId`: its id, nothing created.
    Duplicate(String),
    /// Refused: the project's monthly event quota is used up.
    Rejected,
}

impl Outcome {
    pub fn id(&self) -> &str {
        match self {
            Outcome::Accepted(id) | Outcome::Duplicate(id) => id,
            Outcome::Rejected => "",
        }
    }
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Outcome::Duplicate(_))
    }
}

struct Job {
    project_id: String,
    events: Vec<ValidEvent>,
    /// The monthly event limit this commit must not go past, if the project has one.
    hard_limit: Option<i64>,
    reply: oneshot::Sender<Result<Committed>>,
}

/// A request's outcomes, in order, and for a project with a hard limit the month's events
/// counted once its commit was made.
#[derive(Debug)]
pub struct Committed {
    pub outcomes: Vec<Outcome>,
    pub month_used: Option<i64>,
}

/// The most events one commit takes; a larger backlog is split over several commits.
const MAX_EVENTS_PER_COMMIT: usize = 4096;

/// Front of the write path. Cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    tx: mpsc::Sender<Job>,
}

impl Ingestor {
    /// Starts the committer tasks: one on SQLite (a single writer is what SQLite allows), a few on
    /// PostgreSQL so commits overlap.
    pub fn start(
        db: Db,
        queue: EventQueue,
        meter: Arc<crate::usage::meter::Meter>,
        on_alert: Arc<dyn Fn(Queued) + Send + Sync>,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(16_384);
        let rx = Arc::new(Mutex::new(rx));
        let writers = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        for _ in 0..writers {
            tokio::spawn(run_writer(db.clone(), queue.clone(), rx.clone(), meter.clone(), on_alert.clone()));
        }
        Ingestor { tx }
    }

    /// Stores `events` for `project_id`, refusing what would pass `hard_limit` this month;
    /// returns once they are committed, outcomes in order.
    pub async fn submit(
        &self,
        project_id: &str,
        events: Vec<ValidEvent>,
        hard_limit: Option<i64>,
    ) -> Result<Committed> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { project_id: project_id.to_string(), events, hard_limit, reply })
            .await
            .map_err(|_| Error::internal("ingest writer stopped"))?;
        rx.await.map_err(|_| Error::internal("ingest writer dropped the request"))?
    }
}

async fn run_writer(
    db: Db,
    queue: EventQueue,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    meter: Arc<crate::usage::meter::Meter>,
    on_alert: Arc<dyn Fn(Queued) + Send + Sync>,
) {
    loop {
        let jobs = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut count = first.events.len();
            let mut jobs = vec![first];
            while count < MAX_EVENTS_PER_COMMIT {
                match rx.try_recv() {
                    Ok(job) => {
                        count += job.events.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        let started = std::time::Instant::now();
        match commit(&db, &jobs).await {
            Ok((outcomes, used, queued)) => {
                let events: usize = outcomes.iter().map(Vec::len).sum();
                metrics::counter!("events_committed_total").increment(events as u64);
                metrics::histogram!("ingest_commit_seconds").record(started.elapsed().as_secs_f64());
                on_alert(queued);
                let mut handoff = Vec::new();
                for (job, out) in jobs.into_iter().zip(outcomes) {
                    let mut accepted = 0;
                    for o in &out {
                        if let Outcome::Accepted(id) = o {
                            accepted += 1;
                            handoff.push(QueuedEvent { project_id: job.project_id.clone(), event_id: id.clone() });
                        }
                    }
                    if job.hard_limit.is_none() {
                        meter.add(&job.project_id, Metric::Events, accepted);
                    }
                    let month_used = used.get(&job.project_id).copied();
                    let _ = job.reply.send(Ok(Committed { outcomes: out, month_used }));
                }
                if !handoff.is_empty() {
                    if let Err(e) = queue.push(&db, &handoff).await {
                        // The events are stored; the recovery sweep hands them on later.
                        tracing::warn!(error = %e, count = handoff.len(), "queue hand-off failed; the sweep will retry");
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, jobs = jobs.len(), "ingest commit failed");
                for job in jobs {
                    let _ = job.reply.send(Err(Error::internal("could not store the event")));
                }
            }
        }
    }
}

/// Rows per multi-row INSERT: 8 parameters a row stays far below both backends' limits.
const ROWS_PER_INSERT: usize = 500;

/// The month's events per hard-limited project after a commit.
type MonthUsed = std::collections::HashMap<String, i64>;

/// Writes every job's events in one transaction, many rows per statement. A repeated
/// `clientEventId` inserts nothing and answers the first event's id (also within the same commit).
/// A hard-limited project's new events past its limit are taken out again and refused.
async fn commit(db: &Db, jobs: &[Job]) -> Result<(Vec<Vec<Outcome>>, MonthUsed, Queued)> {
    let at = time::now();
    let now = time::to_db(at);
    let mut tx = db.writer().begin().await?;
    // Hard-limited projects in one order for every committer (their month rows are locked).
    let mut limited: Vec<(&str, i64)> =
        jobs.iter().filter_map(|j| j.hard_limit.map(|l| (j.project_id.as_str(), l))).collect();
    limited.sort_unstable();
    limited.dedup_by(|a, b| a.0 == b.0);
    let mut used_before: std::collections::HashMap<&str, (i64, i64)> = Default::default();
    for (project_id, limit) in &limited {
        used_before.insert(*project_id, (quota::lock_month(&mut tx, project_id, at).await?, *limit));
    }
    // Every event with the id it gets if it is new, in submission order.
    let rows: Vec<(&str, &ValidEvent, String)> = jobs
        .iter()
        .flat_map(|job| job.events.iter().map(move |e| (job.project_id.as_str(), e)))
        .map(|(p, e)| (p, e, uuid::Uuid::now_v7().to_string()))
        .collect();
    let mut inserted: std::collections::HashSet<String> = std::collections::HashSet::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let values: Vec<String> =
            (0..chunk.len()).map(|i| format!("({}, 'accepted', 0)", sql::list_placeholders(8, i * 8))).collect();
        let statement = sql::positional(
            db.backend(),
            &format!(
                "INSERT INTO events (id, project_id, type, payload, source, client_event_id, client_timestamp, \
                 received_at, status, enqueued) VALUES {} ON CONFLICT (project_id, client_event_id) DO NOTHING RETURNING id",
                values.join(", ")
            ),
        );
        let mut q = sqlx::query_scalar::<_, String>(&statement);
        for (project_id, e, id) in chunk {
            q = q
                .bind(id)
                .bind(*project_id)
                .bind(&e.event_type)
                .bind(&e.payload)
                .bind(&e.source)
                .bind(&e.client_event_id)
                .bind(e.client_timestamp.map(time::to_db))
                .bind(&now);
        }
        inserted.extend(q.fetch_all(&mut *tx).await?);
    }
    // New events past a hard limit, in submission order, are taken back out.
    let mut admitted: std::collections::HashMap<&str, i64> = Default::default();
    let mut refused: std::collections::HashSet<&str> = Default::default();
    let mut over: Vec<&str> = Vec::new();
    for (project_id, _, id) in &rows {
        let Some((used, limit)) = used_before.get(project_id) else { continue };
        if !inserted.contains(id) {
            continue;
        }
        let n = admitted.entry(*project_id).or_insert(0);
        if used + *n < *limit {
            *n += 1;
        } else {
            over.push(id.as_str());
            refused.insert(*project_id);
        }
    }
    for chunk in over.chunks(ROWS_PER_INSERT) {
        let statement = sql::positional(
            db.backend(),
            &format!("DELETE FROM events WHERE id IN ({})", sql::list_placeholders(chunk.len(), 0)),
        );
        let mut q = sqlx::query(&statement);
        for id in chunk {
            q = q.bind(*id);
            inserted.remove(*id);
        }
        q.execute(&mut *tx).await?;
    }
    let mut month_used = MonthUsed::new();
    let mut queued = Queued::default();
    for (project_id, limit) in &limited {
        let before = used_before[project_id].0;
        let n = admitted.get(project_id).copied().unwrap_or(0);
        let after = if n > 0 {
            usage::add(&mut tx, project_id, at, &usage::Delta { events: n, ..Default::default() }).await?.0
        } else {
            before
        };
        month_used.insert(project_id.to_string(), after);
        let c = Crossing {
            project_id,
            quota: "eventsPerMonth",
            limit: *limit,
            before,
            after,
            refused: refused.contains(project_id),
            at,
        };
        queued.merge(alerts::check(&mut tx, &c).await?);
    }
    let mut outcomes = rows.iter().map(|(project_id, e, id)| (*project_id, *e, id));
    let mut all = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut out = Vec::with_capacity(job.events.len());
        for (project_id, e, id) in outcomes.by_ref().take(job.events.len()) {
            if inserted.contains(id) {
                out.push(Outcome::Accepted(id.clone()));
            } else if e.client_event_id.is_none() {
                out.push(Outcome::Rejected);
            } else {
                // The first event with this clientEventId, unless it was refused in this commit.
                let first: Option<String> =
                    sqlx::query_scalar("SELECT id FROM events WHERE project_id = $1 AND client_event_id = $2")
                        .bind(project_id)
                        .bind(&e.client_event_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                out.push(first.map_or(Outcome::Rejected, Outcome::Duplicate));
            }
        }
        all.push(out);
    }
    let mut projects: Vec<&str> = jobs.iter().map(|j| j.project_id.as_str()).collect();
    projects.sort_unstable();
    projects.dedup();
    // At most once a second per project: on PostgreSQL every concurrent committer would
    // otherwise wait for the others' row lock on the project, one WAL flush after another.
    let stale = time::to_db(time::now() - chrono::Duration::seconds(1));
    for p in projects {
        sqlx::query(
            "UPDATE projects SET last_event_at = $1 WHERE id = $2 AND (last_event_at IS NULL OR last_event_at < $3)",
        )
        .bind(&now)
        .bind(p)
        .bind(&stale)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok((all, month_used, queued))
}
