//! The Redis Streams worker: one consumer group (`engine`) over every project's stream. Entries
//! are acknowledged (and deleted) only after the engine committed; entries a dead consumer left
//! pending are claimed with XAUTOCLAIM; a stream whose group vanished (Redis restarted) gets it
//! back instead of the worker sticking on NOGROUP.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::engine;
use domain::queue::redis_streams::{stream_key, RedisQueue};
use domain::queue::QueuedEvent;
use domain::Services;
use redis::aio::ConnectionManager;
use redis::streams::{StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;

use super::publish::Publisher;
use crate::realtime::Hub;

const GROUP: &str = "engine";

struct Consumer {
    name: String,
    streams_set: String,
    conn: ConnectionManager,
    grouped: HashSet<String>,
    last_claim: Instant,
}

pub async fn run(svc: Arc<Services>, hub: Arc<Hub>, queue: RedisQueue) {
    // A connection of its own: XREADGROUP ... BLOCK holds its connection while it waits, and on
    // the shared multiplexed one it would stall every XADD of ingest and every health check.
    let conn = loop {
        match own_connection(&svc).await {
            Ok(conn) => break conn,
            Err(e) => {
                tracing::warn!(error = %e, "stream worker cannot connect to Redis; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    let mut c = Consumer {
        name: format!("worker-{}", uuid::Uuid::new_v4().simple()),
        streams_set: queue.streams_set().to_string(),
        conn,
        grouped: HashSet::new(),
        last_claim: Instant::now() - Duration::from_secs(3600),
    };
    let publisher = Publisher::start(svc.clone(), hub);
    loop {
        if let Err(e) = step(&svc, &publisher, &mut c).await {
            if e.to_string().contains("NOGROUP") {
                tracing::warn!("consumer group missing (Redis restarted?); recreating");
                c.grouped.clear();
            } else {
                tracing::warn!(error = %e, "stream worker step failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn own_connection(svc: &Services) -> redis::RedisResult<ConnectionManager> {
    let url = svc.settings.redis_url.clone().unwrap_or_default();
    redis::Client::open(url)?.get_connection_manager().await
}

async fn step(
    svc: &Services,
    publisher: &Publisher,
    c: &mut Consumer,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let projects: Vec<String> = c.conn.smembers(&c.streams_set).await?;
    if projects.is_empty() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        return Ok(());
    }
    let keys: Vec<String> = projects.iter().map(|p| stream_key(p)).collect();
    for key in &keys {
        if !c.grouped.contains(key) {
            let created: redis::RedisResult<()> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(key)
                .arg(GROUP)
                .arg("0")
                .arg("MKSTREAM")
                .query_async(&mut c.conn)
                .await;
            match created {
                Ok(()) => {}
                Err(e) if e.to_string().contains("BUSYGROUP") => {}
                Err(e) => return Err(e.into()),
            }
            c.grouped.insert(key.clone());
        }
    }
    // Entries pending longer than the claim idle time belong to a consumer presumed dead.
    let idle = svc.settings.stream_claim_idle;
    if c.last_claim.elapsed() > idle.min(Duration::from_secs(10)) {
        c.last_claim = Instant::now();
        for key in &keys {
            // One stream's error (its group gone, a bad entry) must not stop the others' claims.
            if let Err(e) = claim_abandoned(svc, publisher, c, key, idle).await {
                tracing::warn!(stream = %key, error = %e, "claiming abandoned entries failed; the other streams go on");
                if e.to_string().contains("NOGROUP") {
                    c.grouped.remove(key);
                }
            }
        }
    }
    let ids: Vec<&str> = keys.iter().map(|_| ">").collect();
    let opts = StreamReadOptions::default().group(GROUP, &c.name).count(64).block(200);
    let reply: StreamReadReply = c.conn.xread_options(&keys, &ids, &opts).await?;
    let batch: Vec<(String, Vec<StreamId>)> = reply.keys.into_iter().map(|k| (k.key, k.ids)).collect();
    if !batch.is_empty() {
        handle(svc, publisher, c, batch).await?;
    }
    Ok(())
}

/// Takes over the entries of `key` that a consumer presumed dead left pending.
async fn claim_abandoned(
    svc: &Services,
    publisher: &Publisher,
    c: &mut Consumer,
    key: &str,
    idle: Duration,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let reply: StreamAutoClaimReply = c
        .conn
        .xautoclaim_options(
            key,
            GROUP,
            &c.name,
            idle.as_millis() as usize,
            "0-0",
            StreamAutoClaimOptions::default().count(super::BATCH),
        )
        .await?;
    if !reply.claimed.is_empty() {
        tracing::info!(stream = %key, count = reply.claimed.len(), "claimed entries a dead consumer left");
        handle(svc, publisher, c, vec![(key.to_string(), reply.claimed)]).await?;
    }
    Ok(())
}

/// Runs the engine over the entries, publishes, then acknowledges and deletes them. A poison
/// event is parked by the engine and acknowledged like the others; only events kept because the
/// database did not answer stay pending (claimed again after the idle time).
async fn handle(
    svc: &Services,
    publisher: &Publisher,
    c: &mut Consumer,
    entries: Vec<(String, Vec<StreamId>)>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut events = Vec::new();
    for (key, ids) in &entries {
        let project_id = key.trim_start_matches("project:").trim_end_matches(":events").to_string();
        for id in ids {
            if let Some(event_id) = id.get::<String>("event") {
                events.push(QueuedEvent { project_id: project_id.clone(), event_id });
            }
        }
    }
    let mut keep: HashSet<String> = HashSet::new();
    for chunk in events.chunks(super::BATCH) {
        let outcome = engine::poison::process(svc, chunk).await;
        publisher.publish(svc, outcome.deliveries).await;
        keep.extend(outcome.retry_later.into_iter().map(|q| q.event_id));
    }
    let mut pipe = redis::pipe();
    for (key, ids) in &entries {
        let ids: Vec<&str> = ids
            .iter()
            .filter(|i| i.get::<String>("event").is_none_or(|e| !keep.contains(&e)))
            .map(|i| i.id.as_str())
            .collect();
        if !ids.is_empty() {
            pipe.cmd("XACK").arg(key).arg(GROUP).arg(&ids).ignore();
            pipe.cmd("XDEL").arg(key).arg(&ids).ignore();
        }
    }
    pipe.query_async::<()>(&mut c.conn).await?;
    Ok(())
}
