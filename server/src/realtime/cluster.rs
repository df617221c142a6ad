//! Redis for a platform of several processes. Publishing goes through Redis pub/sub (one channel
//! per project, `realtime:pub:{projectId}`); every process listens on the pattern and hands what
//! arrives to its own sockets, so a socket on any process receives what any process publishes.
//!
//! Each process also records which channels it has subscribers on (a sorted set per channel,
//! `realtime:subs:{projectId}:{channel}`, members = process ids, scores = expiry times) and its
//! presence members (`realtime:presence:…`, one entry per socket). Records are refreshed
//! periodically and expire on their own, so a crashed process's leftovers vanish within
//! [`RECORD_TTL`] without anyone cleaning up.

use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, PubSub};
use redis::RedisResult;
use tokio::sync::{mpsc, oneshot};

use super::hub::{channel_key, Hub};

const PUB_PREFIX: &str = "realtime:pub:";
const SUBS_PREFIX: &str = "realtime:subs:";
const PRESENCE_PREFIX: &str = "realtime:presence:";
/// How long a record lives without a refresh.
const RECORD_TTL: Duration = Duration::from_secs(90);
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// Channels per pipelined round trip when refreshing.
const REFRESH_BATCH: usize = 200;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or_default()
}

fn ttl_ms() -> i64 {
    RECORD_TTL.as_millis() as i64
}

/// This process's link to the other processes.
pub(crate) struct Cluster {
    conn: ConnectionManager,
    /// Names this process in the subscription records.
    node: String,
    sync_tx: mpsc::UnboundedSender<SyncOp>,
}

/// "Make Redis match this process's subscribers on `key`". One task applies these in order, so a
/// quick subscribe/unsubscribe cannot leave the record in the wrong state.
struct SyncOp {
    key: String,
    done: Option<oneshot::Sender<()>>,
}

/// The background work to start once the hub exists.
pub(crate) struct Tasks {
    client: redis::Client,
    pubsub: PubSub,
    sync_rx: mpsc::UnboundedReceiver<SyncOp>,
}

#[derive(serde::Deserialize)]
struct Wire {
    /// Channel.
    c: String,
    /// Socket to skip.
    #[serde(default)]
    x: Option<String>,
    /// The frame as sockets receive it.
    f: String,
}

async fn subscribe(client: &redis::Client) -> RedisResult<PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.psubscribe(format!("{PUB_PREFIX}*")).await?;
    Ok(pubsub)
}

