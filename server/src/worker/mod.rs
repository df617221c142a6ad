//! The notification worker: takes accepted events off the queue (in-process, or Redis Streams
//! with a consumer group), runs the rule engine over them in batches, and publishes each new
//! notification to its recipients' channels. Beside it run the job workers ([`jobs`]): webhook
//! delivery, mobile push, own-Pusher triggers and platform mail.

pub mod jobs;
mod mail;
mod memory;
mod publish;
pub mod push;
mod pusher;
mod redis_streams;
pub mod webhooks;

use std::sync::Arc;

use domain::queue::EventQueue;
use domain::Services;

use crate::realtime::Hub;

/// The most events one engine commit takes.
const BATCH: usize = 256;

/// Starts the worker for the configured queue and the job workers.
pub fn spawn(svc: Arc<Services>, hub: Arc<Hub>) {
    tokio::spawn(jobs::run(svc.clone(), webhooks::Webhooks::new(&svc)));
    tokio::spawn(jobs::run(svc.clone(), push::Push::new(&svc)));
    tokio::spawn(jobs::run(svc.clone(), pusher::OwnPusher::new(&svc)));
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
