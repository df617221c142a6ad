//! The push worker, a job kind of [`super::jobs`]: claims due push jobs from the database
//! (round-robin across projects, at most `PUSH_MAX_IN_FLIGHT_PER_PROJECT` in flight per
//! project), pushes each to the recipient's devices over FCM ([`fcm`]) and APNs ([`apns`]), and
//! records the outcomes, which schedules retries and drops dead tokens. Jobs are rows, so a
//! restart loses none.

mod apns;
mod fcm;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use domain::error::Result;
use domain::push::delivery::{self, Due, Outcome, Provider};
use domain::Services;

use super::jobs::JobKind;

/// At most this many jobs in flight per process.
const MAX_IN_FLIGHT: usize = 32;

/// How often the database is asked for due jobs (acknowledgement timeouts, retries) when
/// nothing rang.
const POLL: Duration = Duration::from_millis(500);

pub struct Push {
    fcm: fcm::Fcm,
    apns: apns::Apns,
}

impl Push {
    pub fn new(svc: &Services) -> Self {
        let timeout = svc.settings.jobs.push_timeout;
        Push {
            fcm: fcm::Fcm::new(client(false, timeout), &svc.settings.fcm_base_url, &svc.settings.fcm_token_url),
            apns: apns::Apns::new(client(true, timeout), svc.settings.apns_base_url.clone()),
        }
    }
}

impl JobKind for Push {
    type Due = Due;
    type Outcome = Vec<(Provider, Outcome)>;
    const NAME: &'static str = "push";

    fn max_in_flight(&self) -> usize {
        MAX_IN_FLIGHT
    }

    fn poll(&self) -> Duration {
        POLL
    }

    async fn claim(&self, svc: &Services, limit: i64) -> Result<Vec<Due>> {
        delivery::claim_due_across_projects(svc, limit).await
    }

    async fn attempt(&self, due: &Due) -> Vec<(Provider, Outcome)> {
        push(self, due).await
    }

    /// Each job on its own: one that cannot be recorded keeps its lease and is tried again once
    /// it runs out; the others are recorded still.
    async fn record(&self, svc: &Services, done: &[(Due, Vec<(Provider, Outcome)>)]) -> Result<()> {
        for (d, outcomes) in done {
            if let Err(e) = delivery::record(svc, d, outcomes).await {
                tracing::error!(error = %e, push.id = %d.id, project.id = %d.project_id, "could not record a push");
            }
        }
        Ok(())
    }

    async fn wait_for_work(&self, svc: &Services, at_most: Duration) {
        delivery::wait_for_work(svc, at_most).await
    }
}

/// Sends to every device the job has a token for, side by side.
async fn push(s: &Push, d: &Due) -> Vec<(Provider, Outcome)> {
    let fcm = async {
        match &d.fcm {
            Some((sa, token)) => Some((Provider::Fcm, s.fcm.send(d, sa, token).await)),
            None => None,
        }
    };
    let apns = async {
        match &d.apns {
            Some((creds, token)) => Some((Provider::Apns, s.apns.send(d, creds, token).await)),
            None => None,
        }
    };
    let (f, a) = tokio::join!(fcm, apns);
    let outcomes: Vec<_> = f.into_iter().chain(a).collect();
    for (p, o) in &outcomes {
        match o {
            Outcome::Sent => {
                tracing::debug!(push.id = %d.id, project.id = %d.project_id, provider = p.key(), "push sent")
            }
            other => {
                tracing::info!(push.id = %d.id, project.id = %d.project_id, provider = p.key(), attempt = d.attempt,
                outcome = ?other, "push not sent")
            }
        }
    }
    outcomes
}

/// rustls, no redirects, no proxy from the environment; the APNs one speaks only HTTP/2.
fn client(http2_only: bool, timeout: Duration) -> reqwest::Client {
    let b = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("notify-push/", env!("CARGO_PKG_VERSION")));
    let b = if http2_only { b.http2_prior_knowledge() } else { b };
    b.build().expect("a rustls client builds")
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// The error and its innermost cause.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out (PUSH_TIMEOUT_MS)".to_string();
    }
    let mut cause = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = Some(s.to_string());
        source = s.source();
    }
    let kind = if e.is_connect() { "could not connect" } else { "request failed" };
    match cause {
        Some(c) => format!("{kind}: {c}"),
        None => kind.to_string(),
    }
}
