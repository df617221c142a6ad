//! Publishing a batch's notifications: one `notification` event on `private-user-{id}` per
//! recipient, then one write recording what was sent.

use std::sync::Arc;

use domain::engine::{self, Delivery};
use domain::Services;

use crate::realtime::Hub;

pub async fn deliveries(svc: &Services, hub: &Arc<Hub>, deliveries: Vec<Delivery>) {
    if deliveries.is_empty() {
        return;
    }
    let mut published = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        let n = &d.notification;
        let data = n.frame().to_string();
        let mut live = false;
        for user in &n.recipients {
            let channel = format!("private-user-{user}");
            live |= hub.is_subscribed(&n.project_id, &channel).await;
            hub.publish(&n.project_id, &channel, "notification", &data).await;
        }
        published.push((n.id.clone(), live));
    }
    if let Err(e) = engine::mark_published(svc, &published).await {
        tracing::warn!(error = %e, count = published.len(), "could not record published notifications");
    }
}
