//! The rule engine: takes queued events, evaluates their project's rules, writes one notification
//! per (event, rule) with its recipients, and marks the events processed, all in one commit per
//! batch. Reprocessing is harmless: the (event, rule) key makes the insert a no-op, and a
//! notification not yet published is handed back for publishing.

pub mod evaluate;
pub mod recipients;
mod store;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;

use crate::auth::Tenant;
use crate::db::{dialect, sql};
use crate::error::{Error, Result};
use crate::notifications::Notification;
use crate::queue::QueuedEvent;
use crate::rules::cache::CompiledRule;
use crate::rules::compile::EventVars;
use crate::services::Services;

pub use store::{mark_publish_failed, mark_published};

/// How long one batch's rule evaluation may take before its events are failed.
const EVALUATION_LIMIT: Duration = Duration::from_secs(2);

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
}

/// Processes a batch of queued events; answers what to publish. Events already processed are
/// skipped; a storage failure fails the whole batch (nothing committed) so it can be retried.
pub async fn process_batch(svc: &Services, batch: &[QueuedEvent]) -> Result<Vec<Delivery>> {
    let events = load(svc, batch).await?;
    if events.is_empty() {
        return Ok(vec![]);
    }
    let mut rules: HashMap<String, Arc<Vec<CompiledRule>>> = HashMap::new();
    for e in &events {
        if !rules.contains_key(&e.project_id) {
            rules.insert(e.project_id.clone(), svc.rules.active(&svc.db, &e.project_id).await?);
        }
    }
    let evaluations = evaluate_all(&events, &rules).await;
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
            let rule = &project_rules[m.rule_index].rule;
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
            plan.notify(&e.project_id, &e.id, rule, m.title, m.message, recipients);
        }
        match evaluation.error {
            Some(reason) => plan.fail(&e.project_id, &e.id, reason),
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
                    "SELECT id, type, payload, source FROM events WHERE {} = $1 AND {} = 'accepted' AND id IN ({})",
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
                    },
                );
            }
        }
    }
    Ok(batch.iter().filter_map(|q| found.remove(&q.event_id)).collect())
}

/// Evaluates every event on a blocking thread, bounded in time: a pathological rule fails its
/// batch's events instead of holding the worker.
async fn evaluate_all(
    events: &[Loaded],
    rules: &HashMap<String, Arc<Vec<CompiledRule>>>,
) -> Vec<std::result::Result<evaluate::Evaluation, String>> {
    let jobs: Vec<(Arc<Vec<CompiledRule>>, String, serde_json::Value, Option<String>)> = events
        .iter()
        .map(|e| (rules[&e.project_id].clone(), e.event_type.clone(), e.payload.clone(), e.source.clone()))
        .collect();
    let n = jobs.len();
    let task = tokio::task::spawn_blocking(move || {
        jobs.iter()
            .map(|(rules, event_type, payload, source)| {
                let vars = EventVars { event_type, payload, source: source.as_deref() };
                evaluate::evaluate(rules, &vars)
            })
            .collect::<Vec<_>>()
    });
    match tokio::time::timeout(EVALUATION_LIMIT, task).await {
        Ok(Ok(results)) => results.into_iter().map(Ok).collect(),
        Ok(Err(_)) => (0..n).map(|_| Err("rule evaluation crashed".to_string())).collect(),
        Err(_) => (0..n).map(|_| Err(format!("rule evaluation took longer than {}s", EVALUATION_LIMIT.as_secs()))).collect(),
    }
}

/// The ids of the notifications an event caused.
pub async fn notification_ids(svc: &Services, t: &Tenant, event_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM notifications WHERE project_id = $1 AND event_id = $2 ORDER BY created_at, id")
        .bind(t.project_id())
        .bind(event_id)
        .fetch_all(svc.db.pool())
        .await
        .map_err(Error::from)?)
}
