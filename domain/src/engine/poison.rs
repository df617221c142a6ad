//! Poison events are parked, not retried forever (docs/ARCHITECTURE.md, "Fault isolation"). A
//! batch whose processing fails while the database answers is tried again one event at a time,
//! each up to [`MAX_ATTEMPTS`] times; an event that still fails is marked `failed` with the
//! reason and gets a `dead_letters` row, so the rest of its batch goes on and no node loops on
//! it. When the database itself does not answer, nothing is parked: the caller keeps the events
//! and tries again later.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::queue::QueuedEvent;
use crate::services::Services;
use crate::time;

use super::Delivery;

/// Tries an event gets, alone, before it is parked.
pub const MAX_ATTEMPTS: u32 = 3;

/// Longest a batch's processing may take before it counts as failed.
const BATCH_LIMIT: Duration = Duration::from_secs(30);

/// What processing a batch gave: notifications to publish, and events to try again later (only
/// when the database did not answer).
#[derive(Default)]
pub struct Outcome {
    pub deliveries: Vec<Delivery>,
    pub retry_later: Vec<QueuedEvent>,
}

/// Processes a batch; see the module docs.
pub async fn process(svc: &Services, batch: &[QueuedEvent]) -> Outcome {
    let error = match attempt(svc, batch).await {
        Ok(deliveries) => return Outcome { deliveries, retry_later: vec![] },
        Err(e) => e,
    };
    if !database_answers(svc).await {
        tracing::error!(error = %error, count = batch.len(), "rule engine batch failed and the database does not answer; keeping the batch");
        return Outcome { deliveries: vec![], retry_later: batch.to_vec() };
    }
    tracing::warn!(error = %error, count = batch.len(), "rule engine batch failed; trying its events one by one");
    let mut out = Outcome::default();
    for (i, q) in batch.iter().enumerate() {
        let mut last = String::new();
        let mut done = false;
        for n in 1..=MAX_ATTEMPTS {
            match attempt(svc, std::slice::from_ref(q)).await {
                Ok(deliveries) => {
                    out.deliveries.extend(deliveries);
                    done = true;
                    break;
                }
                Err(e) => {
                    if !database_answers(svc).await {
                        out.retry_later.extend_from_slice(&batch[i..]);
                        return out;
                    }
                    last = e.to_string();
                    if n < MAX_ATTEMPTS {
                        tokio::time::sleep(Duration::from_millis(50 * u64::from(n))).await;
                    }
                }
            }
        }
        if !done {
            let reason = format!("processing failed {MAX_ATTEMPTS} times: {last}");
            match park(svc, q, &reason).await {
                Ok(()) => {
                    tracing::warn!(project.id = %q.project_id, event.id = %q.event_id, reason = %reason, "parked a poison event")
                }
                Err(e) => {
                    tracing::error!(error = %e, event.id = %q.event_id, "could not park a poison event; keeping it");
                    out.retry_later.push(q.clone());
                }
            }
        }
    }
    out
}

async fn attempt(svc: &Services, batch: &[QueuedEvent]) -> Result<Vec<Delivery>> {
    match tokio::time::timeout(BATCH_LIMIT, super::process_batch(svc, batch)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Internal(format!("processing took longer than {} s", BATCH_LIMIT.as_secs()))),
    }
}

async fn database_answers(svc: &Services) -> bool {
    let ping = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(svc.db.pool());
    matches!(tokio::time::timeout(Duration::from_secs(2), ping).await, Ok(Ok(1)))
}

/// Marks the event `failed` with `reason` and writes its dead letter, in one commit.
async fn park(svc: &Services, q: &QueuedEvent, reason: &str) -> Result<()> {
    let mut tx = svc.db.writer().begin().await?;
    let reason = clean(reason);
    sqlx::query(
        "UPDATE events SET status = 'failed', processed_at = $1, error = $2 WHERE project_id = $3 AND id = $4 AND status = 'accepted'",
    )
    .bind(time::to_db(time::now()))
    .bind(&reason)
    .bind(&q.project_id)
    .bind(&q.event_id)
    .execute(&mut *tx)
    .await?;
    record_in(&mut tx, &q.project_id, &q.event_id, &reason, i64::from(MAX_ATTEMPTS)).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes an event's dead letter in `tx` (once per event).
pub(super) async fn record_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    project_id: &str,
    event_id: &str,
    reason: &str,
    attempts: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO dead_letters (id, project_id, event_id, reason, attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (project_id, event_id) DO NOTHING",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(project_id)
    .bind(event_id)
    .bind(clean(reason))
    .bind(attempts)
    .bind(time::to_db(time::now()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A reason as stored: no NUL characters (PostgreSQL refuses them in text), at most 2,000
/// characters.
pub(super) fn clean(reason: &str) -> String {
    reason.chars().filter(|&c| c != '\0').take(2_000).collect()
}
