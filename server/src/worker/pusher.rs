//! Publishing through a project's own Pusher app: `POST /apps/{appId}/events` on Pusher's HTTP
//! API (or the custom host), signed as the official server libraries sign, with the recipients'
//! `private-user-{id}` channels in groups of at most 100 (Pusher's limit per call).
//!
//! Each call is a job of [`super::jobs`] (domain::projects::pusher_jobs keeps them): one try
//! per attempt, within `PUSHER_TIMEOUT_MS`; network errors, 5xx and 429 are tried again later on
//! the job's schedule, a 4xx (bad credentials, unknown app) is not. What fails is recorded on the
//! notification as `deliveryError`. The notification worker only queues the job, so a Pusher
//! app that never answers holds its own project's slots, never the engine or other projects.

use std::time::Duration;

use domain::error::Result;
use domain::notifications::Notification;
use domain::projects::pusher::{self, PusherApp};
use domain::projects::pusher_jobs::{self, Due, Outcome};
use domain::realtime::signing;
use domain::Services;

use super::jobs::JobKind;

/// Pusher accepts at most this many channels per trigger.
pub const MAX_CHANNELS: usize = 100;

/// Triggers in flight per process at most.
const MAX_IN_FLIGHT: usize = 64;

/// How often the table is asked for due retries when nothing rang.
const POLL: Duration = Duration::from_millis(500);

pub struct OwnPusher {
    client: reqwest::Client,
    allow_private: bool,
}

impl OwnPusher {
    pub fn new(svc: &Services) -> Self {
        let allow_private = svc.settings.webhook_allow_private_targets;
        OwnPusher {
            client: super::webhooks::client::build(allow_private, svc.settings.jobs.pusher_timeout),
            allow_private,
        }
    }
}

impl JobKind for OwnPusher {
    type Due = Due;
    type Outcome = Outcome;
    const NAME: &'static str = "own-pusher";

    fn max_in_flight(&self) -> usize {
        MAX_IN_FLIGHT
    }

    fn poll(&self) -> Duration {
        POLL
    }

    async fn claim(&self, svc: &Services, limit: i64) -> Result<Vec<Due>> {
        pusher_jobs::claim_due_across_projects(svc, limit).await
    }

    async fn attempt(&self, due: &Due) -> Outcome {
        match &due.app {
            Ok(app) => publish(&self.client, app, &due.notification, self.allow_private).await,
            Err(problem) => Outcome::Retry(problem.clone()),
        }
    }

    async fn record(&self, svc: &Services, done: &[(Due, Outcome)]) -> Result<()> {
        for (d, outcome) in done {
            if let Err(e) = pusher_jobs::record(svc, d, outcome).await {
                tracing::error!(error = %e, project.id = %d.project_id, notification.id = %d.notification.id, "could not record a Pusher trigger");
            }
        }
        Ok(())
    }

    async fn wait_for_work(&self, svc: &Services, at_most: Duration) {
        pusher_jobs::wait_for_work(svc, at_most).await
    }
}

/// Takes the deliveries of projects that have their own Pusher app out of `deliveries` and
/// queues a trigger job for each (one write); the rest go to the built-in server.
pub async fn hand_off(svc: &Services, deliveries: &mut Vec<domain::engine::Delivery>) {
    let mut own = std::collections::HashMap::new();
    let mut queued = Vec::new();
    let mut rest = Vec::with_capacity(deliveries.len());
    for d in deliveries.drain(..) {
        let project = d.notification.project_id.clone();
        if !own.contains_key(&project) {
            // A configuration that cannot be read is the job's failure to record, not the
            // built-in server's to deliver.
            let has_own = !matches!(pusher::for_project(svc, &project).await, Ok(None));
            own.insert(project.clone(), has_own);
        }
        if own[&project] {
            queued.push(d);
        } else {
            rest.push(d);
        }
    }
    *deliveries = rest;
    let notifications: Vec<&Notification> = queued.iter().map(|d| &d.notification).collect();
    if let Err(e) = pusher_jobs::queue(svc, &notifications).await {
        tracing::error!(error = %e, count = notifications.len(), "could not queue own-Pusher triggers");
    }
}

/// Triggers `notification` for every recipient, in calls of at most [`MAX_CHANNELS`] channels.
pub async fn publish(client: &reqwest::Client, app: &PusherApp, n: &Notification, allow_private: bool) -> Outcome {
    if !pusher::host_allowed(app, allow_private) {
        return Outcome::Failed("the Pusher host is not a public address".into());
    }
    let data = n.frame().to_string();
    let channels: Vec<String> = n.recipients.iter().map(|u| format!("private-user-{u}")).collect();
    for group in channels.chunks(MAX_CHANNELS) {
        let body = serde_json::json!({ "name": "notification", "channels": group, "data": data });
        let outcome = trigger(client, app, &serde_json::to_vec(&body).expect("json serialises")).await;
        if outcome != Outcome::Sent {
            return outcome;
        }
    }
    Outcome::Sent
}

async fn trigger(client: &reqwest::Client, app: &PusherApp, body: &[u8]) -> Outcome {
    let path = app.events_path();
    let url = format!("{}{path}", app.origin());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let query = signing::sign_api_request(&app.key, &app.secret, "POST", &path, &[], body, now);
    let sent =
        client.post(&url).query(&query).header("content-type", "application/json").body(body.to_vec()).send().await;
    match sent {
        Ok(res) if res.status().is_success() => Outcome::Sent,
        Ok(res) => {
            let status = res.status();
            let text: String = res.text().await.unwrap_or_default().chars().take(200).collect();
            let problem = format!("Pusher answered {}: {}", status.as_u16(), text.trim());
            if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
                Outcome::Failed(problem)
            } else {
                Outcome::Retry(problem)
            }
        }
        // Without the URL: it is the project's, but the error is shown to its admins as is.
        Err(e) => Outcome::Retry(format!("could not reach Pusher: {}", e.without_url())),
    }
}
