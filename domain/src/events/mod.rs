//! Events a project's backend sends (SPEC §4.4, §7; CONTRACT "Events"): validated here, stored by
//! the group-committing [`ingest::Ingestor`], handed to the queue, found again by [`recovery`].

pub mod ingest;
pub mod recovery;
mod validate;

use serde::Serialize;

pub use ingest::{Committed, Ingestor, Outcome};
pub use validate::{validate, ValidEvent, MAX_BATCH};

use crate::auth::{Permission, Tenant};
use crate::error::{Error, Result};
use crate::page::{Cursor, Page, PageRequest};
use crate::services::Services;
use crate::time::{self, Timestamp};
use crate::usage;
use crate::usage::meter::Metric;
use crate::usage::quota::{self, QuotaStatus};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub project_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub payload: serde_json::Value,
    pub source: Option<String>,
    pub client_event_id: Option<String>,
    pub client_timestamp: Option<Timestamp>,
    pub received_at: Timestamp,
    pub status: String,
    pub processed_at: Option<Timestamp>,
    pub error: Option<String>,
    pub notification_ids: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    project_id: String,
    #[sqlx(rename = "type")]
    event_type: String,
    payload: String,
    source: Option<String>,
    client_event_id: Option<String>,
    client_timestamp: Option<String>,
    received_at: String,
    status: String,
    processed_at: Option<String>,
    error: Option<String>,
}

const EVENT_COLUMNS: &str =
    "id, project_id, type, payload, source, client_event_id, client_timestamp, received_at, status, processed_at, error";

/// One event of the tenant's project, with the notifications it caused.
pub async fn get(svc: &Services, t: &Tenant, id: &str) -> Result<Event> {
    t.require(Permission::EventsWrite)?;
    let id = crate::validate::id(id)?;
    let r: EventRow = sqlx::query_as(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE project_id = $1 AND id = $2"))
        .bind(t.project_id())
        .bind(&id)
        .fetch_optional(svc.db.pool())
        .await?
        .ok_or(Error::NotFound)?;
    Ok(r.into_event(notification_ids(svc, t, &id).await?))
}

/// `GET /events` filters; both optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListFilter {
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// `accepted`, `processed` or `failed`.
    pub status: Option<String>,
}

/// The project's events, newest first, each with the notifications it caused.
pub async fn list(svc: &Services, t: &Tenant, filter: ListFilter, page: PageRequest) -> Result<Page<Event>> {
    t.require(Permission::EventsWrite)?;
    let nonempty = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (before, before_id) = page.keyset();
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE project_id = $1 AND (received_at, id) < ($2, $3) \
         AND ($4 IS NULL OR type = $4) AND ($5 IS NULL OR status = $5) \
         ORDER BY received_at DESC, id DESC LIMIT $6"
    ))
    .bind(t.project_id())
    .bind(before)
    .bind(before_id)
    .bind(nonempty(filter.event_type))
    .bind(nonempty(filter.status))
    .bind(page.fetch_limit())
    .fetch_all(svc.db.pool())
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        let ids = notification_ids(svc, t, &r.id).await?;
        events.push(r.into_event(ids));
    }
    Ok(Page::from_rows(events, page.limit, |e: &Event| Cursor(format!("{}{}", time::to_db(e.received_at), e.id))))
}

impl EventRow {
    fn into_event(self, notification_ids: Vec<String>) -> Event {
        Event {
            id: self.id,
            project_id: self.project_id,
            event_type: self.event_type,
            payload: serde_json::from_str(&self.payload).unwrap_or_default(),
            source: self.source,
            client_event_id: self.client_event_id,
            client_timestamp: time::opt_from_db(self.client_timestamp),
            received_at: time::from_db(&self.received_at),
            status: self.status,
            processed_at: time::opt_from_db(self.processed_at),
            error: self.error,
            notification_ids,
        }
    }
}

async fn notification_ids(svc: &Services, t: &Tenant, event_id: &str) -> Result<Vec<String>> {
    crate::engine::notification_ids(svc, t, event_id).await
}

/// Stores events under the project's monthly quota (docs/PLANS.md) and answers the quota as it
/// stands after them.
async fn submit(svc: &Services, t: &Tenant, events: Vec<ValidEvent>) -> Result<(Vec<Outcome>, QuotaStatus)> {
    let limits = svc.limits.get(&svc.db, t.project_id()).await?.ok_or(Error::NotFound)?;
    svc.meter.add(t.project_id(), Metric::ApiCalls, 1);
    let hard = limits.hard_event_limit();
    let committed = svc.ingestor.submit(t.project_id(), events, hard).await?;
    let at = time::now();
    let used = match committed.month_used {
        Some(used) => used,
        None => svc.meter.month_events(svc, t.project_id(), at).await?,
    };
    let status = QuotaStatus { limit: limits.events_per_month, used, resets_at: usage::month_resets_at(at) };
    Ok((committed.outcomes, status))
}

/// The error a refused event answers.
fn refused(status: &QuotaStatus) -> Error {
    quota::monthly_exceeded("eventsPerMonth", status.limit.unwrap_or(0), status.used, time::now())
}

/// Accepts one event: stored durably (group commit) before this returns. Past a hard monthly
/// limit: 429 `quota_exceeded`.
pub async fn send(svc: &Services, t: &Tenant, body: &serde_json::Value) -> Result<(Outcome, QuotaStatus)> {
    t.require(Permission::EventsWrite)?;
    let event = validate(body)?;
    let (mut out, status) = submit(svc, t, vec![event]).await?;
    match out.pop().ok_or_else(|| Error::internal("ingest returned no outcome"))? {
        Outcome::Rejected => Err(refused(&status)),
        outcome => Ok((outcome, status)),
    }
}

/// One item of a batch's answer.
#[derive(Debug, Serialize)]
pub struct BatchItem {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

/// Accepts up to [`MAX_BATCH`] events; a bad item is reported in its place and sinks nothing else.
/// Past a hard monthly limit the items that still fit are accepted and the rest rejected.
pub async fn send_batch(
    svc: &Services,
    t: &Tenant,
    body: &serde_json::Value,
) -> Result<(Vec<BatchItem>, Option<QuotaStatus>)> {
    t.require(Permission::EventsWrite)?;
    let items = body
        .get("events")
        .and_then(|e| e.as_array())
        .ok_or_else(|| Error::field("events", "must be an array of events"))?;
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(Error::field("events", format!("must hold 1 to {MAX_BATCH} events")));
    }
    let mut results: Vec<Option<BatchItem>> = Vec::with_capacity(items.len());
    let mut valid = Vec::new();
    let mut valid_index = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match validate(item) {
            Ok(ev) => {
                valid.push(ev);
                valid_index.push(index);
                results.push(None);
            }
            Err(e) => results.push(Some(BatchItem {
                index,
                id: None,
                status: "rejected",
                duplicate: None,
                error: Some(e.error_object()),
            })),
        }
    }
    let mut quota_status = None;
    if !valid.is_empty() {
        let (outcomes, status) = submit(svc, t, valid).await?;
        for (index, outcome) in valid_index.into_iter().zip(outcomes) {
            results[index] = Some(match outcome {
                Outcome::Rejected => BatchItem {
                    index,
                    id: None,
                    status: "rejected",
                    duplicate: None,
                    error: Some(refused(&status).error_object()),
                },
                outcome => BatchItem {
                    index,
                    id: Some(outcome.id().to_string()),
                    status: "accepted",
                    duplicate: Some(outcome.is_duplicate()),
                    error: None,
                },
            });
        }
        quota_status = Some(status);
    }
    Ok((results.into_iter().flatten().collect(), quota_status))
}
