//! The webhook delivery worker, a job kind of [`super::jobs`]: claims due messages from the
//! database (round-robin across projects, at most `WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT` in flight
//! per endpoint), sends each as a signed POST ([`send`]) over the guarded client ([`client`]),
//! and records the outcome, which schedules the retry. Messages are rows, so a restart loses
//! none; at worst an attempt cut off by a crash is sent again once its lease runs out, under the
//! same `webhook-id`.

pub(crate) mod client;
mod send;

use std::time::Duration;

use domain::error::Result;
use domain::webhooks::delivery::{self, Attempt, Due};
use domain::Services;

use super::jobs::JobKind;

/// At most this many attempts in flight per process; a slow endpoint holds at most its cap of
/// them, each for at most the timeout.
const MAX_IN_FLIGHT: usize = 128;

/// How often the database is asked for due retries when nothing rang.
const POLL: Duration = Duration::from_secs(1);

pub struct Webhooks {
    client: reqwest::Client,
    allow_private: bool,
    timeout: Duration,
}

impl Webhooks {
    pub fn new(svc: &Services) -> Self {
        let allow_private = svc.settings.webhook_allow_private_targets;
        let timeout = svc.settings.jobs.webhook_timeout;
        Webhooks { client: client::build(allow_private, timeout), allow_private, timeout }
    }
}

impl JobKind for Webhooks {
    type Due = Due;
    type Outcome = Attempt;
    const NAME: &'static str = "webhooks";

    fn max_in_flight(&self) -> usize {
        MAX_IN_FLIGHT
    }

    fn poll(&self) -> Duration {
        POLL
    }

    async fn claim(&self, svc: &Services, limit: i64) -> Result<Vec<Due>> {
        delivery::claim_due_across_projects(svc, limit).await
    }

    async fn attempt(&self, due: &Due) -> Attempt {
        send::attempt(&self.client, due, self.allow_private, self.timeout).await
    }

    /// The successes share one commit, each failure schedules its retry (see `record_all`).
    async fn record(&self, svc: &Services, done: &[(Due, Attempt)]) -> Result<()> {
        delivery::record_all(svc, done).await
    }

    async fn wait_for_work(&self, svc: &Services, at_most: Duration) {
        delivery::wait_for_work(svc, at_most).await
    }
}
