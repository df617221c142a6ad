//! Finds accepted events that never reached a worker: after a crash between commit and hand-off,
//! or while Redis was away. This is a cross-project job, so it reads every project's events
//! directly; it only ever re-queues ids, and consumers are idempotent.

use std::time::Duration;

use sqlx::Row;

use crate::error::Result;
use crate::queue::{EventQueue, QueuedEvent};
use crate::services::Services;
use crate::time;

const BATCH: i64 = 1000;

/// At start-up with the in-process queue: everything still `accepted` was lost with the old
/// process's memory, so all of it is queued again, oldest first.
pub async fn requeue_all_accepted(svc: &Services) -> Result<usize> {
    let mut total = 0;
    let mut after = String::new();
    loop {
        let rows =
            sqlx::query("SELECT id, project_id FROM events WHERE status = 'accepted' AND id > $1 ORDER BY id LIMIT $2")
                .bind(&after)
                .bind(BATCH)
                .fetch_all(svc.db.pool())
                .await?;
        if rows.is_empty() {
            break;
        }
        let events: Vec<QueuedEvent> =
            rows.iter().map(|r| QueuedEvent { project_id: r.get("project_id"), event_id: r.get("id") }).collect();
        after = events.last().map(|e| e.event_id.clone()).unwrap_or_default();
        total += events.len();
        svc.queue.push(&svc.db, &events).await?;
    }
    Ok(total)
}

/// With Redis: events accepted more than `grace` ago and never marked as handed on are sent again.
pub async fn sweep_not_enqueued(svc: &Services, grace: Duration) -> Result<usize> {
    let cutoff = time::to_db(time::now() - chrono::Duration::from_std(grace).unwrap_or_default());
    let rows = sqlx::query(
        "SELECT id, project_id FROM events WHERE status = 'accepted' AND enqueued = 0 AND received_at < $1 \
         ORDER BY received_at LIMIT $2",
    )
    .bind(cutoff)
    .bind(BATCH)
    .fetch_all(svc.db.pool())
    .await?;
    let events: Vec<QueuedEvent> =
        rows.iter().map(|r| QueuedEvent { project_id: r.get("project_id"), event_id: r.get("id") }).collect();
    if !events.is_empty() {
        svc.queue.push(&svc.db, &events).await?;
        tracing::info!(count = events.len(), "re-queued accepted events that were not handed on");
    }
    Ok(events.len())
}

/// Runs the sweep for the life of the process (Redis mode only; the in-process queue is refilled
/// at start-up).
pub fn spawn_sweeper(svc: std::sync::Arc<Services>) {
    if !matches!(svc.queue, EventQueue::Redis(_)) {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(15));
        loop {
            tick.tick().await;
            if let Err(e) = sweep_not_enqueued(&svc, Duration::from_secs(30)).await {
                tracing::warn!(error = %e, "event sweep failed");
            }
        }
    });
}
