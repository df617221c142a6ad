//! `sockets`: resident memory per idle WebSocket. Opens `--sockets` connections to `/app/{key}`
//! (a bounded number in flight), each completing `pusher:connection_established`, and reads the
//! server process's `VmRSS` before and after; then subscribes every socket to one public channel
//! and reads it again. Two rows: KiB per connected socket, and KiB per socket with its
//! subscription (both against the same "before").
//!
//! Each socket is a descriptor on both sides: the open-file limit was raised at start (the server
//! inherits it) and `--sockets` is lowered to fit it, with a note. Sources beyond the first
//! [`PORTS_PER_SOURCE`] sockets bind 127.0.0.2, 127.0.0.3, ... so the ephemeral ports of one
//! source address never run out.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{BoxFuture, Context, Scenario};
use crate::load::{new_histogram, per_second};
use crate::machine::vm_rss_kib;
use crate::report::{percentiles_ms, Row};
use crate::ws::{self, Ws};

/// Handshakes in flight at once. Below the server's listen backlog (128: what
/// `tokio::net::TcpListener::bind` asks for), so the kernel drops no SYN; a dropped SYN is
/// retried after 1 s and would turn the handshake p99 into a measurement of that timer.
const IN_FLIGHT: usize = 100;
/// Each phase (connect, subscribe) must finish within this.
const PHASE_TIMEOUT: Duration = Duration::from_secs(120);
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(15);
/// Pause before reading RSS, so the server is done with what it was doing.
const SETTLE: Duration = Duration::from_secs(1);
/// Descriptors kept free for everything else the bench has open.
const FD_RESERVE: u64 = 256;
/// Sockets per source address (the ephemeral range is about 28,000 ports).
const PORTS_PER_SOURCE: usize = 20_000;

pub struct Sockets;

impl Scenario for Sockets {
    fn name(&self) -> &'static str {
        "sockets"
    }

    fn about(&self) -> &'static str {
        "--sockets idle WebSockets (connected, then on one public channel): server RSS growth \
         in KiB per socket"
    }

    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, crate::Result<Vec<Row>>> {
        Box::pin(run(ctx))
    }
}

/// The source address of socket `i`: the default (127.0.0.1) for the first
/// [`PORTS_PER_SOURCE`], then 127.0.0.2, 127.0.0.3, ...
pub fn source_for(i: usize) -> Option<Ipv4Addr> {
    if i < PORTS_PER_SOURCE {
        return None;
    }
    let extra = (1 + (i - PORTS_PER_SOURCE) / PORTS_PER_SOURCE).min(253) as u8;
    Some(Ipv4Addr::new(127, 0, 0, 1 + extra))
}

/// A short, stable error label.
fn label(e: &crate::Error) -> String {
    let text = e.to_string();
    if text.chars().count() > 100 {
        text.chars().take(100).collect::<String>() + "…"
    } else {
        text
    }
}

/// What one phase measured.
struct Phase {
    done: Vec<Ws>,
    latency_us: Histogram<u64>,
    errors: BTreeMap<String, u64>,
    elapsed: Duration,
}

/// Runs `job` for each input with at most [`IN_FLIGHT`] at a time, within [`PHASE_TIMEOUT`].
async fn phase<I, F, Fut>(inputs: Vec<I>, job: F) -> Phase
where
    I: Send + 'static,
    F: Fn(I) -> Fut,
    Fut: std::future::Future<Output = crate::Result<Ws>> + Send + 'static,
{
    let started = Instant::now();
    let deadline = started + PHASE_TIMEOUT;
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut set = JoinSet::new();
    for input in inputs {
        let permits = permits.clone();
        let work = job(input);
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let t = Instant::now();
            let r = work.await;
            (r, t.elapsed())
        });
    }
    let mut out =
        Phase { done: Vec::new(), latency_us: new_histogram(), errors: BTreeMap::new(), elapsed: Duration::ZERO };
    loop {
        match tokio::time::timeout_at(deadline.into(), set.join_next()).await {
            Ok(Some(Ok((Ok(ws), took)))) => {
                out.latency_us.saturating_record((took.as_micros() as u64).max(1));
                out.done.push(ws);
            }
            Ok(Some(Ok((Err(e), _)))) => *out.errors.entry(label(&e)).or_default() += 1,
            Ok(Some(Err(e))) => *out.errors.entry(format!("task failed: {e}")).or_default() += 1,
            Ok(None) => break,
            Err(_) => {
                let left = set.len() as u64;
                set.abort_all();
                *out.errors.entry(format!("not done within {PHASE_TIMEOUT:?}")).or_default() += left;
                break;
            }
        }
    }
    out.elapsed = started.elapsed();
    out
}

