//! Publishing a batch's notifications, in two stages so the next batch need not wait for the
//! first one's bookkeeping:
//!
//! 1. [`Publisher::publish`], on the worker's own path: one `notification` event on
//!    `private-user-{id}` per recipient (projects with their own Pusher app get a trigger job
//!    instead, worked off beside the engine, see [`super::pusher`]). The worker goes on to its
//!    next batch right after.
//! 2. The follow-up task, in batch order: schedules the mobile-push fallback, records what was
//!    sent (one write) and queues `notification.delivered` webhooks for those that reached a
//!    live socket.
//!
//! The follow-up queue is bounded, so a slow database holds the worker back rather than letting
//! memory grow.

use std::sync::Arc;

use domain::analytics::Channel;
use domain::engine::{self, Delivery};
use domain::notifications::Notification;
use domain::Services;
use tokio::sync::mpsc;

use crate::realtime::Hub;

/// Batches published but not yet recorded, at most.
const FOLLOW_UPS_IN_FLIGHT: usize = 16;

/// A published batch, for the follow-up task.
struct FollowUp {
    deliveries: Vec<Delivery>,
    /// For each delivery, the recipients who had a live subscription.
    live: Vec<Vec<String>>,
}

pub struct Publisher {
    hub: Arc<Hub>,
    follow_ups: mpsc::Sender<FollowUp>,
}

impl Publisher {
    /// Starts the follow-up task; it ends when the publisher is dropped.
    pub fn start(svc: Arc<Services>, hub: Arc<Hub>) -> Self {
        let (follow_ups, rx) = mpsc::channel(FOLLOW_UPS_IN_FLIGHT);
        tokio::spawn(follow_up(svc, rx));
        Publisher { hub, follow_ups }
    }

    /// Sends the frames and hands the rest to the follow-up task.
    pub async fn publish(&self, svc: &Services, mut deliveries: Vec<Delivery>) {
        if deliveries.is_empty() {
            return;
        }
        super::pusher::hand_off(svc, &mut deliveries).await;
        let mut live = Vec::with_capacity(deliveries.len());
        for d in &deliveries {
            let n = &d.notification;
            let data = n.frame().to_string();
            let mut reached = Vec::new();
            for user in &n.recipients {
                let channel = format!("private-user-{user}");
                if self.hub.is_subscribed(&n.project_id, &channel).await {
                    reached.push(user.clone());
                }
                self.hub.publish(&n.project_id, &channel, "notification", &data).await;
            }
            live.push(reached);
        }
        if self.follow_ups.send(FollowUp { deliveries, live }).await.is_err() {
            tracing::error!("the publish follow-up task stopped; published notifications are not recorded");
        }
    }
}

async fn follow_up(svc: Arc<Services>, mut rx: mpsc::Receiver<FollowUp>) {
    while let Some(f) = rx.recv().await {
        record(&svc, f).await;
    }
}

async fn record(svc: &Services, f: FollowUp) {
    let mut published: Vec<(String, bool)> = Vec::with_capacity(f.deliveries.len());
    let mut presence: Vec<(&Notification, Vec<String>)> = Vec::with_capacity(f.deliveries.len());
    for (d, live) in f.deliveries.iter().zip(f.live) {
        published.push((d.notification.id.clone(), !live.is_empty()));
        presence.push((&d.notification, live));
    }
    // The mobile-push fallback: recipients without a live socket get a push now, connected ones
    // once their acknowledgement is overdue (see domain::push::schedule).
    domain::push::schedule::after_publish(svc, &presence).await;
    let first = match engine::mark_published(svc, &published).await {
        Ok(first) => first,
        Err(e) => {
            tracing::warn!(error = %e, count = published.len(), "could not record published notifications");
            return;
        }
    };
    let reached: Vec<(&Notification, Vec<String>)> =
        presence.into_iter().filter(|(_, live)| !live.is_empty()).collect();
    for (n, _) in &reached {
        svc.analytics.delivered(
            &n.project_id,
            Channel::Socket,
            n.created_at,
            n.event_received_at,
            first.contains(&n.id),
        );
    }
    domain::webhooks::emit::notifications_delivered(svc, &reached).await;
}
