//! The in-process worker loop: batches from the fair per-project queue.

use std::sync::Arc;
use std::time::Duration;

use domain::engine;
use domain::queue::memory::MemoryQueue;
use domain::Services;

use crate::realtime::Hub;

pub async fn run(svc: Arc<Services>, hub: Arc<Hub>, queue: MemoryQueue) {
    let publisher = super::publish::Publisher::start(svc.clone(), hub);
    loop {
        let mut batch = vec![queue.pop().await];
        while batch.len() < super::BATCH {
            match queue.try_pop() {
                Some(e) => batch.push(e),
                None => break,
            }
        }
        // One bad event is parked, not retried forever (domain::engine::poison).
        let outcome = engine::poison::process(&svc, &batch).await;
        publisher.publish(&svc, outcome.deliveries).await;
        if !outcome.retry_later.is_empty() {
            // The database did not answer: nothing of these was committed; again shortly.
            tokio::time::sleep(Duration::from_millis(500)).await;
            queue.push(&outcome.retry_later);
        }
    }
}
