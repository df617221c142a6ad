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
        match engine::process_batch(&svc, &batch).await {
            Ok(deliveries) => publisher.publish(&svc, deliveries).await,
            Err(e) => {
                // Nothing was committed: put the batch back and try again shortly.
                tracing::error!(error = %e, count = batch.len(), "rule engine batch failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                queue.push(&batch);
            }
        }
    }
}