async fn rss(pid: u32) -> crate::Result<u64> {
    tokio::time::sleep(SETTLE).await;
    vm_rss_kib(pid).ok_or_else(|| format!("could not read VmRSS of the server (pid {pid})").into())
}

fn kib_per_socket(before: u64, after: u64, sockets: usize) -> Option<f64> {
    (sockets > 0).then(|| after.saturating_sub(before) as f64 / sockets as f64)
}

async fn run(ctx: &Context) -> crate::Result<Vec<Row>> {
    let pid = ctx.server_pid.ok_or("the server's process id is unknown; cannot read its memory")?;
    let mut notes = Vec::new();
    let room = ctx.open_files.saturating_sub(FD_RESERVE) as usize;
    let n = if ctx.sockets > room {
        notes.push(format!("--sockets {} lowered to {room}: the open-file limit is {}", ctx.sockets, ctx.open_files));
        room
    } else {
        ctx.sockets
    };
    if n == 0 {
        return Err(format!("no room for sockets under an open-file limit of {}", ctx.open_files).into());
    }

    let before = rss(pid).await?;

    let target = ctx.target.clone();
    let key = ctx.fixture.api_key.clone();
    let connected = phase((0..n).collect(), |i| {
        let (target, key) = (target.clone(), key.clone());
        async move {
            let (socket, _) = ws::connect(&target, &key, source_for(i), HANDSHAKE_TIMEOUT).await?;
            Ok(socket)
        }
    })
    .await;
    let established = connected.done.len();
    let after_connect = rss(pid).await?;

    let channel = format!("bench-idle-{}", crate::random_token(8).to_lowercase());
    let subscribed = phase(connected.done, |mut socket: Ws| {
        let channel = channel.clone();
        async move {
            ws::subscribe(&mut socket, &channel, None, HANDSHAKE_TIMEOUT).await?;
            Ok(socket)
        }
    })
    .await;
    let on_channel = subscribed.done.len();
    let after_subscribe = rss(pid).await?;

    let mib = |kib: u64| kib as f64 / 1024.0;
    notes.push(format!(
        "server VmRSS {:.1} MiB before, {:.1} MiB with {established} sockets, {:.1} MiB with \
         {on_channel} of them on one public channel",
        mib(before),
        mib(after_connect),
        mib(after_subscribe)
    ));
    if established < n {
        notes.push(format!("{} of {n} sockets never connected", n - established));
    }

    let mut connect_row = Row::empty(format!("sockets idle x{n}"), n);
    connect_row.ops_per_sec = Some(per_second(established as u64, connected.elapsed));
    (connect_row.p50_ms, connect_row.p99_ms) = percentiles_ms(&connected.latency_us);
    connect_row.set_errors(connected.errors);
    connect_row.other = kib_per_socket(before, after_connect, established).map(|k| format!("{k:.1} KiB/socket"));
    connect_row.notes = notes;

    let mut sub_row = Row::empty(format!("sockets idle x{n} +1 channel"), n);
    sub_row.ops_per_sec = Some(per_second(on_channel as u64, subscribed.elapsed));
    (sub_row.p50_ms, sub_row.p99_ms) = percentiles_ms(&subscribed.latency_us);
    sub_row.set_errors(subscribed.errors);
    sub_row.other = kib_per_socket(before, after_subscribe, on_channel).map(|k| format!("{k:.1} KiB/socket"));
    sub_row.notes.push(
        "ops/s: subscriptions confirmed per second; p50/p99: subscribe → \
         subscription_succeeded; KiB/socket counts the connection and the subscription"
            .into(),
    );

    // Close them all at once and give the server a moment to clean up before the next scenario.
    drop(subscribed.done);
    tokio::time::sleep(Duration::from_secs(2)).await;
    Ok(vec![connect_row, sub_row])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_spread_beyond_one_address() {
        assert_eq!(source_for(0), None);
        assert_eq!(source_for(PORTS_PER_SOURCE - 1), None);
        assert_eq!(source_for(PORTS_PER_SOURCE), Some(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(source_for(2 * PORTS_PER_SOURCE), Some(Ipv4Addr::new(127, 0, 0, 3)));
    }

    #[test]
    fn growth_per_socket() {
        assert_eq!(kib_per_socket(1000, 81_000, 10_000), Some(8.0));
        assert_eq!(kib_per_socket(1000, 900, 10), Some(0.0));
        assert_eq!(kib_per_socket(1000, 2000, 0), None);
    }
}
