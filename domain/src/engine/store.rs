//! The engine's writes: one transaction per batch for notifications, recipients and event
//! status; then, after publishing, one statement per batch for the delivery fields.


use super::Delivery;
use crate::error::Result;
use crate::notifications::{Notification, NotificationRow, COLUMNS};
use crate::rules::Rule;
use crate::services::Services;
use crate::time;

#[derive(Default)]
pub(super) struct Plan {
    notifications: Vec<Notification>,
    outcomes: Vec<(String, String, Option<String>)>,
}

impl Plan {
    pub fn notify(&mut self, project_id: &str, event_id: &str, rule: &Rule, title: String, message: String, recipients: Vec<String>) {
        self.notifications.push(Notification {
            id: uuid::Uuid::now_v7().to_string(),
            project_id: project_id.to_string(),
            rule_id: rule.id.clone(),
            event_id: event_id.to_string(),
            recipients,
            title,
            message,
            sound: rule.sound.clone(),
            sound_url: rule.sound_url.clone(),
            priority: rule.priority,
            action: rule.action.clone(),
            delivered: false,
            pusher_event_sent: false,
            acknowledged_by: vec![],
            delivery_attempts: 0,
            last_delivery_attempt: None,
            delivery_error: None,
            created_at: time::now(),
            delivered_at: None,
        });
    }

    pub fn processed(&mut self, project_id: &str, event_id: &str) {
        self.outcomes.push((project_id.to_string(), event_id.to_string(), None));
    }

    pub fn fail(&mut self, project_id: &str, event_id: &str, reason: String) {
        self.outcomes.push((project_id.to_string(), event_id.to_string(), Some(reason)));
    }
}

/// Writes the plan in one transaction; answers the notifications still to publish (new ones, and
/// earlier ones of a reprocessed event that were never published).
pub(super) async fn commit(svc: &Services, plan: Plan) -> Result<Vec<Delivery>> {
    let now = time::to_db(time::now());
    let mut tx = svc.db.pool().begin().await?;
    let mut deliveries = Vec::with_capacity(plan.notifications.len());
    for n in plan.notifications {
        let inserted = sqlx::query(&format!(
            "INSERT INTO notifications ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 0, 0, NULL, NULL, $12, NULL) \
             ON CONFLICT (event_id, rule_id) DO NOTHING"
        ))
        .bind(&n.id)
        .bind(&n.project_id)
        .bind(&n.rule_id)
        .bind(&n.event_id)
        .bind(serde_json::to_string(&n.recipients).expect("strings serialize"))
        .bind(&n.title)
        .bind(&n.message)
        .bind(&n.sound)
        .bind(&n.sound_url)
        .bind(n.priority)
        .bind(n.action.as_ref().map(|a| a.to_string()))
        .bind(time::to_db(n.created_at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            for user in &n.recipients {
                sqlx::query("INSERT INTO notification_recipients (project_id, notification_id, user_id) VALUES ($1, $2, $3)")
                    .bind(&n.project_id)
                    .bind(&n.id)
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
            }
            deliveries.push(Delivery { notification: n });
        } else {
            let row: NotificationRow = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM notifications WHERE event_id = $1 AND rule_id = $2 AND project_id = $3"
            ))
            .bind(&n.event_id)
            .bind(&n.rule_id)
            .bind(&n.project_id)
            .fetch_one(&mut *tx)
            .await?;
            let existing = row.into_notification(vec![]);
            if !existing.pusher_event_sent {
                deliveries.push(Delivery { notification: existing });
            }
        }
    }
    for (project_id, event_id, error) in plan.outcomes {
        sqlx::query(
            "UPDATE events SET status = $1, processed_at = $2, error = $3 WHERE project_id = $4 AND id = $5 AND status = 'accepted'",
        )
        .bind(if error.is_some() { "failed" } else { "processed" })
        .bind(&now)
        .bind(&error)
        .bind(&project_id)
        .bind(&event_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    metrics::counter!("notifications_created_total").increment(deliveries.len() as u64);
    Ok(deliveries)
}

/// Records a publish: the frame was sent (`pusherEventSent`), and `delivered` when at least one
/// recipient had a live subscription.
pub async fn mark_published(svc: &Services, published: &[(String, bool)]) -> Result<()> {
    if published.is_empty() {
        return Ok(());
    }
    let now = time::to_db(time::now());
    let mut tx = svc.db.pool().begin().await?;
    for (id, delivered) in published {
        sqlx::query(
            "UPDATE notifications SET pusher_event_sent = 1, delivery_attempts = delivery_attempts + 1, \
             last_delivery_attempt = $1, delivered = CASE WHEN $2 = 1 THEN 1 ELSE delivered END, \
             delivered_at = CASE WHEN $2 = 1 AND delivered_at IS NULL THEN $1 ELSE delivered_at END WHERE id = $3",
        )
        .bind(&now)
        .bind(*delivered as i64)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
