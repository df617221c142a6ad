//! Redis Streams: one stream per project, `project:{projectId}:events`, each entry carrying an
//! event id. The set `{namespace}notify:event-streams` names the projects whose streams this
//! deployment's consumers read.

use redis::aio::ConnectionManager;

use super::QueuedEvent;
use crate::error::Result;

/// The set of project ids that have an event stream, under the deployment's namespace.
pub fn streams_set(namespace: &str) -> String {
    format!("{namespace}notify:event-streams")
}

pub fn stream_key(project_id: &str) -> String {
    format!("project:{project_id}:events")
}

#[derive(Clone)]
pub struct RedisQueue {
    conn: ConnectionManager,
    streams_set: String,
}

impl RedisQueue {
    pub fn new(conn: ConnectionManager, namespace: &str) -> Self {
        RedisQueue { conn, streams_set: streams_set(namespace) }
    }

    /// The key of the set naming the projects with streams.
    pub fn streams_set(&self) -> &str {
        &self.streams_set
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
        pipe.cmd("SADD").arg(&self.streams_set).arg(&projects).ignore();
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await?;
        Ok(())
    }
}
