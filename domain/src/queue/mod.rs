//! How accepted events move to the workers: in-process by default, Redis Streams
//! (`project:{projectId}:events`) when REDIS_URL is set. The events table stays the truth; a
//! queue only carries ids.

pub mod memory;
pub mod redis_streams;

use crate::db::Db;
use crate::error::Result;

/// An accepted event waiting for the rule engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    pub project_id: String,
    pub event_id: String,
}

#[derive(Clone)]
pub enum EventQueue {
    Memory(memory::MemoryQueue),
    Redis(redis_streams::RedisQueue),
}

impl EventQueue {
    /// Hands committed events on. With Redis, the events are then marked as handed on, so the
    /// sweep only re-sends what a crash or an outage left behind.
    pub async fn push(&self, db: &Db, events: &[QueuedEvent]) -> Result<()> {
        match self {
            EventQueue::Memory(q) => {
                q.push(events);
                Ok(())
            }
            EventQueue::Redis(q) => {
                q.push(events).await?;
                mark_enqueued(db, events).await
            }
        }
    }

    pub fn is_redis(&self) -> bool {
        matches!(self, EventQueue::Redis(_))
    }
}

async fn mark_enqueued(db: &Db, events: &[QueuedEvent]) -> Result<()> {
    for chunk in events.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("UPDATE events SET enqueued = 1 WHERE id IN ({})", placeholders.join(", "));
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q.bind(&e.event_id);
        }
        q.execute(db.writer()).await?;
    }
    Ok(())
}
