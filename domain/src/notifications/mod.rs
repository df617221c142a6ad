//! Notifications (SPEC §4.5): what a rule made of an event, for whom, and what became of it.

mod ack;
mod list;
mod stats;

use serde::Serialize;

pub use ack::{acknowledge, AckInput};
pub use list::{get, list, ListFilter};
pub use stats::{stats, Stats, StatsQuery};

use crate::time::{self, Timestamp};

/// One recipient's acknowledgement.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Acknowledgement {
    pub user_id: String,
    pub acknowledged_at: Timestamp,
    /// Who recorded it: the user, or a project admin on their behalf.
    pub recorded_by: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: String,
    pub project_id: String,
    pub rule_id: String,
    pub event_id: String,
    pub recipients: Vec<String>,
    pub title: String,
    pub message: String,
    pub sound: Option<String>,
    pub sound_url: Option<String>,
    pub priority: i64,
    pub action: Option<serde_json::Value>,
    pub delivered: bool,
    pub pusher_event_sent: bool,
    pub acknowledged_by: Vec<Acknowledgement>,
    pub delivery_attempts: i64,
    pub last_delivery_attempt: Option<Timestamp>,
    pub delivery_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    /// When the event behind it was received (delivery latency starts there; docs/ANALYTICS.md).
    #[serde(skip)]
    pub event_received_at: Option<Timestamp>,
}

impl Notification {
    /// The data of the realtime `notification` event (CONTRACT "Realtime delivery").
    pub fn frame(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "title": self.title, "message": self.message, "sound": self.sound,
            "soundUrl": self.sound_url, "priority": self.priority, "action": self.action,
            "ruleId": self.rule_id, "eventId": self.event_id, "createdAt": self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct NotificationRow {
    id: String,
    project_id: String,
    rule_id: String,
    event_id: String,
    recipients: String,
    title: String,
    message: String,
    sound: Option<String>,
    sound_url: Option<String>,
    priority: i64,
    action: Option<String>,
    delivered: i64,
    pusher_event_sent: i64,
    delivery_attempts: i64,
    last_delivery_attempt: Option<String>,
    delivery_error: Option<String>,
    created_at: String,
    delivered_at: Option<String>,
    event_received_at: Option<String>,
}

impl NotificationRow {
    pub(crate) fn into_notification(self, acknowledged_by: Vec<Acknowledgement>) -> Notification {
        Notification {
            id: self.id,
            project_id: self.project_id,
            rule_id: self.rule_id,
            event_id: self.event_id,
            recipients: serde_json::from_str(&self.recipients).unwrap_or_default(),
            title: self.title,
            message: self.message,
            sound: self.sound,
            sound_url: self.sound_url,
            priority: self.priority,
            action: self.action.and_then(|a| serde_json::from_str(&a).ok()),
            delivered: self.delivered != 0,
            pusher_event_sent: self.pusher_event_sent != 0,
            acknowledged_by,
            delivery_attempts: self.delivery_attempts,
            last_delivery_attempt: time::opt_from_db(self.last_delivery_attempt),
            delivery_error: self.delivery_error,
            created_at: time::from_db(&self.created_at),
            delivered_at: time::opt_from_db(self.delivered_at),
            event_received_at: time::opt_from_db(self.event_received_at),
        }
    }
}

pub(crate) const COLUMNS: &str = "id, project_id, rule_id, event_id, recipients, title, message, sound, sound_url, \
    priority, action, delivered, pusher_event_sent, delivery_attempts, last_delivery_attempt, delivery_error, \
    created_at, delivered_at, event_received_at";
