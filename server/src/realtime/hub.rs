//! Channel subscriptions and fan-out. Channels are namespaced by project (keyed internally by
//! `{project_id}:{channel}`), so equal names in two projects never meet.
//!
//! Without Redis a publish is delivered to this process's sockets directly. With Redis it goes
//! through Redis pub/sub (see [`super::cluster`]) and every process, this one included, delivers it
//! to its own sockets; subscriptions are also recorded in Redis so [`Hub::is_subscribed`] answers
//! for sockets on any process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use tokio::sync::{mpsc, Notify};

use super::apps::AppCache;
use super::cluster::Cluster;
use super::protocol::{self, MemberData};

/// Timeouts and limits of the socket server.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Told to clients as `activity_timeout`; a socket silent this long is sent `pusher:ping`.
    pub activity_timeout: Duration,
    /// How long a pinged socket has to answer before it is closed (4201).
    pub pong_timeout: Duration,
    /// Frames waiting for one socket; a socket that falls this far behind is closed (4200) and
    /// reconnects, rather than making the server buffer without bound. Large enough for a whole
    /// worker batch addressed to one user (bursts are normal); the queue's memory grows only as
    /// it fills, so an idle socket costs the same whatever the bound.
    pub queue_capacity: usize,
    pub max_channels_per_socket: usize,
    /// Client events one socket may send per second (Pusher's default is 10).
    pub client_events_per_second: u32,
    /// How often an open socket checks that its project is still active, its key still valid and
    /// its app's secret unchanged; it is closed when not.
    pub recheck_every: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            activity_timeout: Duration::from_secs(120),
            pong_timeout: Duration::from_secs(30),
            queue_capacity: 4096,
            max_channels_per_socket: 100,
            client_events_per_second: 10,
            recheck_every: Duration::from_secs(1),
        }
    }
}

/// One connected socket as the hub sees it: where to send its frames.
pub(crate) struct Conn {
    pub id: u64,
    pub socket_id: Box<str>,
    tx: mpsc::Sender<Utf8Bytes>,
    /// Woken when the socket fell behind and must be closed.
    pub overflowed: Notify,
}

impl Conn {
    /// Queues a frame without waiting; a full queue marks the socket for closing.
    pub fn deliver(&self, frame: &Utf8Bytes) -> bool {
        match self.tx.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("realtime_slow_consumers_total").increment(1);
                self.overflowed.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// A presence member: the socket that joined and who it is.
pub(crate) struct Member {
    pub socket_id: Box<str>,
    pub data: MemberData,
}

impl Member {
    /// How the member is stored in Redis: unique per socket.
    pub fn entry(&self) -> String {
        format!("{}|{}", self.socket_id, self.data.json)
    }
}

/// The sockets of this process on one channel, and its presence members.
#[derive(Default)]
pub(crate) struct Channel {
    pub subs: HashMap<u64, Arc<Conn>>,
    pub members: HashMap<u64, Arc<Member>>,
}

/// Fans published messages out to the sockets subscribed to a channel.
pub struct Hub {
    pub(crate) channels: DashMap<String, Channel>,
    pub(crate) cluster: Option<Cluster>,
    pub(crate) config: HubConfig,
    pub(crate) apps: AppCache,
    next_conn: AtomicU64,
    connections: AtomicUsize,
    /// Makes this process's socket ids distinct from other processes'.
    socket_prefix: u32,
}

/// The internal key of a project's channel.
pub(crate) fn channel_key(project_id: &str, channel: &str) -> String {
    format!("{project_id}:{channel}")
}

impl Hub {
    /// An in-process hub (one node), with the default timeouts.
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::build(HubConfig::default(), None))
    }

    /// An in-process hub with other timeouts or limits.
    pub fn with_config(config: HubConfig) -> Arc<Hub> {
        Arc::new(Hub::build(config, None))
    }

    /// The hub for REDIS_URL: in-process when `None`, else fanned out through Redis pub/sub.
    pub async fn connect(redis_url: Option<&str>) -> domain::Result<Arc<Hub>> {
        Hub::connect_with(redis_url, HubConfig::default()).await
    }

    pub async fn connect_with(redis_url: Option<&str>, config: HubConfig) -> domain::Result<Arc<Hub>> {
        match redis_url {
            None => Ok(Hub::with_config(config)),
            Some(url) => {
                let (cluster, tasks) = Cluster::connect(url).await?;
                let hub = Arc::new(Hub::build(config, Some(cluster)));
                tasks.spawn(&hub);
                Ok(hub)
            }
        }
    }

    fn build(config: HubConfig, cluster: Option<Cluster>) -> Hub {
        // Nine digits, random per process: socket ids look like Pusher's (`123.456`).
        let random = u32::from_str_radix(&domain::crypto::random_hex(4), 16).unwrap_or_default();
        Hub {
            channels: DashMap::new(),
            cluster,
            config,
            apps: AppCache::new(Duration::from_secs(2)),
            next_conn: AtomicU64::new(1),
            connections: AtomicUsize::new(0),
            socket_prefix: 100_000_000 + random % 900_000_000,
        }
    }

    /// Publishes `event` with `data` (a JSON string, sent as Pusher sends it) on a project's
    /// channel, to every subscriber in every process. The frame is serialized once and shared.
    pub async fn publish(&self, project_id: &str, channel: &str, event: &str, data: &str) {
        self.publish_frame(project_id, channel, protocol::event(channel, event, data), None).await;
    }

