//! Triggers on projects' own Pusher apps as durable jobs (docs/JOBS.md): the notification worker
//! only inserts a `pusher_jobs` row per notification ([`queue`]); the job worker
//! (server/src/worker/pusher.rs) claims them round-robin across projects, at most
//! `PUSHER_MAX_IN_FLIGHT_PER_PROJECT` per project, calls the app, and [`record`]s the outcome. So
//! a Pusher app that never answers holds only its own project's slots, never the engine.
//!
//! A trigger Pusher accepted marks the notification published and delivered (the platform cannot
//! see the sockets of someone else's app), schedules the mobile-push fallback and emits
//! `notification.delivered`; one that failed records `deliveryError` and is tried again on
//! [`RETRY_SCHEDULE`] when the failure may pass (no answer, 5xx, 429).

use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;

use super::pusher::{self, PusherApp};
use crate::auth::Tenant;
use crate::db::lease::{self, Held, JobTable, Settle};
use crate::engine;
use crate::error::Result;
use crate::notifications::{Notification, NotificationRow, COLUMNS};
use crate::services::Services;
use crate::time;

/// Seconds before each retry of a trigger that failed for a passing reason; after the last,
/// the job is failed.
pub const RETRY_SCHEDULE: [i64; 4] = [1, 5, 30, 120];

const JOBS: JobTable = JobTable {
    table: "pusher_jobs",
    due_column: "due_at",
    columns: "id, project_id, notification_id, attempts",
    per_project: true,
    error_column: "last_error",
    updated_at: true,
};

/// How long a claimed trigger stays with its worker: well past its requests' timeout
/// (`PUSHER_TIMEOUT_MS`, per call of up to 100 channels), so only a dead worker's lease runs out.
fn lease_for(timeout: Duration) -> Duration {
    timeout * 4 + Duration::from_secs(30)
}

/// Wakes the own-Pusher worker when a trigger is due now.
#[derive(Default)]
pub struct Wake(tokio::sync::Notify);

impl Wake {
    pub(crate) fn ring(&self) {
        self.0.notify_one();
    }
}

/// Waits until a trigger may be due now, or `at_most`.
pub async fn wait_for_work(svc: &Services, at_most: Duration) {
    let _ = tokio::time::timeout(at_most, svc.pusher_wake.0.notified()).await;
}

