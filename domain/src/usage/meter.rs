//! Counting in memory, added to the usage rows about once a second ([`spawn_flusher`]): a
//! request or a delivery costs a map update, not a database write. At most one flush interval of
//! counts is lost if the process dies; a clean stop flushes ([`Meter::flush`]). Several
//! processes each add their own counts to the same rows, so the rows hold the sum.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::alerts::{self, Crossing};
use super::Delta;
use crate::error::Result;
use crate::services::Services;
use crate::time;

/// What is counted in memory.
#[derive(Clone, Copy, Debug)]
pub enum Metric {
    Events,
    NotificationsSent,
    NotificationsDelivered,
    NotificationsFailed,
    ApiCalls,
}

#[derive(Default)]
pub struct Meter {
    pending: Mutex<HashMap<String, Delta>>,
    /// The month's events as the rows held them at this process's last flush or read.
    known_events: dashmap::DashMap<String, (String, i64)>,
    /// Serializes flushes (the periodic one and a final one at shutdown).
    flushing: tokio::sync::Mutex<()>,
}

impl Meter {
    pub fn add(&self, project_id: &str, metric: Metric, n: i64) {
        if n == 0 {
            return;
        }
        let mut pending = self.pending.lock().expect("meter lock");
        let d = match pending.get_mut(project_id) {
            Some(d) => d,
            None => pending.entry(project_id.to_string()).or_default(),
        };
        match metric {
            Metric::Events => d.events += n,
            Metric::NotificationsSent => d.notifications_sent += n,
            Metric::NotificationsDelivered => d.notifications_delivered += n,
            Metric::NotificationsFailed => d.notifications_failed += n,
            Metric::ApiCalls => d.api_calls += n,
        }
    }

    /// Holds off flushes while the caller reads the rows and [`Meter::pending`], so a count is
    /// seen exactly once (not in flight between the two).
    pub async fn hold(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.flushing.lock().await
    }

    /// The project's events this month as far as this process knows, without a database read
    /// after the first: the rows at the last flush plus what is pending here. Other processes'
    /// unflushed counts are not in it (for `X-Quota-*` of projects without a hard limit).
    pub async fn month_events(&self, svc: &Services, project_id: &str, at: time::Timestamp) -> Result<i64> {
        let month = super::month(at);
        let known = self.known_events.get(project_id).filter(|e| e.0 == month).map(|e| e.1);
        let known = match known {
            Some(n) => n,
            None => {
                let (events, _) = super::month_totals(&svc.db, project_id, at).await?;
                self.known_events.insert(project_id.to_string(), (month, events));
                events
            }
        };
        Ok(known + self.pending(project_id).events)
    }

    /// This process's counts for the project not yet in the rows.
    pub fn pending(&self, project_id: &str) -> Delta {
        self.pending.lock().expect("meter lock").get(project_id).copied().unwrap_or_default()
    }

    /// Adds every pending count to the rows in one transaction, with the warnings it crosses. On
    /// failure the counts go back to pending for the next flush.
    pub async fn flush(&self, svc: &Services) -> Result<usize> {
        let _one = self.flushing.lock().await;
        let taken: HashMap<String, Delta> = std::mem::take(&mut *self.pending.lock().expect("meter lock"));
        if taken.is_empty() {
            return Ok(0);
        }
        match write(svc, &taken).await {
            Ok((queued, totals)) => {
                let month = super::month(time::now());
                for (project, events) in totals {
                    self.known_events.insert(project, (month.clone(), events));
                }
                queued.wake(svc);
                Ok(taken.len())
            }
            Err(e) => {
                let mut pending = self.pending.lock().expect("meter lock");
                for (project, d) in taken {
                    pending.entry(project).or_default().merge(&d);
                }
                Err(e)
            }
        }
    }
}

async fn write(svc: &Services, counts: &HashMap<String, Delta>) -> Result<(alerts::Queued, Vec<(String, i64)>)> {
    let at = time::now();
    let mut projects: Vec<&String> = counts.keys().collect();
    // One order for every process, so two flushes never wait on each other's rows crosswise.
    projects.sort();
    let mut limits = Vec::with_capacity(projects.len());
    for p in &projects {
        limits.push(svc.limits.get(&svc.db, p).await?);
    }
    let mut queued = alerts::Queued::default();
    let mut totals = Vec::with_capacity(counts.len());
    let mut tx = svc.db.writer().begin().await?;
    for (project_id, limits) in projects.into_iter().zip(limits) {
        let Some(limits) = limits else { continue };
        let d = &counts[project_id];
        let (events, notifications) = super::add(&mut tx, project_id, at, d).await?;
        totals.push((project_id.clone(), events));
        for (quota, limit, added, after) in [
            ("eventsPerMonth", limits.events_per_month, d.events, events),
            ("notificationsPerMonth", limits.notifications_per_month, d.notifications_sent, notifications),
        ] {
            if let (Some(limit), true) = (limit, added > 0) {
                let c = Crossing { project_id, quota, limit, before: after - added, after, refused: false, at };
                queued.merge(alerts::check(&mut tx, &c).await?);
            }
        }
    }
    tx.commit().await?;
    Ok((queued, totals))
}

/// Flushes the meter, and the analytics beside it, every `every`.
pub fn spawn_flusher(svc: Arc<Services>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = svc.meter.flush(&svc).await {
                tracing::warn!(error = %e, "could not write usage counts; kept for the next flush");
            }
            if let Err(e) = svc.analytics.flush(&svc.db).await {
                tracing::warn!(error = %e, "could not write analytics rollups; kept for the next flush");
            }
        }
    });
}
