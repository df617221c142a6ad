//! Publishing through a project's own Pusher app: `POST /apps/{appId}/events` on Pusher's HTTP
//! API (or the custom host), signed as the official server libraries sign, with the recipients'
//! `private-user-{id}` channels in groups of at most 100 (Pusher's limit per call).
//!
//! Retries happen in place: up to [`ATTEMPTS`] tries per call, [`BACKOFF`] apart, for network
//! errors, 5xx and 429; a 4xx (bad credentials, unknown app) is not retried. What still fails is
//! recorded on the notification as `deliveryError` by the caller; the notification is not queued
//! again (the event is processed), so a project whose Pusher is down for longer misses those
//! realtime frames, as it would with its own server library.

use std::sync::OnceLock;
use std::time::Duration;

use domain::notifications::Notification;
use domain::projects::pusher::{self, PusherApp};
use domain::realtime::signing;

/// Pusher accepts at most this many channels per trigger.
pub const MAX_CHANNELS: usize = 100;
pub const ATTEMPTS: usize = 3;
pub const BACKOFF: [Duration; 2] = [Duration::from_millis(200), Duration::from_secs(1)];

/// One guarded client per SSRF setting (tests run apps with either in one process).
fn client(allow_private: bool) -> &'static reqwest::Client {
    static CLIENTS: OnceLock<[reqwest::Client; 2]> = OnceLock::new();
    &CLIENTS.get_or_init(|| [super::webhooks::client::build(false), super::webhooks::client::build(true)])
        [allow_private as usize]
}

/// Triggers `notification` for every recipient; `Err` carries what to record as deliveryError.
pub async fn publish(app: &PusherApp, n: &Notification, allow_private: bool) -> Result<(), String> {
    if !pusher::host_allowed(app, allow_private) {
        return Err("the Pusher host is not a public address".into());
    }
    let data = n.frame().to_string();
    let channels: Vec<String> = n.recipients.iter().map(|u| format!("private-user-{u}")).collect();
    for group in channels.chunks(MAX_CHANNELS) {
        let body = serde_json::json!({ "name": "notification", "channels": group, "data": data });
        trigger(client(allow_private), app, &serde_json::to_vec(&body).expect("json serialises")).await?;
    }
    Ok(())
}

async fn trigger(client: &reqwest::Client, app: &PusherApp, body: &[u8]) -> Result<(), String> {
    let path = app.events_path();
    let url = format!("{}{path}", app.origin());
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(BACKOFF[attempt - 1]).await;
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let query = signing::sign_api_request(&app.key, &app.secret, "POST", &path, &[], body, now);
        let sent = client
            .post(&url)
            .query(&query)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await;
        match sent {
            Ok(res) if res.status().is_success() => return Ok(()),
            Ok(res) => {
                let status = res.status();
                let text: String = res.text().await.unwrap_or_default().chars().take(200).collect();
                last = format!("Pusher answered {}: {}", status.as_u16(), text.trim());
                if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
                    break;
                }
            }
            // Without the URL: it is the project's, but the error is shown to its admins as is.
            Err(e) => last = format!("could not reach Pusher: {}", e.without_url()),
        }
    }
    Err(last)
}

/// The own-Pusher part of a batch, in flight while the rest goes to the hub.
pub struct InFlight {
    tasks: tokio::task::JoinSet<(Notification, Result<(), String>)>,
}

/// What became of them.
#[derive(Default)]
pub struct Outcome {
    /// `(id, delivered)` for [`domain::engine::mark_published`]: Pusher accepted the event.
    pub published: Vec<(String, bool)>,
    /// Accepted by Pusher, so reported as delivered to all recipients (the platform cannot see
    /// the sockets of someone else's Pusher app).
    pub reached: Vec<Notification>,
    /// `(id, error)` for [`domain::engine::mark_publish_failed`].
    pub failed: Vec<(String, String)>,
}

/// Takes the deliveries of projects that have their own Pusher app out of `deliveries` and
/// starts publishing them, one task per notification.
pub async fn start(svc: &domain::Services, deliveries: &mut Vec<domain::engine::Delivery>) -> InFlight {
    let mut tasks = tokio::task::JoinSet::new();
    let allow_private = svc.settings.webhook_allow_private_targets;
    let mut apps = std::collections::HashMap::new();
    let mut rest = Vec::with_capacity(deliveries.len());
    for d in deliveries.drain(..) {
        let project = d.notification.project_id.clone();
        if !apps.contains_key(&project) {
            let app = pusher::for_project(svc, &project).await;
            apps.insert(project.clone(), app);
        }
        match &apps[&project] {
            Ok(None) => rest.push(d),
            Ok(Some(app)) => {
                let app = app.clone();
                tasks.spawn(async move {
                    let result = publish(&app, &d.notification, allow_private).await;
                    (d.notification, result)
                });
            }
            Err(e) => {
                tracing::warn!(project.id = %project, error = %e, "could not read the project's Pusher app");
                let n = d.notification;
                tasks.spawn(async move { (n, Err("could not read the project's Pusher configuration".to_string())) });
            }
        }
    }
    *deliveries = rest;
    InFlight { tasks }
}

impl InFlight {
    pub async fn finish(mut self) -> Outcome {
        let mut out = Outcome::default();
        while let Some(joined) = self.tasks.join_next().await {
            let Ok((n, result)) = joined else { continue };
            match result {
                Ok(()) => {
                    out.published.push((n.id.clone(), true));
                    out.reached.push(n);
                }
                Err(error) => {
                    tracing::warn!(project.id = %n.project_id, notification.id = %n.id, error = %error, "own Pusher app refused the notification");
                    out.failed.push((n.id, error));
                }
            }
        }
        out
    }
}
