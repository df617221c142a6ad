//! Presence channels: who is on a channel. Members are kept per socket (one user may have several);
//! the member list is this process's, or with Redis every process's. `member_added` and
//! `member_removed` go out when a user's first socket joins and their last one leaves.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::hub::{channel_key, Conn, Hub, Member};
use super::protocol::{self, MemberData};

impl Hub {
    /// Subscribes a socket to a presence channel as `data`; answers the `subscription_succeeded`
    /// data (`{"presence":{ids,hash,count}}`) and tells the others when the user is new there.
    pub(crate) async fn presence_join(
        &self,
        project_id: &str,
        channel: &str,
        conn: &Arc<Conn>,
        data: MemberData,
    ) -> String {
        let member = Arc::new(Member { socket_id: conn.socket_id.clone(), data });
        self.join(project_id, channel, conn, Some(member.clone())).await;
        let members = self.members(project_id, channel, Some(&member)).await;
        let already_here =
            members.iter().any(|m| m.socket_id != member.socket_id && m.data.user_id == member.data.user_id);
        if !already_here {
            let frame = protocol::member_added(channel, &member.data.json);
            self.publish_frame(project_id, channel, frame, Some(&conn.socket_id)).await;
        }
        snapshot(&members)
    }

    /// After a presence member's socket left the channel: tells the others when that was the
    /// user's last socket there.
    pub(crate) async fn presence_left(&self, project_id: &str, channel: &str, member: &Member) {
        if let Some(cluster) = &self.cluster {
            if let Err(e) = cluster.presence_remove(&channel_key(project_id, channel), &member.entry()).await {
                tracing::warn!(error = %e, "could not remove a presence member from Redis");
            }
        }
        let members = self.members(project_id, channel, None).await;
        if !members.iter().any(|m| m.data.user_id == member.data.user_id) {
            let frame = protocol::member_removed(channel, &member.data.user_id);
            self.publish_frame(project_id, channel, frame, None).await;
        }
    }

    /// The members of a presence channel, one per socket; `adding` is recorded in Redis first.
    pub(crate) async fn members(&self, project_id: &str, channel: &str, adding: Option<&Member>) -> Vec<Arc<Member>> {
        let key = channel_key(project_id, channel);
        if let Some(cluster) = &self.cluster {
            match cluster.presence_members(&key, adding.map(Member::entry)).await {
                Ok(entries) => return entries.iter().filter_map(|e| parse_entry(e)).collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "could not read presence members from Redis; answering this process's")
                }
            }
        }
        self.channels.get(&key).map(|c| c.members.values().cloned().collect()).unwrap_or_default()
    }

    /// How many distinct users are on a presence channel.
    pub(crate) async fn user_count(&self, project_id: &str, channel: &str) -> usize {
        let members = self.members(project_id, channel, None).await;
        members.iter().map(|m| m.data.user_id.as_str()).collect::<HashSet<_>>().len()
    }

    /// The distinct user ids on a presence channel.
    pub(crate) async fn user_ids(&self, project_id: &str, channel: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        let members = self.members(project_id, channel, None).await;
        members.iter().filter(|m| seen.insert(m.data.user_id.clone())).map(|m| m.data.user_id.clone()).collect()
    }
}

/// `{socket_id}|{member json}` back into a member.
fn parse_entry(entry: &str) -> Option<Arc<Member>> {
    let (socket_id, json) = entry.split_once('|')?;
    Some(Arc::new(Member { socket_id: socket_id.into(), data: MemberData::parse(json)? }))
}

/// The presence data of `subscription_succeeded`: each user once.
fn snapshot(members: &[Arc<Member>]) -> String {
    let mut ids = Vec::new();
    let mut hash = Map::new();
    for m in members {
        if !hash.contains_key(&m.data.user_id) {
            ids.push(Value::String(m.data.user_id.clone()));
            hash.insert(m.data.user_id.clone(), m.data.user_info.clone());
        }
    }
    let count = ids.len();
    serde_json::json!({ "presence": { "ids": ids, "hash": hash, "count": count } }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_lists_each_user_once() {
        let m = |s: &str, json: &str| Arc::new(Member { socket_id: s.into(), data: MemberData::parse(json).unwrap() });
        let members = [
            m("1.1", r#"{"user_id":"a","user_info":{"n":1}}"#),
            m("1.2", r#"{"user_id":"a"}"#),
            m("1.3", r#"{"user_id":"b"}"#),
        ];
        let v: Value = serde_json::from_str(&snapshot(&members)).unwrap();
        assert_eq!(v["presence"]["ids"], serde_json::json!(["a", "b"]));
        assert_eq!(v["presence"]["count"], 2);
        assert_eq!(v["presence"]["hash"]["a"]["n"], 1);
        assert!(parse_entry("1.1|{\"user_id\":\"x\"}").is_some());
        assert!(parse_entry("garbage").is_none());
    }
}
