//! One socket's conversation after `pusher:connection_established`: pings, subscriptions (public,
//! `private-`, `presence-`, each checked against the app's secret) and client events. Every reply
//! is returned as frames for the socket loop to send; bad input answers `pusher:error`, never a
//! panic or a dropped connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use domain::realtime::signing::{valid_channel_name, verify_channel_auth};
use domain::realtime::RealtimeApp;
use serde_json::Value;

use super::hub::{Conn, Hub};
use super::protocol::{self, code, Incoming, MemberData, SubscribeData};

/// The largest client event Pusher passes on.
const MAX_CLIENT_EVENT_BYTES: usize = 10 * 1024;

pub(super) struct Session {
    hub: Arc<Hub>,
    app: Arc<RealtimeApp>,
    /// The key the client connected with; a channel auth may name it or the app's realtime key.
    key: Box<str>,
    conn: Arc<Conn>,
    /// The channels this socket is on.
    channels: HashMap<Box<str>, ChannelRole>,
    client_events: (Instant, u32),
}

/// How the socket is on a channel: presence channels carry the user it joined as.
enum ChannelRole {
    Plain,
    Member(Box<str>),
}

impl Session {
    pub fn new(hub: Arc<Hub>, app: Arc<RealtimeApp>, key: &str, conn: Arc<Conn>) -> Session {
        Session { hub, app, key: key.into(), conn, channels: HashMap::new(), client_events: (Instant::now(), 0) }
    }

    /// Handles one text message; answers the frames to send back.
    pub async fn handle(&mut self, text: &str) -> Vec<Utf8Bytes> {
        let Ok(msg) = serde_json::from_str::<Incoming>(text) else {
            return vec![protocol::error(None, "messages are JSON objects with an event name")];
        };
        match msg.event.as_str() {
            "pusher:ping" => vec![protocol::pong()],
            "pusher:pong" => vec![],
            "pusher:subscribe" => self.subscribe(msg.data).await,
            "pusher:unsubscribe" => {
                if let Some(sub) = SubscribeData::parse(msg.data) {
                    if self.channels.remove(sub.channel.as_str()).is_some() {
                        self.leave(&sub.channel).await;
                    }
                }
                vec![]
            }
            "pusher:signin" => vec![protocol::error(None, "user authentication (signin) is not supported")],
            e if e.starts_with("client-") => self.client_event(msg).await,
            // Pusher ignores events it does not know.
            _ => vec![],
        }
    }

    async fn subscribe(&mut self, data: Value) -> Vec<Utf8Bytes> {
        let Some(sub) = SubscribeData::parse(data) else {
            return vec![protocol::error(None, "pusher:subscribe takes data.channel")];
        };
        let channel = sub.channel.as_str();
        if !valid_channel_name(channel) {
            return vec![protocol::error(None, "invalid channel name: use 1 to 164 of letters, digits and _-=@,.;")];
        }
        if self.channels.contains_key(channel) {
            return vec![];
        }
        if self.channels.len() >= self.hub.config.max_channels_per_socket {
            return vec![protocol::error(None, "too many channels on one connection")];
        }
        if channel.starts_with("private-encrypted-") {
            return refuse(channel, "encrypted channels are not supported");
        }
        let presence = channel.starts_with("presence-");
        if presence || channel.starts_with("private-") {
            let channel_data = if presence { sub.channel_data.as_deref() } else { None };
            if presence && channel_data.is_none() {
                return refuse(channel, "presence channels need channel_data");
            }
            let keys = [&*self.key, self.app.key.as_str()];
            let auth = sub.auth.as_deref().unwrap_or_default();
            if !verify_channel_auth(auth, &keys, &self.app.secret, &self.conn.socket_id, channel, channel_data) {
                return refuse(channel, &format!("Invalid signature: the auth for {channel} does not match"));
            }
        }
        let project_id = self.app.project_id.as_str();
        if presence {
            let Some(member) = sub.channel_data.as_deref().and_then(MemberData::parse) else {
                return refuse(channel, "channel_data must be JSON with a user_id");
            };
            let user_id: Box<str> = member.user_id.as_str().into();
            let snapshot = self.hub.presence_join(project_id, channel, &self.conn, member).await;
            self.channels.insert(channel.into(), ChannelRole::Member(user_id));
            vec![protocol::subscription_succeeded(channel, &snapshot)]
        } else {
            self.hub.join(project_id, channel, &self.conn, None).await;
            self.channels.insert(channel.into(), ChannelRole::Plain);
            vec![protocol::subscription_succeeded(channel, "{}")]
        }
    }

    /// `client-*` events: only when the project enabled them, on a private or presence channel
    /// this socket is on, within the rate limit; passed to the channel's other sockets.
    async fn client_event(&mut self, msg: Incoming) -> Vec<Utf8Bytes> {
        if !self.app.client_events {
            return vec![protocol::error(None, "client events are not enabled for this app")];
        }
        let Some(channel) = msg.channel.as_deref() else {
            return vec![protocol::error(None, "a client event needs a channel")];
        };
        let user_id = match self.channels.get(channel) {
            None => return vec![protocol::error(None, "subscribe to the channel before sending client events on it")],
            Some(ChannelRole::Member(u)) => Some(u.clone()),
            Some(ChannelRole::Plain) => None,
        };
        if !(channel.starts_with("private-") || channel.starts_with("presence-")) {
            return vec![protocol::error(None, "client events are only allowed on private and presence channels")];
        }
        if msg.event.len() > 200 {
            return vec![protocol::error(None, "event names are at most 200 characters")];
        }
        if !self.take_client_event_budget() {
            return vec![protocol::error(Some(code::CLIENT_EVENT_RATE_LIMIT), "client event rejected: rate limit")];
        }
        let frame = protocol::client_event(channel, &msg.event, &msg.data, user_id.as_deref());
        if frame.len() > MAX_CLIENT_EVENT_BYTES {
            return vec![protocol::error(None, "client events are at most 10 KB")];
        }
        self.hub.publish_frame(&self.app.project_id, channel, frame, Some(&self.conn.socket_id)).await;
        vec![]
    }

    fn take_client_event_budget(&mut self) -> bool {
        let (started, count) = &mut self.client_events;
        if started.elapsed() >= Duration::from_secs(1) {
            *started = Instant::now();
            *count = 0;
        }
        *count += 1;
        *count <= self.hub.config.client_events_per_second
    }

    async fn leave(&self, channel: &str) {
        let project_id = self.app.project_id.as_str();
        if let Some(member) = self.hub.leave(project_id, channel, self.conn.id).await {
            self.hub.presence_left(project_id, channel, &member).await;
        }
    }

    /// Leaves every channel; the socket is gone.
    pub async fn leave_all(&mut self) {
        for (channel, _) in std::mem::take(&mut self.channels) {
            self.leave(&channel).await;
        }
    }
}

/// A refused subscription: `pusher:error` for the connection and `pusher:subscription_error` on
/// the channel, which pusher-js raises to the channel's listeners.
fn refuse(channel: &str, message: &str) -> Vec<Utf8Bytes> {
    vec![protocol::error(Some(code::UNAUTHORIZED), message), protocol::subscription_error(channel, message, 401)]
}
