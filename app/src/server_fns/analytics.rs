//! Analytics for the panel: the REST API's two series (delivery rates, engagement) over one of a
//! few ranges, joined by period.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The ranges the page offers: (query value, label, interval, periods).
pub const RANGES: [(&str, &str, &str, i64); 3] =
    [("24h", "Last 24 hours", "hour", 24), ("7d", "Last 7 days", "day", 7), ("30d", "Last 30 days", "day", 30)];

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PeriodView {
    pub period: String,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub delivery_rate: Option<f64>,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    /// Deliveries per channel: socket, pusher, push.
    pub channels: Vec<(String, i64)>,
    pub active_users: i64,
    pub received: i64,
    pub acknowledged: i64,
    pub ack_rate: Option<f64>,
    pub median_ack_secs: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct AnalyticsView {
    pub periods: Vec<PeriodView>,
    pub sent: i64,
    pub delivered: i64,
    pub received: i64,
    pub acknowledged: i64,
}

#[server(prefix = "/_panel")]
pub async fn load_analytics(range: Option<String>) -> Result<AnalyticsView, ServerFnError> {
    use super::ssr;
    use domain::analytics::read::{self, AnalyticsQuery};
    let svc = ssr::services()?;
    let t = ssr::tenant(&svc).await?;
    let (_, _, interval, periods) = RANGES.iter().find(|r| Some(r.0) == range.as_deref()).copied().unwrap_or(RANGES[1]);
    let now = chrono::Utc::now();
    let from = match interval {
        "hour" => now - chrono::Duration::hours(periods - 1),
        _ => now - chrono::Duration::days(periods - 1),
    };
    let q = AnalyticsQuery {
        from: Some(from.to_rfc3339()),
        to: Some(now.to_rfc3339()),
        interval: Some(interval.to_string()),
    };
    let rates = read::delivery_rates(&svc, &t, &q).await.map_err(ssr::user_error)?;
    let engagement = read::user_engagement(&svc, &t, &q).await.map_err(ssr::user_error)?;
    let mut view = AnalyticsView::default();
    for (r, e) in rates.data.into_iter().zip(engagement.data) {
        view.sent += r.sent;
        view.delivered += r.delivered;
        view.received += e.notifications_received;
        view.acknowledged += e.acknowledged;
        view.periods.push(PeriodView {
            period: r.period,
            sent: r.sent,
            delivered: r.delivered,
            failed: r.failed,
            delivery_rate: r.delivery_rate,
            p50_ms: r.p50_latency_ms,
            p95_ms: r.p95_latency_ms,
            channels: r.by_channel.iter().map(|(k, c)| (k.to_string(), c.delivered)).collect(),
            active_users: e.active_users,
            received: e.notifications_received,
            acknowledged: e.acknowledged,
            ack_rate: e.ack_rate,
            median_ack_secs: e.median_seconds_to_ack,
        });
    }
    Ok(view)
}