impl Cluster {
    pub async fn connect(url: &str) -> domain::Result<(Cluster, Tasks)> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new(client.clone()).await?;
        let pubsub = subscribe(&client).await?;
        let (sync_tx, sync_rx) = mpsc::unbounded_channel();
        let node = domain::crypto::random_hex(8);
        Ok((Cluster { conn, node, sync_tx }, Tasks { client, pubsub, sync_rx }))
    }

    pub async fn publish(
        &self,
        project_id: &str,
        channel: &str,
        frame: &str,
        exclude: Option<&str>,
    ) -> RedisResult<()> {
        let payload = serde_json::json!({ "c": channel, "x": exclude, "f": frame }).to_string();
        redis::cmd("PUBLISH")
            .arg(format!("{PUB_PREFIX}{project_id}"))
            .arg(payload)
            .query_async::<()>(&mut self.conn.clone())
            .await
    }

    /// Brings the record of this process's subscription to `key` in line with its sockets;
    /// `wait` until Redis has it (bounded, so a slow Redis cannot hold a subscription up).
    pub async fn sync(&self, key: String, wait: bool) {
        let (done, rx) = if wait {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        if self.sync_tx.send(SyncOp { key, done }).is_err() {
            return;
        }
        if let Some(rx) = rx {
            let _ = tokio::time::timeout(Duration::from_secs(2), rx).await;
        }
    }

    /// Whether a live process has a subscriber on `key`.
    pub async fn subscribed_anywhere(&self, key: &str) -> RedisResult<bool> {
        let n: i64 = redis::cmd("ZCOUNT")
            .arg(format!("{SUBS_PREFIX}{key}"))
            .arg(now_ms())
            .arg("+inf")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(n > 0)
    }

    /// The live presence entries of `key`, after adding `adding` (in one atomic round trip).
    pub async fn presence_members(&self, key: &str, adding: Option<String>) -> RedisResult<Vec<String>> {
        let k = format!("{PRESENCE_PREFIX}{key}");
        let now = now_ms();
        let mut p = redis::pipe();
        p.atomic();
        if let Some(entry) = adding {
            p.cmd("ZADD").arg(&k).arg(now + ttl_ms()).arg(entry).ignore();
            p.cmd("PEXPIRE").arg(&k).arg(ttl_ms()).ignore();
        }
        p.cmd("ZRANGEBYSCORE").arg(&k).arg(now).arg("+inf");
        let (entries,): (Vec<String>,) = p.query_async(&mut self.conn.clone()).await?;
        Ok(entries)
    }

    pub async fn presence_remove(&self, key: &str, entry: &str) -> RedisResult<()> {
        redis::cmd("ZREM")
            .arg(format!("{PRESENCE_PREFIX}{key}"))
            .arg(entry)
            .query_async::<()>(&mut self.conn.clone())
            .await
    }

    /// A project's channels with a subscriber on a live process, whose names start with `prefix`.
    pub async fn occupied(&self, project_id: &str, prefix: &str) -> RedisResult<Vec<String>> {
        let mut conn = self.conn.clone();
        // Channel names hold no glob characters (they are validated), so the prefix is literal.
        let pattern = format!("{SUBS_PREFIX}{project_id}:{prefix}*");
        let mut keys: Vec<String> = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await?;
            keys.extend(batch);
            if next == 0 || keys.len() > 10_000 {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        let now = now_ms();
        let mut live = Vec::new();
        for chunk in keys.chunks(REFRESH_BATCH) {
            let mut p = redis::pipe();
            for k in chunk {
                p.cmd("ZCOUNT").arg(k).arg(now).arg("+inf");
            }
            let counts: Vec<i64> = p.query_async(&mut conn).await?;
            let strip = format!("{SUBS_PREFIX}{project_id}:");
            live.extend(
                chunk
                    .iter()
                    .zip(counts)
                    .filter(|(_, n)| *n > 0)
                    .filter_map(|(k, _)| k.strip_prefix(&strip).map(str::to_string)),
            );
        }
        Ok(live)
    }
}

impl Tasks {
    /// Starts listening, syncing and refreshing. The tasks hold the hub weakly and end with it.
    pub fn spawn(self, hub: &Arc<Hub>) {
        let weak = Arc::downgrade(hub);
        tokio::spawn(listen(self.client, self.pubsub, weak.clone()));
        tokio::spawn(apply_syncs(self.sync_rx, weak.clone()));
        tokio::spawn(refresh_periodically(weak));
    }
}

/// Hands what any process publishes to this process's sockets; reconnects when Redis goes away
/// (what is published meanwhile is lost, as pub/sub is; notifications stay in the database).
async fn listen(client: redis::Client, first: PubSub, hub: Weak<Hub>) {
    let mut pubsub = Some(first);
    let mut backoff = Duration::from_millis(500);
    loop {
        let ps = match pubsub.take() {
            Some(ps) => ps,
            None => match subscribe(&client).await {
                Ok(ps) => {
                    tracing::info!("realtime pub/sub reconnected");
                    backoff = Duration::from_millis(500);
                    ps
                }
                Err(e) => {
                    tracing::warn!(error = %e, "realtime pub/sub cannot reconnect yet");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    if hub.strong_count() == 0 {
                        return;
                    }
                    continue;
                }
            },
        };
        let mut stream = ps.into_on_message();
        let mut check = tokio::time::interval(Duration::from_secs(30));
        loop {
            tokio::select! {
                msg = stream.next() => match msg {
                    Some(msg) => {
                        let Some(hub) = hub.upgrade() else { return };
                        deliver(&hub, &msg);
                    }
                    None => break,
                },
                _ = check.tick() => if hub.strong_count() == 0 { return },
            }
        }
        tracing::warn!("realtime pub/sub connection lost; reconnecting");
    }
}

fn deliver(hub: &Hub, msg: &redis::Msg) {
    let Some(project_id) = msg.get_channel_name().strip_prefix(PUB_PREFIX) else { return };
    let Ok(payload) = msg.get_payload::<String>() else { return };
    let Ok(w) = serde_json::from_str::<Wire>(&payload) else { return };
    hub.deliver_local(&channel_key(project_id, &w.c), &Utf8Bytes::from(w.f), w.x.as_deref());
}

async fn apply_syncs(mut rx: mpsc::UnboundedReceiver<SyncOp>, hub: Weak<Hub>) {
    while let Some(op) = rx.recv().await {
        let Some(hub) = hub.upgrade() else { return };
        let Some(cluster) = &hub.cluster else { return };
        let here = hub.channels.get(&op.key).is_some_and(|c| !c.subs.is_empty());
        let k = format!("{SUBS_PREFIX}{}", op.key);
        let mut p = redis::pipe();
        if here {
            p.cmd("ZADD").arg(&k).arg(now_ms() + ttl_ms()).arg(&cluster.node).ignore();
            p.cmd("PEXPIRE").arg(&k).arg(ttl_ms()).ignore();
        } else {
            p.cmd("ZREM").arg(&k).arg(&cluster.node).ignore();
        }
        if let Err(e) = p.query_async::<()>(&mut cluster.conn.clone()).await {
            tracing::warn!(error = %e, "could not record a realtime subscription in Redis");
        }
        if let Some(done) = op.done {
            let _ = done.send(());
        }
    }
}

async fn refresh_periodically(hub: Weak<Hub>) {
    let mut tick = tokio::time::interval(REFRESH_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        if let Err(e) = refresh(&hub).await {
            tracing::warn!(error = %e, "could not refresh realtime records in Redis");
        }
    }
}

/// Extends this process's records and drops expired ones of crashed processes.
async fn refresh(hub: &Hub) -> RedisResult<()> {
    let Some(cluster) = &hub.cluster else { return Ok(()) };
    // Copy what to write first: no map lock is held across a Redis round trip.
    let mut records: Vec<(String, String)> = Vec::new();
    for ch in hub.channels.iter() {
        if !ch.subs.is_empty() {
            records.push((format!("{SUBS_PREFIX}{}", ch.key()), cluster.node.clone()));
        }
        for m in ch.members.values() {
            records.push((format!("{PRESENCE_PREFIX}{}", ch.key()), m.entry()));
        }
    }
    let mut conn = cluster.conn.clone();
    for chunk in records.chunks(REFRESH_BATCH) {
        let now = now_ms();
        let mut p = redis::pipe();
        for (k, member) in chunk {
            p.cmd("ZADD").arg(k).arg(now + ttl_ms()).arg(member).ignore();
            p.cmd("PEXPIRE").arg(k).arg(ttl_ms()).ignore();
            p.cmd("ZREMRANGEBYSCORE").arg(k).arg("-inf").arg(now).ignore();
        }
        p.query_async::<()>(&mut conn).await?;
    }
    Ok(())
}
