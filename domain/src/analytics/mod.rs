//! Analytics (docs/ANALYTICS.md): delivery rates with latency percentiles by channel, and user
//! engagement, answered from hourly rollups. The delivery paths report what happened here
//! ([`Analytics`]); it is counted in memory and added to the rollup rows by the usage flusher,
//! so a notification costs map updates, not database writes. A notification's figures belong to
//! the UTC hour it was created in, so a period's rates compare like with like; active users belong
//! to the hour and day they were active in.

pub mod read;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use crate::db::Db;
use crate::error::Result;
use crate::time::{self, Timestamp};

/// Upper bounds of the histogram buckets, in milliseconds; a value past the last is in one more
/// bucket. Roughly 1-2.5-5 steps from 5 ms to a day.
pub const BOUNDS_MS: [i64; 18] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000,
    86_400_000,
];

/// The bucket a value falls in.
pub fn bucket_of(ms: i64) -> usize {
    BOUNDS_MS.iter().position(|b| ms <= *b).unwrap_or(BOUNDS_MS.len())
}

/// How a notification reached (or failed to reach) its recipients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The notification as a whole: delivered by whichever channel was first.
    All,
    /// The platform's built-in Pusher-protocol server.
    Socket,
    /// The project's own Pusher app.
    Pusher,
    /// FCM and APNs.
    Push,
}

impl Channel {
    pub const EACH: [Channel; 3] = [Channel::Socket, Channel::Pusher, Channel::Push];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::All => "all",
            Channel::Socket => "socket",
            Channel::Pusher => "pusher",
            Channel::Push => "push",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// From the event's receipt to a delivery.
    Delivery,
    /// From the notification's creation to an acknowledgement.
    Ack,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Delivery => "delivery",
            Kind::Ack => "ack",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub sent: i64,
    pub received: i64,
    pub delivered: i64,
    pub failed: i64,
    pub acknowledged: i64,
}

type Slot = (String, String, Channel);

#[derive(Default)]
struct Pending {
    counts: HashMap<Slot, Counts>,
    latency: HashMap<(String, String, Channel, Kind, usize), i64>,
    active: HashSet<(String, String, String)>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.latency.is_empty() && self.active.is_empty()
    }

    fn merge(&mut self, other: Pending) {
        for (k, c) in other.counts {
            let e = self.counts.entry(k).or_default();
            e.sent += c.sent;
            e.received += c.received;
            e.delivered += c.delivered;
            e.failed += c.failed;
            e.acknowledged += c.acknowledged;
        }
        for (k, n) in other.latency {
            *self.latency.entry(k).or_default() += n;
        }
        self.active.extend(other.active);
    }
}

/// `2026-12-04T19`: the UTC hour of `t`.
pub fn hour_of(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H").to_string()
}

fn ms_between(from: Timestamp, to: Timestamp) -> i64 {
    (to - from).num_milliseconds().max(0)
}

/// What the delivery paths report; see the module's notes.
#[derive(Default)]
pub struct Analytics {
    pending: Mutex<Pending>,
    flushing: tokio::sync::Mutex<()>,
}

impl Analytics {
    fn with(&self, f: impl FnOnce(&mut Pending)) {
        f(&mut self.pending.lock().expect("analytics lock"));
    }

    fn active(p: &mut Pending, project_id: &str, at: Timestamp, users: &[&str]) {
        let (hour, day) = (hour_of(at), at.format("%Y-%m-%d").to_string());
        for u in users {
            p.active.insert((project_id.to_string(), hour.clone(), u.to_string()));
            p.active.insert((project_id.to_string(), day.clone(), u.to_string()));
        }
    }

    /// A notification was made for `recipients`.
    pub fn created(&self, project_id: &str, created_at: Timestamp, recipients: &[String]) {
        self.with(|p| {
            let c = p.counts.entry((project_id.to_string(), hour_of(created_at), Channel::All)).or_default();
            c.sent += 1;
            c.received += recipients.len() as i64;
            let users: Vec<&str> = recipients.iter().map(String::as_str).collect();
            Self::active(p, project_id, time::now(), &users);
        });
    }

    /// A channel delivered a notification made at `created_at` for an event received at
    /// `received_at`; `first` when no channel had delivered it before (it counts for the
    /// notification as a whole too).
    pub fn delivered(
        &self,
        project_id: &str,
        channel: Channel,
        created_at: Timestamp,
        received_at: Option<Timestamp>,
        first: bool,
    ) {
        let now = time::now();
        let hour = hour_of(created_at);
        let latency = bucket_of(ms_between(received_at.unwrap_or(created_at), now));
        self.with(|p| {
            let channels: &[Channel] = if first { &[channel, Channel::All] } else { &[channel] };
            for ch in channels {
                p.counts.entry((project_id.to_string(), hour.clone(), *ch)).or_default().delivered += 1;
                *p.latency.entry((project_id.to_string(), hour.clone(), *ch, Kind::Delivery, latency)).or_default() +=
                    1;
            }
        });
    }

