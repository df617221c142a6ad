//! The activity feed: the project's events with their status, filtered by type and status, each
//! with its payload and the notifications it caused.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NotificationLine {
    pub title: String,
    pub recipients: usize,
    pub delivered: bool,
    pub acknowledged: usize,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EventLine {
    pub id: String,
    pub event_type: String,
    pub status: String,
    pub error: Option<String>,
    pub received_at: String,
    pub processed_at: Option<String>,
    /// The payload, pretty-printed.
    pub payload: String,
    pub notifications: Vec<NotificationLine>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ActivityPage {
    pub events: Vec<EventLine>,
    pub next_cursor: Option<String>,
}

#[server(prefix = "/_panel")]
pub async fn list_activity(
    event_type: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
) -> Result<ActivityPage, ServerFnError> {
    use super::ssr;
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let filter = domain::events::ListFilter { event_type, status };
    let page = domain::events::list(&svc, &t, filter, domain::page::PageRequest::new(Some(25), cursor))
        .await
        .map_err(ssr::user_error)?;
    let fmt = |t: domain::time::Timestamp| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let mut events = vec![];
    for e in page.data {
        let mut notifications = vec![];
        for id in &e.notification_ids {
            let n = domain::notifications::get(&svc, &t, id).await.map_err(ssr::user_error)?;
            notifications.push(NotificationLine {
                title: n.title,
                recipients: n.recipients.len(),
                delivered: n.delivered,
                acknowledged: n.acknowledged_by.len(),
                error: n.delivery_error,
            });
        }
        events.push(EventLine {
            id: e.id,
            event_type: e.event_type,
            status: e.status,
            error: e.error,
            received_at: fmt(e.received_at),
            processed_at: e.processed_at.map(fmt),
            payload: serde_json::to_string_pretty(&e.payload).unwrap_or_default(),
            notifications,
        });
    }
    Ok(ActivityPage { events, next_cursor: page.next_cursor })
}
