//! The engine's writes: one transaction per batch for notifications, recipients and event
//! status; then, after publishing, one statement per batch for the delivery fields.

use std::collections::{HashMap, HashSet};

use super::Delivery;
use crate::db::{dialect, sql};
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
    // One argument per part of the notification the engine decided on.
    #[allow(clippy::too_many_arguments)]
    pub fn notify(
        &mut self,
        project_id: &str,
        event_id: &str,
        rule: &Rule,
        title: String,
        message: String,
        recipients: Vec<String>,
        event_received_at: time::Timestamp,
    ) {
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
            event_received_at: Some(event_received_at),
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
    let mut tx = svc.db.writer().begin().await?;
    let mut inserted: HashSet<String> = HashSet::with_capacity(plan.notifications.len());
    // Many rows per statement: the batch costs a handful of round trips, not several per event.
    for chunk in plan.notifications.chunks(200) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let (b, created_at, received_at) = (i * 13, i * 13 + 12, i * 13 + 13);
                format!("({}, 0, 0, 0, NULL, NULL, ${created_at}, NULL, ${received_at})", sql::list_placeholders(11, b))
            })
            .collect();
        let statement = sql::positional(
            svc.db.backend(),
            &format!(
                "INSERT INTO notifications ({COLUMNS}) VALUES {} ON CONFLICT (event_id, rule_id) DO NOTHING RETURNING id",
                values.join(", ")
            ),
        );
        let mut q = sqlx::query_scalar::<_, String>(&statement);
        for n in chunk {
            q = q
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
                .bind(n.event_received_at.map(time::to_db));
        }
        inserted.extend(q.fetch_all(&mut *tx).await?);
    }
    let recipients: Vec<(&str, &str, &str)> = plan
        .notifications
        .iter()
        .filter(|n| inserted.contains(&n.id))
        .flat_map(|n| n.recipients.iter().map(move |u| (n.project_id.as_str(), n.id.as_str(), u.as_str())))
        .collect();
    for chunk in recipients.chunks(500) {
        let statement = sql::positional(
            svc.db.backend(),
            &format!(
                "INSERT INTO notification_recipients (project_id, notification_id, user_id) VALUES {}",
                sql::row_placeholders(chunk.len(), 3, 0)
            ),
        );
        let mut q = sqlx::query(&statement);
        for (project_id, notification_id, user) in chunk {
            q = q.bind(*project_id).bind(*notification_id).bind(*user);
        }
        q.execute(&mut *tx).await?;
    }
    let mut deliveries = Vec::with_capacity(plan.notifications.len());
    for n in plan.notifications {
        if inserted.contains(&n.id) {
            deliveries.push(Delivery { notification: n });
            continue;
        }
        // Made by an earlier run of this event: publish it again only if it never went out.
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
    let mut processed: HashMap<&str, Vec<&str>> = HashMap::new();
    for (project_id, event_id, error) in &plan.outcomes {
        match error {
            None => processed.entry(project_id.as_str()).or_default().push(event_id.as_str()),
            Some(reason) => {
                let reason = super::poison::clean(reason);
                sqlx::query(
                    "UPDATE events SET status = 'failed', processed_at = $1, error = $2 \
                     WHERE project_id = $3 AND id = $4 AND status = 'accepted'",
                )
                .bind(&now)
                .bind(&reason)
                .bind(project_id)
                .bind(event_id)
                .execute(&mut *tx)
                .await?;
                // Its rules broke a bound or a template failed: the same every time, so parked
                // at once (docs/ARCHITECTURE.md, "Fault isolation").
                super::poison::record_in(&mut tx, project_id, event_id, &reason, 1).await?;
            }
        }
    }
    for (project_id, ids) in processed {
        for chunk in ids.chunks(500) {
            let backend = svc.db.backend();
            let statement = sql::positional(
                backend,
                &format!(
                    "UPDATE events SET status = 'processed', processed_at = $1 WHERE {} = $2 AND {} = 'accepted' AND id IN ({})",
                    dialect::unindexed(backend, "project_id"),
                    dialect::unindexed(backend, "status"),
                    sql::list_placeholders(chunk.len(), 2)
                ),
            );
            let mut q = sqlx::query(&statement).bind(&now).bind(project_id);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    metrics::counter!("notifications_created_total").increment(deliveries.len() as u64);
    for d in deliveries.iter().filter(|d| inserted.contains(&d.notification.id)) {
        let n = &d.notification;
        svc.meter.add(&n.project_id, crate::usage::meter::Metric::NotificationsSent, 1);
        svc.analytics.created(&n.project_id, n.created_at, &n.recipients);
    }
    Ok(deliveries)
}

/// Records a publish: the frame was sent (`pusherEventSent`), and `delivered` when at least one
/// recipient had a live subscription. Answers the ids delivered for the first time (by no other
/// channel before), for the analytics of the notification as a whole.
pub async fn mark_published(svc: &Services, published: &[(String, bool)]) -> Result<HashSet<String>> {
    let mut first = HashSet::new();
    if published.is_empty() {
        return Ok(first);
    }
    let now = time::to_db(time::now());
    let mut tx = svc.db.writer().begin().await?;
    for delivered in [true, false] {
        let ids: Vec<&str> = published.iter().filter(|(_, d)| *d == delivered).map(|(id, _)| id.as_str()).collect();
        let set_delivered = if delivered { ", delivered = 1, delivered_at = COALESCE(delivered_at, $2)" } else { "" };
        // Only a delivery can be the first one: the other update answers nothing.
        let returning = if delivered { " RETURNING id, delivered_at" } else { "" };
        let first_id = if delivered { 2 } else { 1 };
        for chunk in ids.chunks(500) {
            let statement = sql::positional(
                svc.db.backend(),
                &format!(
                    "UPDATE notifications SET pusher_event_sent = 1, delivery_attempts = delivery_attempts + 1, \
                     last_delivery_attempt = $1{set_delivered} WHERE id IN ({}){returning}",
                    sql::list_placeholders(chunk.len(), first_id)
                ),
            );
            let mut q = sqlx::query_as::<_, (String, Option<String>)>(&statement).bind(&now);
            if delivered {
                q = q.bind(&now);
            }
            for id in chunk {
                q = q.bind(*id);
            }
            // `delivered_at` keeps an earlier delivery's time; equal to now, this one was first.
            for (id, delivered_at) in q.fetch_all(&mut *tx).await? {
                if delivered && delivered_at.as_deref() == Some(now.as_str()) {
                    first.insert(id);
                }
            }
        }
    }
    tx.commit().await?;
    Ok(first)
}

/// Records publish attempts that failed (a project's own Pusher app refused or could not be
/// reached): `(notification id, error)`. `delivered` and `pusherEventSent` stay as they were.
pub async fn mark_publish_failed(svc: &Services, failed: &[(String, String)]) -> Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    let now = time::to_db(time::now());
    let mut tx = svc.db.writer().begin().await?;
    for (id, error) in failed {
        sqlx::query(
            "UPDATE notifications SET delivery_attempts = delivery_attempts + 1, last_delivery_attempt = $1, \
             delivery_error = $2 WHERE id = $3",
        )
        .bind(&now)
        .bind(error)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
