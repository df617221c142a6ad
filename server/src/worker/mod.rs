//! The notification worker: takes accepted events off the queue (in-process, or Redis Streams
//! with a consumer group), runs the rule engine over them in batches, and publishes each new
//! notification to its recipients' channels. Beside it runs the webhook delivery worker.

mod memory;
mod mail;
mod publish;
mod pusher;
mod redis_streams;
pub mod push;
pub mod webhooks;

use std::sync::Arc;

use domain::queue::EventQueue;
use domain::Services;

use crate::realtime::Hub;

/// The most events one engine commit takes.
const BATCH: usize = 256;

/// Starts the worker for the configured queue, the webhook delivery worker and the mail sender.
pub fn spawn(svc: Arc<Services>, hub: Arc<Hub>) {
    tokio::spawn(webhooks::run(svc.clone()));
    tokio::spawn(push::run(svc.clone()));
    tokio::spawn(mail::run(svc.clone()));
    match svc.queue.clone() {
        EventQueue::Memory(q) => {
            tokio::spawn(memory::run(svc, hub, q));
        }
        EventQueue::Redis(q) => {
            tokio::spawn(redis_streams::run(svc, hub, q));
        }
    }
}
