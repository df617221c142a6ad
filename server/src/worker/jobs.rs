//! The one worker loop every durable job table runs on (docs/JOBS.md): claim due rows through
//! db/lease.rs (round-robin across projects, each project under its cap), run each attempt as a
//! task of its own, and hand finished attempts to a recorder that writes as many per call as
//! have finished meanwhile. A job kind says only how to claim, attempt and record.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use domain::error::Result;
use domain::Services;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// One kind of job: webhook messages, push jobs, own-Pusher triggers, platform mail.
pub trait JobKind: Send + Sync + 'static {
    /// A claimed row with what its attempt needs.
    type Due: Send + 'static;
    /// What an attempt came to.
    type Outcome: Send + 'static;
    /// For the log.
    const NAME: &'static str;

    /// Attempts in flight in this process at most.
    fn max_in_flight(&self) -> usize;
    /// How often the table is asked for due rows (retries, other processes' work) when nothing rang.
    fn poll(&self) -> Duration;
    fn claim(&self, svc: &Services, limit: i64) -> impl Future<Output = Result<Vec<Self::Due>>> + Send;
    fn attempt(&self, due: &Self::Due) -> impl Future<Output = Self::Outcome> + Send;
    /// Records finished attempts. One whose record fails keeps its lease until it runs out, and
    /// is then attempted again.
    fn record(&self, svc: &Services, done: &[(Self::Due, Self::Outcome)]) -> impl Future<Output = Result<()>> + Send;
    /// Waits until a row may be due now, or `at_most`.
    fn wait_for_work(&self, svc: &Services, at_most: Duration) -> impl Future<Output = ()> + Send;
}

/// The most finished attempts one record call takes.
const RECORD_BATCH: usize = 1024;

/// Runs `kind` until the database closes (the process is shutting down, or a test stopped
/// this node).
pub async fn run<K: JobKind>(svc: Arc<Services>, kind: K) {
    let kind = Arc::new(kind);
    let (done, outcomes) = mpsc::unbounded_channel();
    tokio::spawn(record(svc.clone(), kind.clone(), outcomes));
    let max = kind.max_in_flight().max(1);
    // A claim is one write, so claim again only once half the slots are free (or nothing is in
    // flight), rather than one row per finished attempt.
    let claim_when_free = max.div_ceil(2);
    let mut in_flight = JoinSet::new();
    loop {
        while in_flight.try_join_next().is_some() {}
        if svc.db.pool().is_closed() {
            return;
        }
        let room = max - in_flight.len();
        if room >= claim_when_free || in_flight.is_empty() {
            match kind.claim(&svc, room as i64).await {
                Ok(due) => {
                    let claimed = due.len();
                    for d in due {
                        let (kind, done) = (kind.clone(), done.clone());
                        in_flight.spawn(async move {
                            let outcome = kind.attempt(&d).await;
                            let _ = done.send((d, outcome));
                        });
                    }
                    if claimed == room {
                        continue; // more may be due right now
                    }
                }
                Err(_) if svc.db.pool().is_closed() => return,
                Err(e) => tracing::warn!(error = %e, jobs = K::NAME, "could not claim due jobs"),
            }
        }
        tokio::select! {
            _ = kind.wait_for_work(&svc, kind.poll()) => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
        }
    }
}

async fn record<K: JobKind>(
    svc: Arc<Services>,
    kind: Arc<K>,
    mut outcomes: mpsc::UnboundedReceiver<(K::Due, K::Outcome)>,
) {
    let mut batch = Vec::new();
    while outcomes.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        if let Err(e) = kind.record(&svc, &batch).await {
            tracing::error!(error = %e, jobs = K::NAME, count = batch.len(), "could not record finished jobs");
        }
        batch.clear();
    }
}
