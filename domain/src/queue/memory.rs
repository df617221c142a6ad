//! The in-process queue: per-project lists served in turn, so one project's flood never starves
//! another.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::QueuedEvent;

#[derive(Default)]
struct Fair {
    per_project: HashMap<String, VecDeque<String>>,
    /// Projects with work, in the order they will be served.
    turn: VecDeque<String>,
    len: usize,
}

#[derive(Clone, Default)]
pub struct MemoryQueue {
    inner: Arc<Mutex<Fair>>,
    ready: Arc<Notify>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&self, events: &[QueuedEvent]) {
        {
            let mut q = self.inner.lock().expect("queue lock");
            for e in events {
                let list = q.per_project.entry(e.project_id.clone()).or_default();
                if list.is_empty() {
                    list.push_back(e.event_id.clone());
                    q.turn.push_back(e.project_id.clone());
                } else {
                    list.push_back(e.event_id.clone());
                }
                q.len += 1;
            }
        }
        self.ready.notify_waiters();
        self.ready.notify_one();
    }

    /// The next event, taking projects in turn; `None` when empty.
    pub fn try_pop(&self) -> Option<QueuedEvent> {
        let mut q = self.inner.lock().expect("queue lock");
        let project_id = q.turn.pop_front()?;
        let list = q.per_project.get_mut(&project_id).expect("a project in turn has a list");
        let event_id = list.pop_front().expect("a project in turn has work");
        if list.is_empty() {
            q.per_project.remove(&project_id);
        } else {
            q.turn.push_back(project_id.clone());
        }
        q.len -= 1;
        Some(QueuedEvent { project_id, event_id })
    }

    /// Waits for the next event.
    pub async fn pop(&self) -> QueuedEvent {
        loop {
            let notified = self.ready.notified();
            if let Some(e) = self.try_pop() {
                return e;
            }
            notified.await;
        }
    }

    pub fn len(&self) -> usize {
        self.inner.lock().expect("queue lock").len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(p: &str, e: &str) -> QueuedEvent {
        QueuedEvent { project_id: p.into(), event_id: e.into() }
    }

    #[test]
    fn projects_take_turns() {
        let q = MemoryQueue::new();
        q.push(&[ev("a", "1"), ev("a", "2"), ev("a", "3"), ev("b", "x")]);
        let order: Vec<String> = std::iter::from_fn(|| q.try_pop()).map(|e| e.event_id).collect();
        assert_eq!(order, ["1", "x", "2", "3"]);
        assert!(q.is_empty());
    }
}