    /// Publishes a ready frame, skipping the socket `exclude` (Pusher's `socket_id` parameter).
    pub(crate) async fn publish_frame(&self, project_id: &str, channel: &str, frame: Utf8Bytes, exclude: Option<&str>) {
        metrics::counter!("realtime_messages_published_total").increment(1);
        if let Some(cluster) = &self.cluster {
            match cluster.publish(project_id, channel, &frame, exclude).await {
                Ok(()) => return,
                // Deliver what this process can rather than nothing.
                Err(e) => tracing::warn!(error = %e, project.id = project_id, "realtime publish through Redis failed"),
            }
        }
        self.deliver_local(&channel_key(project_id, channel), &frame, exclude);
    }

    /// Hands a frame to this process's sockets on the channel.
    pub(crate) fn deliver_local(&self, key: &str, frame: &Utf8Bytes, exclude: Option<&str>) {
        let Some(ch) = self.channels.get(key) else { return };
        let mut delivered = 0u64;
        for conn in ch.subs.values() {
            if exclude != Some(&*conn.socket_id) && conn.deliver(frame) {
                delivered += 1;
            }
        }
        drop(ch);
        metrics::counter!("realtime_messages_delivered_total").increment(delivered);
    }

    /// Whether any socket (in any process, when Redis is configured) is subscribed to the channel.
    pub async fn is_subscribed(&self, project_id: &str, channel: &str) -> bool {
        let key = channel_key(project_id, channel);
        if self.channels.get(&key).is_some_and(|c| !c.subs.is_empty()) {
            return true;
        }
        match &self.cluster {
            None => false,
            Some(cluster) => cluster.subscribed_anywhere(&key).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "could not ask Redis for subscribers");
                false
            }),
        }
    }

    /// A project's channels with subscribers (on any process, with Redis) whose names start
    /// with `prefix`.
    pub(crate) async fn occupied(&self, project_id: &str, prefix: &str) -> Vec<String> {
        if let Some(cluster) = &self.cluster {
            match cluster.occupied(project_id, prefix).await {
                Ok(names) => return names,
                Err(e) => tracing::warn!(error = %e, "could not list channels in Redis; answering this process's"),
            }
        }
        let start = channel_key(project_id, prefix);
        let mut names: Vec<String> = self
            .channels
            .iter()
            .filter(|c| !c.subs.is_empty() && c.key().starts_with(&start))
            .map(|c| c.key()[project_id.len() + 1..].to_string())
            .collect();
        names.sort();
        names
    }

    /// Sockets on a channel, when this process knows them all (no Redis).
    pub(crate) fn subscription_count(&self, project_id: &str, channel: &str) -> Option<usize> {
        if self.cluster.is_some() {
            return None;
        }
        Some(self.channels.get(&channel_key(project_id, channel)).map_or(0, |c| c.subs.len()))
    }

    /// Sockets connected to this process.
    pub fn local_connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// A new socket: its hub handle and the queue its frames arrive on.
    pub(crate) fn open(&self) -> (Arc<Conn>, mpsc::Receiver<Utf8Bytes>) {
        let id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        self.connections.fetch_add(1, Ordering::Relaxed);
        metrics::gauge!("realtime_connections").increment(1.0);
        let (tx, rx) = mpsc::channel(self.config.queue_capacity.max(1));
        let socket_id = format!("{}.{}", self.socket_prefix, id).into_boxed_str();
        (Arc::new(Conn { id, socket_id, tx, overflowed: Notify::new() }), rx)
    }

    /// A socket from [`Hub::open`] is gone (its subscriptions already left).
    pub(crate) fn close(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
        metrics::gauge!("realtime_connections").decrement(1.0);
    }

    /// Subscribes a socket; with Redis, records that this process now has the channel before
    /// answering, so `is_subscribed` on any process sees it once the client is told it succeeded.
    pub(crate) async fn join(&self, project_id: &str, channel: &str, conn: &Arc<Conn>, member: Option<Arc<Member>>) {
        let key = channel_key(project_id, channel);
        let first_here = {
            let mut ch = self.channels.entry(key.clone()).or_default();
            let first = ch.subs.is_empty();
            ch.subs.insert(conn.id, conn.clone());
            if let Some(m) = member {
                ch.members.insert(conn.id, m);
            }
            first
        };
        if first_here {
            if let Some(cluster) = &self.cluster {
                cluster.sync(key, true).await;
            }
        }
    }

    /// Unsubscribes a socket; answers the presence member it had on the channel, if any.
    pub(crate) async fn leave(&self, project_id: &str, channel: &str, conn_id: u64) -> Option<Arc<Member>> {
        let key = channel_key(project_id, channel);
        let (member, emptied) = match self.channels.get_mut(&key) {
            Some(mut ch) => {
                ch.subs.remove(&conn_id);
                (ch.members.remove(&conn_id), ch.subs.is_empty())
            }
            None => (None, false),
        };
        if emptied {
            self.channels.remove_if(&key, |_, c| c.subs.is_empty());
            if let Some(cluster) = &self.cluster {
                cluster.sync(key, false).await;
            }
        }
        member
    }
}
