//! Rule evaluation in separate processes, bounded in time and memory (docs/ARCHITECTURE.md,
//! "Fault isolation"). A rule's CEL condition and minijinja templates are code a tenant wrote:
//! whatever they do, they run in a `server rule-sandbox` child process that the engine kills
//! when its answer is later than the budget, and that ends itself when it would hold more
//! memory than its limit. The server's own memory and threads are never at stake, and nothing
//! of it runs on the async runtime: the engine only writes a request to a pipe and awaits the
//! answer.
//!
//! A batch of events goes to one process in one request. When that request fails (late, or the
//! process died), each event of it is tried alone with its own budget, so only the event that
//! broke the bound fails.

pub mod alloc;
pub mod child;
pub mod protocol;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Semaphore;

use protocol::{read_frame_async, write_frame_async, Answer, Request};
pub use protocol::{EventIn, EventOut, MatchOut, RuleText};

use crate::error::{Error, Result};

/// The bounds of rule evaluation (RULE_EVAL_BUDGET_MS, RULE_EVAL_MEMORY_MB,
/// RULE_SANDBOX_PROCESSES).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Wall time one event's evaluation may take (a batch gets up to four times this).
    pub budget: Duration,
    /// Memory a sandbox process may hold.
    pub memory_bytes: usize,
    /// Sandbox processes kept; requests beyond wait for one.
    pub processes: usize,
    /// The program to run as `<exe> rule-sandbox`; the running executable when `None`.
    pub exe: Option<PathBuf>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            budget: Duration::from_millis(250),
            memory_bytes: 256 << 20,
            processes: std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8),
            exe: None,
        }
    }
}

