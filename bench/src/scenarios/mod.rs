//! The scenarios: one file each, all with the same small shape ([`Scenario`]), listed once in
//! [`all`]. To add one, write a file here, implement the trait, and add it to the list; `--only`
//! and `--list` pick it up by its [`Scenario::name`].

use std::future::Future;
use std::pin::Pin;

use crate::http::Target;
use crate::load::LoadSpec;
use crate::report::Row;
use crate::setup::Fixture;

mod analytics;
mod baseline;
mod batch;
mod fanout;
mod frame;
mod ingest;
mod sockets;
mod trigger;
mod webhooks;

/// What every scenario gets: the server's address, a project with a key pair, and the load
/// settings from the command line.
pub struct Context {
    pub target: Target,
    pub fixture: Fixture,
    pub load: LoadSpec,
    /// `--rate`: what the open-loop latency scenarios offer per second.
    pub rate: u64,
    /// `--sockets`: how many idle WebSockets the memory scenario opens.
    pub sockets: usize,
    /// The server process, for its memory figures.
    pub server_pid: Option<u32>,
    /// This process's open-file limit (raised at start).
    pub open_files: u64,
}

/// A boxed future, so scenarios can live behind `dyn Scenario`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One measurement. It may add its own fixtures through the public API, must stay within its
/// time bound (`ctx.load`) and only talk to `ctx.target`.
pub trait Scenario: Send + Sync {
    /// The `--only` name: short, lowercase.
    fn name(&self) -> &'static str;
    /// One line for `--list`.
    fn about(&self) -> &'static str;
    /// Runs and returns the rows for the results table.
    fn run<'a>(&'a self, ctx: &'a Context) -> BoxFuture<'a, crate::Result<Vec<Row>>>;
}

/// Every scenario, in run order. The baseline goes first: later ratios divide by it. `sockets`
/// comes next, while the server's heap is still small: after the load scenarios the allocator
/// holds freed memory that new sockets would reuse without RSS growing, which would flatter the
/// per-socket figure. `frame` waits for the worker to finish the events `ingest` and `batch`
/// left queued before it measures. `webhooks` comes late: it adds a webhook endpoint to the
/// project, which later notifications would queue messages for. `analytics` is last: it adds ten
/// rules and a million notifications.
pub fn all() -> Vec<Box<dyn Scenario>> {
    vec![
        Box::new(baseline::Baseline),
        Box::new(sockets::Sockets),
        Box::new(ingest::Ingest),
        Box::new(batch::Batch),
        Box::new(frame::FrameLatency),
        Box::new(trigger::TriggerLatency),
        Box::new(fanout::Fanout),
        Box::new(webhooks::Webhooks),
        Box::new(analytics::Analytics),
    ]
}

/// The scenarios `only` names, in run order; an unknown name is an error listing the known ones.
pub fn select(only: Option<&[String]>) -> Result<Vec<Box<dyn Scenario>>, String> {
    let every = all();
    let Some(only) = only else { return Ok(every) };
    let known: Vec<&str> = every.iter().map(|s| s.name()).collect();
    if let Some(bad) = only.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(format!("unknown scenario `{bad}`; known: {}", known.join(", ")));
    }
    Ok(every.into_iter().filter(|s| only.iter().any(|n| n == s.name())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_selectable() {
        let names: Vec<&str> = all().iter().map(|s| s.name()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        let picked = select(Some(&["batch".to_string(), "baseline".to_string()])).unwrap();
        let picked: Vec<&str> = picked.iter().map(|s| s.name()).collect();
        assert_eq!(picked, ["baseline", "batch"]);
        assert!(select(Some(&["nope".to_string()])).is_err());
    }
}
