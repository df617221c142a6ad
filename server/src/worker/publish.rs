//! Publishing a batch's notifications: one `notification` event on `private-user-{id}` per
//! recipient, then one write recording what was sent, then `notification.delivered` webhooks for
//! those that reached a live socket. Projects with their own Pusher app are triggered there
//! instead ([`super::pusher`]), concurrently with the hub.

use std::sync::Arc;

use domain::engine::{self, Delivery};
use domain::Services;

use crate::realtime::Hub;

pub async fn deliveries(svc: &Services, hub: &Arc<Hub>, mut deliveries: Vec<Delivery>) {
    if deliveries.is_empty() {
        return;
    }
    let own_pusher = super::pusher::start(svc, &mut deliveries).await;
    let mut published = Vec::with_capacity(deliveries.len());
    let mut reached = Vec::new();
    for d in &deliveries {
        let n = &d.notification;
        let data = n.frame().to_string();
        let mut live = Vec::new();
        for user in &n.recipients {
            let channel = format!("private-user-{user}");
            if hub.is_subscribed(&n.project_id, &channel).await {
                live.push(user.clone());
            }
            hub.publish(&n.project_id, &channel, "notification", &data).await;
        }
        published.push((n.id.clone(), !live.is_empty()));
        if !live.is_empty() {
            reached.push((n, live));
        }
    }
    let own = own_pusher.finish().await;
    published.extend(own.published);
    reached.extend(own.reached.iter().map(|n| (n, n.recipients.clone())));
    // The mobile-push fallback: recipients without a live socket get a push now, connected ones
    // once their acknowledgement is overdue (see domain::push::schedule).
    let presence: Vec<_> = deliveries
        .iter()
        .map(|d| &d.notification)
        .chain(own.reached.iter())
        .map(|n| (n, reached.iter().find(|(r, _)| r.id == n.id).map(|(_, live)| live.clone()).unwrap_or_default()))
        .collect();
    domain::push::schedule::after_publish(svc, &presence).await;
    if let Err(e) = engine::mark_publish_failed(svc, &own.failed).await {
        tracing::warn!(error = %e, count = own.failed.len(), "could not record failed publishes");
    }
    if let Err(e) = engine::mark_published(svc, &published).await {
        tracing::warn!(error = %e, count = published.len(), "could not record published notifications");
        return;
    }
    domain::webhooks::emit::notifications_delivered(svc, &reached).await;
}
