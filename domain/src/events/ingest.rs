//! Group commit: concurrent requests' events are written in one transaction, so one fsync serves
//! many 202s. A request waits for the commit that holds its events; the hand-off to the queue
//! follows the commit.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

use super::ValidEvent;
use crate::db::{sql, Backend, Db};
use crate::error::{Error, Result};
use crate::queue::{EventQueue, QueuedEvent};
use crate::time;

/// What became of one submitted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted(String),
    /// The project already had an event with this `clientEventId`: its id, nothing created.
    Duplicate(String),
}

impl Outcome {
    pub fn id(&self) -> &str {
        match self {
            Outcome::Accepted(id) | Outcome::Duplicate(id) => id,
        }
    }
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Outcome::Duplicate(_))
    }
}

struct Job {
    project_id: String,
    events: Vec<ValidEvent>,
    reply: oneshot::Sender<Result<Vec<Outcome>>>,
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
    pub fn start(db: Db, queue: EventQueue) -> Self {
        let (tx, rx) = mpsc::channel::<Job>(16_384);
        let rx = Arc::new(Mutex::new(rx));
        let writers = match db.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        for _ in 0..writers {
            tokio::spawn(run_writer(db.clone(), queue.clone(), rx.clone()));
        }
        Ingestor { tx }
    }

    /// Stores `events` for `project_id`; returns once they are committed, outcomes in order.
    pub async fn submit(&self, project_id: &str, events: Vec<ValidEvent>) -> Result<Vec<Outcome>> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { project_id: project_id.to_string(), events, reply })
            .await
            .map_err(|_| Error::internal("ingest writer stopped"))?;
        rx.await.map_err(|_| Error::internal("ingest writer dropped the request"))?
    }
}

async fn run_writer(db: Db, queue: EventQueue, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
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
            Ok(outcomes) => {
                let events: usize = outcomes.iter().map(Vec::len).sum();
                metrics::counter!("events_committed_total").increment(events as u64);
                metrics::histogram!("ingest_commit_seconds").record(started.elapsed().as_secs_f64());
                let mut handoff = Vec::new();
                for (job, out) in jobs.into_iter().zip(outcomes) {
                    for o in &out {
                        if let Outcome::Accepted(id) = o {
                            handoff.push(QueuedEvent { project_id: job.project_id.clone(), event_id: id.clone() });
                        }
                    }
                    let _ = job.reply.send(Ok(out));
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

/// Writes every job's events in one transaction, many rows per statement. A repeated
/// `clientEventId` inserts nothing and answers the first event's id (also within the same commit).
async fn commit(db: &Db, jobs: &[Job]) -> Result<Vec<Vec<Outcome>>> {
    let now = time::to_db(time::now());
    let mut tx = db.writer().begin().await?;
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
    let mut outcomes = rows.iter().map(|(project_id, e, id)| (*project_id, *e, id));
    let mut all = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut out = Vec::with_capacity(job.events.len());
        for (project_id, e, id) in outcomes.by_ref().take(job.events.len()) {
            if inserted.contains(id) {
                out.push(Outcome::Accepted(id.clone()));
            } else {
                let first: String =
                    sqlx::query_scalar("SELECT id FROM events WHERE project_id = $1 AND client_event_id = $2")
                        .bind(project_id)
                        .bind(&e.client_event_id)
                        .fetch_one(&mut *tx)
                        .await?;
                out.push(Outcome::Duplicate(first));
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
        sqlx::query("UPDATE projects SET last_event_at = $1 WHERE id = $2 AND (last_event_at IS NULL OR last_event_at < $3)")
            .bind(&now)
            .bind(p)
            .bind(&stale)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(all)
}
