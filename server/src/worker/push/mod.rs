//! The push worker: claims due push jobs from the database (any process may; a lease keeps two
//! from sending the same attempt), pushes each to the recipient's devices over FCM ([`fcm`])
//! and APNs ([`apns`]), and records the outcomes, which schedules retries and drops dead
//! tokens. Jobs are rows, so a restart loses none.

mod apns;
mod fcm;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use domain::push::delivery::{self, Due, Outcome, Provider};
use domain::Services;
use tokio::task::JoinSet;

/// At most this many jobs in flight per process.
const MAX_IN_FLIGHT: usize = 32;

/// How often the database is asked for due jobs (acknowledgement timeouts, retries) when
/// nothing rang.
const POLL: Duration = Duration::from_millis(500);

/// A push request's limit.
const TIMEOUT: Duration = Duration::from_secs(15);

struct Senders {
    fcm: fcm::Fcm,
    apns: apns::Apns,
}

pub async fn run(svc: Arc<Services>) {
    let senders = Arc::new(Senders {
        fcm: fcm::Fcm::new(client(false), &svc.settings.fcm_base_url, &svc.settings.fcm_token_url),
        apns: apns::Apns::new(client(true), svc.settings.apns_base_url.clone()),
    });
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
                        let (svc, senders) = (svc.clone(), senders.clone());
                        in_flight.spawn(async move {
                            let outcomes = push(&senders, &d).await;
                            if let Err(e) = delivery::record(&svc, &d, &outcomes).await {
                                // The lease runs out and the job is tried again.
                                tracing::error!(error = %e, push.id = %d.id, project.id = %d.project_id, "could not record a push");
                            }
                        });
                    }
                }
                Err(e) if !svc.db.pool().is_closed() => tracing::warn!(error = %e, "could not claim due pushes"),
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

/// Sends to every device the job has a token for, side by side.
async fn push(s: &Senders, d: &Due) -> Vec<(Provider, Outcome)> {
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
            Outcome::Sent => tracing::debug!(push.id = %d.id, project.id = %d.project_id, provider = p.key(), "push sent"),
            other => tracing::info!(push.id = %d.id, project.id = %d.project_id, provider = p.key(), attempt = d.attempt,
                outcome = ?other, "push not sent"),
        }
    }
    outcomes
}

/// rustls, no redirects, no proxy from the environment; the APNs one speaks only HTTP/2.
fn client(http2_only: bool) -> reqwest::Client {
    let b = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
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
        return format!("timed out after {} s", TIMEOUT.as_secs());
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
