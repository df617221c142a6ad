//! The rule engine: takes queued events, evaluates their project's rules, writes one notification
//! per (event, rule) with its recipients, and marks the events processed, all in one commit per
//! batch. Reprocessing is harmless: the (event, rule) key makes the insert a no-op, and a
//! notification not yet published is handed back for publishing.

pub mod poison;
pub mod recipients;
mod store;

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::Row;

use crate::auth::Tenant;
use crate::db::{dialect, sql};
use crate::error::{Error, Result};
use crate::notifications::Notification;
use crate::queue::QueuedEvent;
use crate::rules::cache::RuleSet;
use crate::rules::sandbox::{EventIn, EventOut};
use crate::services::Services;

pub use store::{mark_publish_failed, mark_published};

/// A notification to publish to its recipients' channels.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub notification: Notification,
}

/// An event as the engine needs it.
struct Loaded {
    project_id: String,
    id: String,
    event_type: String,
    payload: serde_json::Value,
    source: Option<String>,
    received_at: crate::time::Timestamp,
}

/// Processes a batch of queued events; answers what to publish. Events already processed are
/// skipped; a storage failure fails the whole batch (nothing committed) so it can be retried.
pub async fn process_batch(svc: &Services, batch: &[QueuedEvent]) -> Result<Vec<Delivery>> {
    let events = load(svc, batch).await?;
    if events.is_empty() {
        return Ok(vec![]);
    }
    let mut rules: HashMap<String, Arc<RuleSet>> = HashMap::new();
    for e in &events {
        if !rules.contains_key(&e.project_id) {
            rules.insert(e.project_id.clone(), svc.rules.active(&svc.db, &e.project_id).await?);
        }
    }
    let evaluations = evaluate_all(svc, &events, &rules).await?;
    let mut plan = store::Plan::default();
    let mut role_holders: HashMap<(String, String), Vec<String>> = HashMap::new();
    for (e, evaluation) in events.iter().zip(evaluations) {
        let t = Tenant::system_for_queued_work(&e.project_id);
        let project_rules = &rules[&e.project_id];
        let evaluation = match evaluation {
            Ok(ev) => ev,
            Err(reason) => {
                plan.fail(&e.project_id, &e.id, reason);
                continue;
            }
        };
        for m in evaluation.matches {
            let Some(rule) = project_rules.rules.get(m.rule) else { continue };
            // Holders of a role set are the same for every event of the batch: one query each.
            let key = (e.project_id.clone(), rule.target_roles.join("\u{1f}"));
            let holders = match role_holders.get(&key) {
                Some(h) => h.clone(),
                None => {
                    let h = recipients::with_roles(svc, &t, &rule.target_roles).await?;
                    role_holders.insert(key, h.clone());
                    h
                }
            };
            let recipients = recipients::with_event_user(svc, &t, holders, rule.notify_event_user, &e.payload).await?;
            plan.notify(&e.project_id, &e.id, rule, m.title, m.message, recipients, e.received_at);
        }
        match evaluation.error {
            Some((i, reason)) => {
                let id = project_rules.rules.get(i).map_or("?", |r| r.id.as_str());
                plan.fail(&e.project_id, &e.id, format!("rule {id}: {reason}"))
            }
            None => plan.processed(&e.project_id, &e.id),
        }
    }
    store::commit(svc, plan).await
}

/// The batch's events that are still `accepted`, in batch order: one query per project and
/// chunk of ids.
async fn load(svc: &Services, batch: &[QueuedEvent]) -> Result<Vec<Loaded>> {
    let mut by_project: HashMap<&str, Vec<&str>> = HashMap::new();
    for q in batch {
        by_project.entry(q.project_id.as_str()).or_default().push(q.event_id.as_str());
    }
    let mut found: HashMap<String, Loaded> = HashMap::with_capacity(batch.len());
    for (project_id, ids) in by_project {
        for chunk in ids.chunks(500) {
            let backend = svc.db.backend();
            let statement = sql::positional(
                backend,
                &format!(
                    "SELECT id, type, payload, source, received_at FROM events WHERE {} = $1 AND {} = 'accepted' AND id IN ({})",
                    dialect::unindexed(backend, "project_id"),
                    dialect::unindexed(backend, "status"),
                    sql::list_placeholders(chunk.len(), 1)
                ),
            );
            let mut q = sqlx::query(&statement).bind(project_id);
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(svc.db.pool()).await? {
                let id: String = row.get("id");
                found.insert(
                    id.clone(),
                    Loaded {
                        project_id: project_id.to_string(),
                        id,
                        event_type: row.get("type"),
                        payload: serde_json::from_str(&row.get::<String, _>("payload")).unwrap_or_default(),
                        source: row.get("source"),
                        received_at: crate::time::from_db(&row.get::<String, _>("received_at")),
                    },
                );
            }
        }
    }
    Ok(batch.iter().filter_map(|q| found.remove(&q.event_id)).collect())
}

/// Evaluates every event in the rule sandbox (bounded in time and memory per event, see
/// [`crate::rules::sandbox`]): `Err(reason)` for an event whose evaluation broke a bound.
/// Events of projects without active rules match nothing and never leave this process.
async fn evaluate_all(
    svc: &Services,
    events: &[Loaded],
    rules: &HashMap<String, Arc<RuleSet>>,
) -> Result<Vec<std::result::Result<EventOut, String>>> {
    let mut sets: Vec<&[crate::rules::sandbox::RuleText]> = Vec::new();
    let mut set_of: HashMap<&str, usize> = HashMap::new();
    let mut inputs = Vec::new();
    let mut slots = Vec::with_capacity(events.len());
    for e in events {
        let set = &rules[&e.project_id];
        if set.rules.is_empty() {
            slots.push(None);
            continue;
        }
        let index = *set_of.entry(e.project_id.as_str()).or_insert_with(|| {
            sets.push(&set.texts);
            sets.len() - 1
        });
        slots.push(Some(inputs.len()));
        inputs.push(EventIn {
            set: index,
            event_type: std::borrow::Cow::Borrowed(&e.event_type),
            payload: std::borrow::Cow::Borrowed(&e.payload),
            source: e.source.as_deref().map(std::borrow::Cow::Borrowed),
        });
    }
    let mut outs = svc.sandbox.evaluate(&sets, &inputs).await?.into_iter().map(Some).collect::<Vec<_>>();
    Ok(slots
        .into_iter()
        .map(|slot| slot.and_then(|i| outs[i].take()).unwrap_or_else(|| Ok(EventOut::default())))
        .collect())
}

/// The ids of the notifications an event caused.
pub async fn notification_ids(svc: &Services, t: &Tenant, event_id: &str) -> Result<Vec<String>> {
    sqlx::query_scalar("SELECT id FROM notifications WHERE project_id = $1 AND event_id = $2 ORDER BY created_at, id")
        .bind(t.project_id())
        .bind(event_id)
        .fetch_all(svc.db.pool())
        .await
        .map_err(Error::from)
}
