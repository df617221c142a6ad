//! Redis Streams: one stream per project, `project:{projectId}:events`, each entry carrying an
//! event id. The set `notify:event-streams` names the streams that exist, for the consumers.

use redis::aio::ConnectionManager;

use super::QueuedEvent;
use crate::error::Result;

/// The set of project ids that have an event stream.
pub const STREAMS_SET: &str = "notify:event-streams";

pub fn stream_key(project_id: &str) -> String {
    format!("project:{project_id}:events")
}

#[derive(Clone)]
pub struct RedisQueue {
    conn: ConnectionManager,
}

impl RedisQueue {
    pub fn new(conn: ConnectionManager) -> Self {
        RedisQueue { conn }
    }

    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Appends the events to their projects' streams in one round trip.
    pub async fn push(&self, events: &[QueuedEvent]) -> Result<()> {
        let mut pipe = redis::pipe();
        let mut projects: Vec<&str> = Vec::new();
        for e in events {
            pipe.cmd("XADD").arg(stream_key(&e.project_id)).arg("*").arg("event").arg(&e.event_id).ignore();
            if !projects.contains(&e.project_id.as_str()) {
                projects.push(&e.project_id);
            }
        }
        pipe.cmd("SADD").arg(STREAMS_SET).arg(&projects).ignore();
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }
}
