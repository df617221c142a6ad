//! The webhook delivery worker: claims due messages from the database (any process may; a lease
//! keeps two from sending the same attempt), sends each as a signed POST ([`send`]) over the
//! guarded client ([`client`]), and records the outcome, which schedules the retry. Messages are
//! rows, so a restart loses none; at worst an attempt cut off by a crash is sent again once its
//! lease runs out, under the same `webhook-id`.

pub(crate) mod client;
mod send;

use std::sync::Arc;
use std::time::Duration;

use domain::webhooks::delivery::{self, Attempt, Due};
use domain::Services;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// At most this many attempts in flight per process; a slow endpoint holds one slot for at most
/// the client's timeout.
const MAX_IN_FLIGHT: usize = 128;

/// A claim is one write, so the worker claims again only once this many slots are free (or
/// nothing is in flight), rather than one message per finished attempt.
const CLAIM_WHEN_FREE: usize = MAX_IN_FLIGHT / 2;

/// How often the database is asked for due retries when nothing rang.
const POLL: Duration = Duration::from_secs(1);

/// The most attempts one recording commit takes.
const RECORD_BATCH: usize = 1024;

pub async fn run(svc: Arc<Services>) {
    let client = client::build(svc.settings.webhook_allow_private_targets);
    let (done, outcomes) = mpsc::unbounded_channel();
    tokio::spawn(record(svc.clone(), outcomes));
    let mut in_flight = JoinSet::new();
    loop {
        while in_flight.try_join_next().is_some() {}
        if svc.db.pool().is_closed() {
            return; // the process is shutting down (or a test stopped this node)
        }
        let room = MAX_IN_FLIGHT - in_flight.len();
        let mut claimed = 0;
        if room >= CLAIM_WHEN_FREE || in_flight.is_empty() {
            match delivery::claim_due_across_projects(&svc, room as i64).await {
                Ok(due) => {
                    claimed = due.len();
                    for d in due {
                        let (client, done) = (client.clone(), done.clone());
                        let allow_private = svc.settings.webhook_allow_private_targets;
                        in_flight.spawn(async move {
                            let attempt = send::attempt(&client, &d, allow_private).await;
                            let _ = done.send((d, attempt));
                        });
                    }
                }
                Err(e) if !svc.db.pool().is_closed() => tracing::warn!(error = %e, "could not claim due webhooks"),
                Err(_) => return,
            }
            if claimed == room {
                continue; // more may be due right now
            }
        }
        tokio::select! {
            _ = delivery::wait_for_work(&svc, POLL) => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
        }
    }
}

/// Records finished attempts, as many per commit as have finished meanwhile. An attempt whose
/// record fails keeps its lease until it runs out; the message is then sent again under the
/// same `webhook-id`.
async fn record(svc: Arc<Services>, mut outcomes: mpsc::UnboundedReceiver<(Due, Attempt)>) {
    let mut batch = Vec::new();
    while outcomes.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        if let Err(e) = delivery::record_all(&svc, &batch).await {
            tracing::error!(error = %e, count = batch.len(), "could not record webhook attempts");
        }
        batch.clear();
    }
}