/// Queues a trigger, due now, for each notification (one write); a notification queued before
/// is left as it is.
pub async fn queue(svc: &Services, notifications: &[&Notification]) -> Result<()> {
    if notifications.is_empty() {
        return Ok(());
    }
    let now = time::to_db(time::now());
    let mut tx = svc.db.writer().begin().await?;
    for n in notifications {
        let t = Tenant::system_for_queued_work(&n.project_id);
        sqlx::query(
            "INSERT INTO pusher_jobs (id, project_id, notification_id, status, attempts, due_at, lease_until, last_error, \
             created_at, updated_at) VALUES ($1, $2, $3, 'pending', 0, $4, NULL, NULL, $4, $4) \
             ON CONFLICT (notification_id) DO NOTHING",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(t.project_id())
        .bind(&n.id)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    svc.pusher_wake.ring();
    Ok(())
}

/// A claimed trigger with what it sends.
pub struct Due {
    pub id: String,
    pub project_id: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
    pub notification: Notification,
    /// The project's app, or why it cannot be used (recorded as the failure).
    pub app: std::result::Result<Arc<PusherApp>, String>,
    pub lease: String,
}

/// What a trigger came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Worth another try later.
    Retry(String),
    /// Will not work by retrying (refused credentials, an unknown app, a forbidden host).
    Failed(String),
}

/// Claims up to `limit` due triggers; one whose notification is gone, or whose project no longer
/// has its own app, is finished here (the notification, if any, goes nowhere else: the event
/// was processed while the app was configured).
pub async fn claim_due_across_projects(svc: &Services, limit: i64) -> Result<Vec<Due>> {
    let jobs = &svc.settings.jobs;
    let claimed =
        lease::claim_due(svc, &JOBS, limit, lease_for(jobs.pusher_timeout), jobs.pusher_max_in_flight_per_project)
            .await?;
    let mut due = Vec::with_capacity(claimed.rows.len());
    for row in claimed.rows {
        let (id, project_id, notification_id): (String, String, String) =
            (row.get("id"), row.get("project_id"), row.get("notification_id"));
        let t = Tenant::system_for_queued_work(&project_id);
        let held = Held { project_id: Some(t.project_id()), id: &id, lease: &claimed.lease };
        let found: Option<NotificationRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM notifications WHERE project_id = $1 AND id = $2"))
                .bind(t.project_id())
                .bind(&notification_id)
                .fetch_optional(svc.db.pool())
                .await?;
        let Some(notification) = found.map(|r| r.into_notification(vec![])) else {
            lease::finish(svc, &JOBS, held, "failed", None, Some("the notification is gone")).await?;
            continue;
        };
        let app = match pusher::for_project(svc, t.project_id()).await {
            Ok(Some(app)) => Ok(app),
            Ok(None) => {
                lease::finish(svc, &JOBS, held, "failed", None, Some("the project's own Pusher app was removed"))
                    .await?;
                continue;
            }
            Err(e) => {
                tracing::warn!(project.id = t.project_id(), error = %e, "could not read the project's Pusher app");
                Err("could not read the project's Pusher configuration".to_string())
            }
        };
        due.push(Due {
            id,
            project_id,
            attempt: row.get::<i64, _>("attempts") + 1,
            notification,
            app,
            lease: claimed.lease.clone(),
        });
    }
    Ok(due)
}

/// Records a trigger's outcome, fenced by its lease: a late outcome changes nothing.
pub async fn record(svc: &Services, due: &Due, outcome: &Outcome) -> Result<()> {
    let t = Tenant::system_for_queued_work(&due.project_id);
    let held = Held { project_id: Some(t.project_id()), id: &due.id, lease: &due.lease };
    let n = &due.notification;
    match outcome {
        Outcome::Sent => {
            if !lease::finish(svc, &JOBS, held, "sent", Some(due.attempt), None).await? {
                return Ok(());
            }
            let first = engine::mark_published(svc, &[(n.id.clone(), true)]).await?;
            let analytics = crate::analytics::Channel::Pusher;
            svc.analytics.delivered(&n.project_id, analytics, n.created_at, n.event_received_at, first.contains(&n.id));
            // Accepted by the project's own Pusher app: reported as reaching every recipient.
            let reached = [(n, n.recipients.clone())];
            crate::push::schedule::after_publish(svc, &reached).await;
            crate::webhooks::emit::notifications_delivered(svc, &reached).await;
        }
        Outcome::Retry(error) | Outcome::Failed(error) => {
            let retry_in =
                RETRY_SCHEDULE.get(due.attempt as usize - 1).filter(|_| matches!(outcome, Outcome::Retry(_)));
            let settle = Settle {
                status: if retry_in.is_some() { "pending" } else { "failed" },
                attempts: Some(due.attempt),
                error: Some(error),
                next_due: retry_in.map(|&secs| time::to_db(time::now() + chrono::Duration::seconds(secs))),
            };
            if !lease::settle(svc, &JOBS, held, settle).await? {
                return Ok(());
            }
            tracing::warn!(project.id = %n.project_id, notification.id = %n.id, attempt = due.attempt, error = %error,
                "own Pusher app refused the notification");
            engine::mark_publish_failed(svc, &[(n.id.clone(), error.clone())]).await?;
            if retry_in.is_none() {
                svc.analytics.failed(&n.project_id, crate::analytics::Channel::Pusher, n.created_at);
            }
        }
    }
    Ok(())
}