/// How a request to a sandbox went wrong.
#[derive(Debug)]
enum Failure {
    /// The evaluation broke a bound or crashed; the text says which, for the event's reason.
    Bound(String),
    /// No sandbox process could be started: a fault of this node, not of the event.
    Unavailable(String),
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

/// The pool of sandbox processes; see the module docs.
pub struct Sandbox {
    limits: Limits,
    idle: Mutex<Vec<Worker>>,
    slots: Semaphore,
}

impl Sandbox {
    pub fn new(limits: Limits) -> Self {
        let slots = Semaphore::new(limits.processes.max(1));
        Sandbox { limits, idle: Mutex::new(Vec::new()), slots }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Evaluates each event against its rule set (`events[i].set` indexes `sets`): one answer
    /// per event, `Err(reason)` for an event whose evaluation broke a bound. `Err` for the whole
    /// call only when no sandbox could run at all.
    pub async fn evaluate(
        &self,
        sets: &[&[RuleText]],
        events: &[EventIn<'_>],
    ) -> Result<Vec<std::result::Result<EventOut, String>>> {
        if events.is_empty() {
            return Ok(vec![]);
        }
        let budget = self.limits.budget * (events.len().min(4) as u32);
        match self.evaluate_once(sets, events, budget).await {
            Ok(outs) => return Ok(outs.into_iter().map(Ok).collect()),
            Err(Failure::Unavailable(e)) => return Err(Error::Internal(e)),
            Err(Failure::Bound(reason)) if events.len() == 1 => return Ok(vec![Err(reason)]),
            Err(Failure::Bound(_)) => {}
        }
        // One of them broke a bound: each alone, so only that one fails.
        let mut outs = Vec::with_capacity(events.len());
        for e in events {
            let one = std::slice::from_ref(e);
            match self.evaluate_once(sets, one, self.limits.budget).await {
                Ok(mut out) => outs.push(Ok(out.pop().unwrap_or_default())),
                Err(Failure::Bound(reason)) => outs.push(Err(reason)),
                Err(Failure::Unavailable(e)) => return Err(Error::Internal(e)),
            }
        }
        Ok(outs)
    }

    async fn evaluate_once(
        &self,
        sets: &[&[RuleText]],
        events: &[EventIn<'_>],
        budget: Duration,
    ) -> std::result::Result<Vec<EventOut>, Failure> {
        let request = Request::Evaluate {
            sets: sets.iter().map(|s| std::borrow::Cow::Borrowed(*s)).collect(),
            events: events
                .iter()
                .map(|e| EventIn {
                    set: e.set,
                    event_type: std::borrow::Cow::Borrowed(&e.event_type),
                    payload: std::borrow::Cow::Borrowed(&e.payload),
                    source: e.source.as_deref().map(std::borrow::Cow::Borrowed),
                })
                .collect(),
        };
        match self.call(&request, budget).await? {
            Answer::Evaluated(outs) if outs.len() == events.len() => Ok(outs),
            _ => Err(Failure::Bound("the rule sandbox gave a malformed answer".into())),
        }
    }

    /// Checks, in a sandbox, that a rule compiles; the error names the field. A rule whose
    /// compilation itself breaks a bound is refused as too complex.
    pub async fn check(&self, rule: &RuleText) -> Result<()> {
        match self.call(&Request::Check { rule: rule.clone() }, self.limits.budget).await {
            Ok(Answer::Checked(Ok(()))) => Ok(()),
            Ok(Answer::Checked(Err((field, message)))) => Err(Error::field(&field, message)),
            Ok(_) => Err(Error::Internal("the rule sandbox gave a malformed answer".into())),
            Err(Failure::Bound(reason)) => {
                Err(Error::field("condition", format!("the rule is too complex to accept ({reason})")))
            }
            Err(Failure::Unavailable(e)) => Err(Error::Internal(e)),
        }
    }

    /// One request to one process. A process that answered goes back to the pool; one that was
    /// late is killed, one that died is reaped, and either is replaced on the next call.
    async fn call(&self, request: &Request<'_>, budget: Duration) -> std::result::Result<Answer, Failure> {
        let body =
            serde_json::to_vec(request).map_err(|e| Failure::Unavailable(format!("rule sandbox request: {e}")))?;
        let _slot = self.slots.acquire().await.map_err(|_| Failure::Unavailable("rule sandbox closed".into()))?;
        let idle = self.idle.lock().expect("sandbox pool").pop();
        let mut worker = match idle {
            Some(w) => w,
            None => self.spawn()?,
        };
        let exchange = async {
            write_frame_async(&mut worker.stdin, &body).await?;
            read_frame_async(&mut worker.stdout).await
        };
        match tokio::time::timeout(budget, exchange).await {
            Ok(Ok(answer)) => match serde_json::from_slice::<Answer>(&answer) {
                Ok(answer) => {
                    self.idle.lock().expect("sandbox pool").push(worker);
                    Ok(answer)
                }
                Err(_) => Err(Failure::Bound("the rule sandbox gave a malformed answer".into())),
            },
            Ok(Err(_)) => Err(Failure::Bound(died(worker).await)),
            Err(_) => {
                let _ = worker.child.start_kill();
                let _ = worker.child.wait().await;
                metrics::counter!("rule_sandbox_killed_total", "reason" => "time").increment(1);
                Err(Failure::Bound(format!("rule evaluation took longer than its budget of {} ms", budget.as_millis())))
            }
        }
    }

    fn spawn(&self) -> std::result::Result<Worker, Failure> {
        let exe = match &self.limits.exe {
            Some(exe) => exe.clone(),
            None => std::env::current_exe()
                .map_err(|e| Failure::Unavailable(format!("rule sandbox: no executable: {e}")))?,
        };
        let mut child = Command::new(&exe)
            .arg("rule-sandbox")
            .env(child::MEMORY_ENV, self.limits.memory_bytes.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Failure::Unavailable(format!("rule sandbox: cannot start {}: {e}", exe.display())))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(Failure::Unavailable("rule sandbox: no pipes".into()));
        };
        Ok(Worker { child, stdin, stdout })
    }
}

/// Why a sandbox process stopped answering, from its exit status.
async fn died(mut worker: Worker) -> String {
    drop(worker.stdin);
    let status = match tokio::time::timeout(Duration::from_secs(1), worker.child.wait()).await {
        Ok(Ok(status)) => Some(status),
        _ => {
            let _ = worker.child.start_kill();
            None
        }
    };
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) if s.code() == Some(alloc::OVER_LIMIT_EXIT) => {
            metrics::counter!("rule_sandbox_killed_total", "reason" => "memory").increment(1);
            "rule evaluation went over its memory limit".to_string()
        }
        Some(s) => {
            metrics::counter!("rule_sandbox_killed_total", "reason" => "crash").increment(1);
            match s.signal() {
                Some(sig) => format!("rule evaluation crashed (signal {sig}; too deeply nested?)"),
                None => format!("rule evaluation crashed (exit status {})", s.code().unwrap_or(-1)),
            }
        }
        None => "rule evaluation stopped answering".to_string(),
    }
}
