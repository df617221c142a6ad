//! The client dashboard's figures: this month's usage against the plan's quotas, the last 14 days
//! of events and notifications, the delivery rate and the latest notifications.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::chart::Point;

/// A monthly figure and its quota (`None` = unlimited).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Meter {
    pub label: String,
    pub used: i64,
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RecentNotification {
    pub title: String,
    pub created_at: String,
    pub delivered: bool,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Dashboard {
    pub meters: Vec<Meter>,
    pub days: Vec<Point>,
    /// Delivered of sent over the 14 days, in percent; `None` when nothing was sent.
    pub delivery_rate: Option<f64>,
    pub failed: i64,
    pub recent: Vec<RecentNotification>,
}

#[server(prefix = "/_panel")]
pub async fn load_dashboard() -> Result<Dashboard, ServerFnError> {
    use super::ssr;
    use domain::notifications::{self as list, ListFilter};
    use domain::usage::{self as read, UsageQuery};
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let today = domain::time::now().date_naive();
    let first = today - chrono::Days::new(13);
    let q =
        UsageQuery { period_type: Some("daily".into()), from: Some(first.to_string()), to: Some(today.to_string()) };
    let usage = read::for_project(&svc, &t, &q).await.map_err(ssr::user_error)?;
    use domain::usage::quota::{count, Counted};
    let users = count(&svc, &t, Counted::Users).await.map_err(ssr::user_error)?;
    let rules = count(&svc, &t, Counted::Rules).await.map_err(ssr::user_error)?;
    let quotas = &usage.quotas;
    let meters = vec![
        Meter {
            label: "Events this month".into(),
            used: usage.current.events_this_month,
            limit: quotas.events_per_month,
        },
        Meter {
            label: "Notifications this month".into(),
            used: usage.current.notifications_this_month,
            limit: quotas.notifications_per_month,
        },
        Meter { label: "Users".into(), used: users, limit: quotas.users },
        Meter { label: "Rules".into(), used: rules, limit: quotas.rules },
    ];
    let mut days = vec![];
    let (mut sent, mut delivered, mut failed) = (0, 0, 0);
    for offset in 0..14u64 {
        let day = (first + chrono::Days::new(offset)).to_string();
        let row = usage.data.iter().find(|r| r.period == day);
        let (e, n) = row.map(|r| (r.events_received, r.notifications_sent)).unwrap_or_default();
        if let Some(r) = row {
            sent += r.notifications_sent;
            delivered += r.notifications_delivered;
            failed += r.notifications_failed;
        }
        days.push(Point { label: day[5..].to_string(), first: e, second: n });
    }
    let latest = list::list(&svc, &t, ListFilter::default(), domain::page::PageRequest::new(Some(5), None))
        .await
        .map_err(ssr::user_error)?;
    let recent = latest
        .data
        .into_iter()
        .map(|n| RecentNotification {
            title: n.title,
            created_at: n.created_at.format("%Y-%m-%d %H:%M").to_string(),
            delivered: n.delivered,
            error: n.delivery_error,
        })
        .collect();
    Ok(Dashboard {
        meters,
        days,
        delivery_rate: (sent > 0).then(|| (delivered as f64 / sent as f64 * 1000.0).round() / 10.0),
        failed,
        recent,
    })
}
