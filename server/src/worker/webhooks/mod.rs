//! The webhook delivery worker: claims due messages from the database (any process may; a lease
//! keeps two from sending the same attempt), sends each as a signed POST ([`send`]) over the
//! guarded client ([`client`]), and records the outcome, which schedules the retry. Messages are
//! rows, so a restart loses none; at worst an attempt cut off by a crash is sent again once its
//! lease runs out, under the same `webhook-id`.

pub(crate) mod client;
mod send;

use std::sync::Arc;
use std::time::Duration;

use domain::webhooks::delivery;
use domain::Services;
use tokio::task::JoinSet;

/// At most this many attempts in flight per process; a slow endpoint holds one slot for at most
/// the client's timeout.
const MAX_IN_FLIGHT: usize = 32;

/// How often the database is asked for due retries when nothing rang.
const POLL: Duration = Duration::from_secs(1);

pub async fn run(svc: Arc<Services>) {
    let client = client::build(svc.settings.webhook_allow_private_targets);
    let mut in_flight = JoinSet::new();
    loop {
        while in_flight.try_join_next().is_some() {}
        if svc.db.pool().is_closed() {
            return; // the process is shutting down (or a test stopped this node)
        }
        let room = MAX_IN_FLIGHT - in_flight.len();
        let mut claimed = 0;
        if room > 0 {
            match delivery::claim_due_across_projects(&svc, room as i64).await {
                Ok(due) => {
                    claimed = due.len();
                    for d in due {
                        let (svc, client) = (svc.clone(), client.clone());
                        in_flight.spawn(async move {
                            let attempt = send::attempt(&client, &d, svc.settings.webhook_allow_private_targets).await;
                            if let Err(e) = delivery::record(&svc, &d, &attempt).await {
                                // The lease runs out and the message is sent again.
                                tracing::error!(error = %e, webhook.id = %d.id, project.id = %d.project_id, "could not record a webhook attempt");
                            }
                        });
                    }
                }
                Err(e) if !svc.db.pool().is_closed() => tracing::warn!(error = %e, "could not claim due webhooks"),
                Err(_) => return,
            }
        }
        if room > 0 && claimed == room {
            continue; // more may be due right now
        }
        tokio::select! {
            _ = delivery::wait_for_work(&svc, POLL) => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
        }
    }
}
