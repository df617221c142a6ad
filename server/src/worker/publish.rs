//! Publishing a batch's notifications: one `notification` event on `private-user-{id}` per
//! recipient, then one write recording what was sent, then `notification.delivered` webhooks for
//! those that reached a live socket.

use std::sync::Arc;

use domain::engine::{self, Delivery};
use domain::Services;

use crate::realtime::Hub;

pub async fn deliveries(svc: &Services, hub: &Arc<Hub>, deliveries: Vec<Delivery>) {
    if deliveries.is_empty() {
        return;
    }
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
    if let Err(e) = engine::mark_published(svc, &published).await {
        tracing::warn!(error = %e, count = published.len(), "could not record published notifications");
        return;
    }
    domain::webhooks::emit::notifications_delivered(svc, &reached).await;
}