    /// A channel gave up on a notification (`Channel::All`: every channel did, nothing reached
    /// anyone).
    pub fn failed(&self, project_id: &str, channel: Channel, created_at: Timestamp) {
        self.with(|p| {
            p.counts.entry((project_id.to_string(), hour_of(created_at), channel)).or_default().failed += 1;
        });
    }

    /// A recipient acknowledged a notification made at `created_at`.
    pub fn acknowledged(&self, project_id: &str, user_id: &str, created_at: Timestamp, at: Timestamp) {
        let hour = hour_of(created_at);
        let bucket = bucket_of(ms_between(created_at, at));
        self.with(|p| {
            p.counts.entry((project_id.to_string(), hour.clone(), Channel::All)).or_default().acknowledged += 1;
            *p.latency.entry((project_id.to_string(), hour, Channel::All, Kind::Ack, bucket)).or_default() += 1;
            Self::active(p, project_id, at, &[user_id]);
        });
    }

    /// Adds everything pending to the rollup rows in one transaction; on failure it stays
    /// pending for the next flush.
    pub async fn flush(&self, db: &Db) -> Result<usize> {
        let _one = self.flushing.lock().await;
        let taken = std::mem::take(&mut *self.pending.lock().expect("analytics lock"));
        if taken.is_empty() {
            return Ok(0);
        }
        let rows = taken.counts.len() + taken.latency.len() + taken.active.len();
        match write(db, &taken).await {
            Ok(()) => Ok(rows),
            Err(e) => {
                self.pending.lock().expect("analytics lock").merge(taken);
                Err(e)
            }
        }
    }
}

async fn write(db: &Db, p: &Pending) -> Result<()> {
    // One order for every process, so two flushes never wait on each other's rows crosswise.
    let mut counts: Vec<_> = p.counts.iter().collect();
    counts.sort_by(|a, b| (&a.0 .0, &a.0 .1, a.0 .2.as_str()).cmp(&(&b.0 .0, &b.0 .1, b.0 .2.as_str())));
    let mut latency: Vec<_> = p.latency.iter().collect();
    latency.sort_by(|a, b| {
        (&a.0 .0, &a.0 .1, a.0 .2.as_str(), a.0 .3.as_str(), a.0 .4).cmp(&(
            &b.0 .0,
            &b.0 .1,
            b.0 .2.as_str(),
            b.0 .3.as_str(),
            b.0 .4,
        ))
    });
    let mut active: Vec<_> = p.active.iter().collect();
    active.sort();
    let mut tx = db.writer().begin().await?;
    for ((project, hour, channel), c) in counts {
        sqlx::query(
            "INSERT INTO analytics_hourly (project_id, hour, channel, sent, received, delivered, failed, acknowledged) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (project_id, hour, channel) DO UPDATE SET \
             sent = analytics_hourly.sent + excluded.sent, received = analytics_hourly.received + excluded.received, \
             delivered = analytics_hourly.delivered + excluded.delivered, \
             failed = analytics_hourly.failed + excluded.failed, \
             acknowledged = analytics_hourly.acknowledged + excluded.acknowledged",
        )
        .bind(project)
        .bind(hour)
        .bind(channel.as_str())
        .bind(c.sent)
        .bind(c.received)
        .bind(c.delivered)
        .bind(c.failed)
        .bind(c.acknowledged)
        .execute(&mut *tx)
        .await?;
    }
    for ((project, hour, channel, kind, bucket), n) in latency {
        sqlx::query(
            "INSERT INTO analytics_latency (project_id, hour, channel, kind, bucket, count) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (project_id, hour, channel, kind, bucket) DO UPDATE SET \
             count = analytics_latency.count + excluded.count",
        )
        .bind(project)
        .bind(hour)
        .bind(channel.as_str())
        .bind(kind.as_str())
        .bind(*bucket as i64)
        .bind(*n)
        .execute(&mut *tx)
        .await?;
    }
    for chunk in active.chunks(300) {
        let statement = format!(
            "INSERT INTO analytics_active_users (project_id, period, user_id) VALUES {} ON CONFLICT DO NOTHING",
            crate::db::sql::row_placeholders(chunk.len(), 3, 0)
        );
        let mut q = sqlx::query(&statement);
        for (project, period, user) in chunk {
            q = q.bind(project).bind(period).bind(user);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fall_in_the_bucket_of_their_bound() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(5), 0);
        assert_eq!(bucket_of(6), 1);
        assert_eq!(bucket_of(1_000), 7);
        assert_eq!(bucket_of(86_400_001), BOUNDS_MS.len());
    }
}
