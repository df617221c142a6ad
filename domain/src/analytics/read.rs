//! The analytics answers (CONTRACT "Audit and analytics"): `GET /analytics/delivery-rates` and
//! `GET /analytics/user-engagement`, read off the hourly rollups: a few rows per period whatever
//! the number of notifications behind them. Every period of the range is in the answer, empty
//! ones with zeros, so a chart needs no gap filling.

use std::collections::BTreeMap;

use chrono::{DurationRound, TimeDelta};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Channel, Counts, BOUNDS_MS};
use crate::auth::{Permission, Tenant};
use crate::error::{Error, Result};
use crate::services::Services;
use crate::time::{self, Timestamp};

/// `?from=&to=&interval=hour|day`: RFC 3339 times or dates (`to` a date takes in that whole
/// day). Defaults: the last 24 hours by hour, the last 30 days by day.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub interval: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Interval {
    Hour,
    Day,
}

/// The periods asked for: the interval and the first and last period's start.
struct Range {
    interval: Interval,
    first: Timestamp,
    last: Timestamp,
}

/// The longest ranges: 31 days by hour (744 periods), 400 days by day.
const MAX_HOURS: i64 = 31 * 24;
const MAX_DAYS: i64 = 400;

/// A bound of the range ([`time::parse_bound`]); an excluded end is the instant before it, so
/// `to=2026-12-01` ends in that day.
fn parse_bound(field: &str, v: &str, end: bool) -> Result<Timestamp> {
    let (t, excluded) = time::parse_bound(field, v, end)?;
    Ok(if excluded { t - TimeDelta::milliseconds(1) } else { t })
}

impl AnalyticsQuery {
    fn range(&self) -> Result<Range> {
        let interval = match self.interval.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None | Some("day") => Interval::Day,
            Some("hour") => Interval::Hour,
            Some(_) => return Err(Error::field("interval", "must be hour or day")),
        };
        let step = match interval {
            Interval::Hour => TimeDelta::hours(1),
            Interval::Day => TimeDelta::days(1),
        };
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let to = match given(&self.to) {
            Some(v) => parse_bound("to", &v, true)?,
            None => time::now(),
        };
        let from = match given(&self.from) {
            Some(v) => parse_bound("from", &v, false)?,
            None => match interval {
                Interval::Hour => to - TimeDelta::hours(23),
                Interval::Day => to - TimeDelta::days(29),
            },
        };
        if from > to {
            return Err(Error::field("from", "must not be after to"));
        }
        let (first, last) =
            (from.duration_trunc(step).map_err(Error::internal)?, to.duration_trunc(step).map_err(Error::internal)?);
        let periods = (last - first).num_seconds() / step.num_seconds() + 1;
        let max = if interval == Interval::Hour { MAX_HOURS } else { MAX_DAYS };
        if periods > max {
            return Err(Error::field("from", format!("the range may hold at most {max} periods of this interval")));
        }
        Ok(Range { interval, first, last })
    }
}

impl Range {
    fn step(&self) -> TimeDelta {
        match self.interval {
            Interval::Hour => TimeDelta::hours(1),
            Interval::Day => TimeDelta::days(1),
        }
    }

    /// The period's label: `2026-12-04T19:00:00Z` by hour, `2026-12-04` by day.
    fn label(&self, t: Timestamp) -> String {
        match self.interval {
            Interval::Hour => t.format("%Y-%m-%dT%H:00:00Z").to_string(),
            Interval::Day => t.format("%Y-%m-%d").to_string(),
        }
    }

    /// Every period's label, in order.
    fn labels(&self) -> Vec<String> {
        let mut out = vec![];
        let mut t = self.first;
        while t <= self.last {
            out.push(self.label(t));
            t += self.step();
        }
        out
    }

    /// The label of a rollup hour (`2026-12-04T19`).
    fn label_of_hour(&self, hour: &str) -> String {
        match self.interval {
            Interval::Hour => format!("{hour}:00:00Z"),
            Interval::Day => hour.get(..10).unwrap_or(hour).to_string(),
        }
    }

    /// The rollup hours the range covers, as `hour BETWEEN $a AND $b` bounds.
    fn hours(&self) -> (String, String) {
        let end = self.last + self.step() - TimeDelta::hours(1);
        (super::hour_of(self.first), super::hour_of(end))
    }
}

/// A histogram: counts per bucket of [`BOUNDS_MS`] (one more for past the last bound).
#[derive(Clone, Debug, Default)]
struct Histogram(Vec<i64>);

impl Histogram {
    fn add(&mut self, bucket: usize, n: i64) {
        if self.0.len() <= bucket {
            self.0.resize(bucket + 1, 0);
        }
        self.0[bucket] += n;
    }

    /// The `q` quantile, interpolated linearly inside its bucket; `None` when empty. A value past
    /// the last bound is reported as that bound.
    fn quantile(&self, q: f64) -> Option<i64> {
        let total: i64 = self.0.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = (q * total as f64).ceil().max(1.0);
        let mut seen = 0i64;
        for (i, n) in self.0.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            if (seen + n) as f64 >= rank {
                let low = if i == 0 { 0 } else { BOUNDS_MS[i - 1] };
                let Some(&high) = BOUNDS_MS.get(i) else { return Some(BOUNDS_MS[BOUNDS_MS.len() - 1]) };
                let within = (rank - seen as f64) / *n as f64;
                return Some(low + ((high - low) as f64 * within).round() as i64);
            }
            seen += n;
        }
        None
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelRates {
    pub delivered: i64,
    pub failed: i64,
    pub p50_latency_ms: Option<i64>,
    pub p95_latency_ms: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRates {
    pub period: String,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    /// delivered / sent, `null` for a period that sent nothing.
    pub delivery_rate: Option<f64>,
    pub p50_latency_ms: Option<i64>,
    pub p95_latency_ms: Option<i64>,
    pub by_channel: BTreeMap<&'static str, ChannelRates>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Engagement {
    pub period: String,
    pub active_users: i64,
    pub notifications_received: i64,
    pub acknowledged: i64,
    /// acknowledged / received, `null` for a period that received nothing.
    pub ack_rate: Option<f64>,
    pub median_seconds_to_ack: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Series<T> {
    pub data: Vec<T>,
}

fn ratio(a: i64, b: i64) -> Option<f64> {
    (b > 0).then(|| (a as f64 / b as f64 * 10_000.0).round() / 10_000.0)
}

/// Counts per (period label, channel) and histograms per (period label, channel) of `kind`.
async fn rollups(
    svc: &Services,
    project_id: &str,
    r: &Range,
    kind: super::Kind,
) -> Result<(BTreeMap<(String, String), Counts>, BTreeMap<(String, String), Histogram>)> {
    let (from, to) = r.hours();
    let rows = sqlx::query(
        "SELECT hour, channel, sent, received, delivered, failed, acknowledged FROM analytics_hourly \
         WHERE project_id = $1 AND hour >= $2 AND hour <= $3",
    )
    .bind(project_id)
    .bind(&from)
    .bind(&to)
    .fetch_all(svc.db.pool())
    .await?;
    let mut counts: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for row in rows {
        let key = (r.label_of_hour(&row.get::<String, _>("hour")), row.get::<String, _>("channel"));
        let c = counts.entry(key).or_default();
        c.sent += row.get::<i64, _>("sent");
        c.received += row.get::<i64, _>("received");
        c.delivered += row.get::<i64, _>("delivered");
        c.failed += row.get::<i64, _>("failed");
        c.acknowledged += row.get::<i64, _>("acknowledged");
    }
    let rows = sqlx::query(
        "SELECT hour, channel, bucket, count FROM analytics_latency \
         WHERE project_id = $1 AND kind = $2 AND hour >= $3 AND hour <= $4",
    )
    .bind(project_id)
    .bind(kind.as_str())
    .bind(&from)
    .bind(&to)
    .fetch_all(svc.db.pool())
    .await?;
    let mut hist: BTreeMap<(String, String), Histogram> = BTreeMap::new();
    for row in rows {
        let key = (r.label_of_hour(&row.get::<String, _>("hour")), row.get::<String, _>("channel"));
        hist.entry(key).or_default().add(row.get::<i64, _>("bucket").max(0) as usize, row.get::<i64, _>("count"));
    }
    Ok((counts, hist))
}

pub async fn delivery_rates(svc: &Services, t: &Tenant, q: &AnalyticsQuery) -> Result<Series<DeliveryRates>> {
    t.require(Permission::NotificationsRead)?;
    let r = q.range()?;
    let (counts, hist) = rollups(svc, t.project_id(), &r, super::Kind::Delivery).await?;
    let none = Histogram::default();
    let data = r
        .labels()
        .into_iter()
        .map(|period| {
            let get = |ch: Channel| counts.get(&(period.clone(), ch.as_str().to_string())).copied().unwrap_or_default();
            let h = |ch: Channel| hist.get(&(period.clone(), ch.as_str().to_string())).unwrap_or(&none);
            let all = get(Channel::All);
            let by_channel = Channel::EACH
                .iter()
                .map(|ch| {
                    let c = get(*ch);
                    let rates = ChannelRates {
                        delivered: c.delivered,
                        failed: c.failed,
                        p50_latency_ms: h(*ch).quantile(0.5),
                        p95_latency_ms: h(*ch).quantile(0.95),
                    };
                    (ch.as_str(), rates)
                })
                .collect();
            DeliveryRates {
                sent: all.sent,
                delivered: all.delivered,
                failed: all.failed,
                delivery_rate: ratio(all.delivered, all.sent),
                p50_latency_ms: h(Channel::All).quantile(0.5),
                p95_latency_ms: h(Channel::All).quantile(0.95),
                by_channel,
                period,
            }
        })
        .collect();
    Ok(Series { data })
}

pub async fn user_engagement(svc: &Services, t: &Tenant, q: &AnalyticsQuery) -> Result<Series<Engagement>> {
    t.require(Permission::NotificationsRead)?;
    let r = q.range()?;
    let (counts, hist) = rollups(svc, t.project_id(), &r, super::Kind::Ack).await?;
    // Active users: rows of the period's own granularity (hours are 13 characters, days 10).
    let (from, to, width) = match r.interval {
        Interval::Hour => {
            let (a, b) = r.hours();
            (a, b, 13)
        }
        Interval::Day => (r.label(r.first), r.label(r.last), 10),
    };
    let rows = sqlx::query(
        "SELECT period, COUNT(*) AS n FROM analytics_active_users \
         WHERE project_id = $1 AND period >= $2 AND period <= $3 AND LENGTH(period) = $4 GROUP BY period",
    )
    .bind(t.project_id())
    .bind(&from)
    .bind(&to)
    .bind(width as i64)
    .fetch_all(svc.db.pool())
    .await?;
    let active: BTreeMap<String, i64> = rows
        .into_iter()
        .map(|row| {
            let period: String = row.get("period");
            let label = if width == 13 { r.label_of_hour(&period) } else { period };
            (label, row.get::<i64, _>("n"))
        })
        .collect();
    let none = Histogram::default();
    let data = r
        .labels()
        .into_iter()
        .map(|period| {
            let all = counts.get(&(period.clone(), "all".to_string())).copied().unwrap_or_default();
            let median = hist.get(&(period.clone(), "all".to_string())).unwrap_or(&none).quantile(0.5);
            Engagement {
                active_users: active.get(&period).copied().unwrap_or(0),
                notifications_received: all.received,
                acknowledged: all.acknowledged,
                ack_rate: ratio(all.acknowledged, all.received),
                median_seconds_to_ack: median.map(|ms| ms as f64 / 1000.0),
                period,
            }
        })
        .collect();
    Ok(Series { data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_inside_their_bucket() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), None);
        // 10 values in (10, 25] ms, 10 in (100, 250] ms.
        h.add(super::super::bucket_of(20), 10);
        h.add(super::super::bucket_of(200), 10);
        assert_eq!(h.quantile(0.5), Some(25), "the 10th value is the top of the first bucket");
        let p95 = h.quantile(0.95).unwrap();
        assert!((100..=250).contains(&p95), "{p95}");
        let mut far = Histogram::default();
        far.add(BOUNDS_MS.len(), 1);
        assert_eq!(far.quantile(0.5), Some(86_400_000));
    }

    #[test]
    fn ranges_cover_whole_periods_and_refuse_huge_ones() {
        let q = AnalyticsQuery { from: Some("2026-12-01".into()), to: Some("2026-12-03".into()), interval: None };
        let r = q.range().unwrap();
        assert_eq!(r.labels(), ["2026-12-01", "2026-12-02", "2026-12-03"]);
        assert_eq!(r.hours(), ("2026-12-01T00".to_string(), "2026-12-03T23".to_string()));
        let h = AnalyticsQuery {
            from: Some("2026-12-01T10:30:00Z".into()),
            to: Some("2026-12-01T12:00:00Z".into()),
            interval: Some("hour".into()),
        };
        let r = h.range().unwrap();
        assert_eq!(r.labels(), ["2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z"]);
        let huge =
            AnalyticsQuery { from: Some("2020-01-01".into()), interval: Some("hour".into()), ..Default::default() };
        assert!(huge.range().is_err());
        let bad = AnalyticsQuery { interval: Some("week".into()), ..Default::default() };
        assert!(bad.range().is_err());
    }
}
