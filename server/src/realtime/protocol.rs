//! The Pusher Channels protocol, version 7, on the wire: the frames the server sends, the messages
//! clients send, and the error and close codes. Building a frame serializes it once; the result is
//! cheap to clone and share between sockets.

use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The Pusher error and close codes this server uses.
pub mod code {
    /// The key names no active project. (4000–4099: the client must not reconnect.)
    pub const APP_NOT_FOUND: u16 = 4001;
    /// The app's project was suspended or the socket's key revoked while it was open.
    pub const APP_DISABLED: u16 = 4003;
    pub const INVALID_VERSION_FORMAT: u16 = 4006;
    pub const UNSUPPORTED_PROTOCOL: u16 = 4007;
    pub const NO_PROTOCOL: u16 = 4008;
    pub const UNAUTHORIZED: u16 = 4009;
    /// The server cannot serve now; reconnect after a back-off (4100–4199).
    pub const OVER_CAPACITY: u16 = 4100;
    /// Reconnect at once (4200–4299).
    pub const RECONNECT: u16 = 4200;
    pub const PONG_NOT_RECEIVED: u16 = 4201;
    /// Client event rejected by the rate limit (4300–4399).
    pub const CLIENT_EVENT_RATE_LIMIT: u16 = 4301;
}

/// A frame's `data`: a JSON string (as Pusher sends event data) or a JSON value.
#[derive(Serialize)]
#[serde(untagged)]
enum Data<'a> {
    Str(&'a str),
    Json(&'a Value),
}

#[derive(Serialize)]
struct Frame<'a> {
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    data: Data<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
}

fn frame(event: &str, channel: Option<&str>, data: Data<'_>, user_id: Option<&str>) -> Utf8Bytes {
    let f = Frame { event, channel, data, user_id };
    // Serializing borrowed strings and a JSON value cannot fail.
    serde_json::to_string(&f).unwrap_or_default().into()
}

/// An event on a channel; `data` is the JSON string the publisher gave.
pub fn event(channel: &str, event_name: &str, data: &str) -> Utf8Bytes {
    frame(event_name, Some(channel), Data::Str(data), None)
}

/// A `client-*` event passed on as the sender gave its data; `user_id` on presence channels.
pub fn client_event(channel: &str, event_name: &str, data: &Value, user_id: Option<&str>) -> Utf8Bytes {
    frame(event_name, Some(channel), Data::Json(data), user_id)
}

pub fn connection_established(socket_id: &str, activity_timeout_secs: u64) -> Utf8Bytes {
    let data = serde_json::json!({ "socket_id": socket_id, "activity_timeout": activity_timeout_secs }).to_string();
    frame("pusher:connection_established", None, Data::Str(&data), None)
}

pub fn pong() -> Utf8Bytes {
    Utf8Bytes::from_static(r#"{"event":"pusher:pong","data":"{}"}"#)
}

pub fn ping() -> Utf8Bytes {
    Utf8Bytes::from_static(r#"{"event":"pusher:ping","data":"{}"}"#)
}

/// `pusher:error`, whose data is an object (not a string) in the protocol.
pub fn error(code: Option<u16>, message: &str) -> Utf8Bytes {
    frame("pusher:error", None, Data::Json(&serde_json::json!({ "code": code, "message": message })), None)
}

/// What pusher-js raises on the channel when a subscription is refused.
pub fn subscription_error(channel: &str, message: &str, status: u16) -> Utf8Bytes {
    let data = serde_json::json!({ "type": "AuthError", "error": message, "status": status });
    frame("pusher:subscription_error", Some(channel), Data::Json(&data), None)
}

/// `data` is `{}` for public and private channels, the presence snapshot for presence channels.
pub fn subscription_succeeded(channel: &str, data: &str) -> Utf8Bytes {
    frame("pusher_internal:subscription_succeeded", Some(channel), Data::Str(data), None)
}

/// `member` is the member's `{"user_id":…,"user_info":…}` JSON.
pub fn member_added(channel: &str, member: &str) -> Utf8Bytes {
    frame("pusher_internal:member_added", Some(channel), Data::Str(member), None)
}

pub fn member_removed(channel: &str, user_id: &str) -> Utf8Bytes {
    let data = serde_json::json!({ "user_id": user_id }).to_string();
    frame("pusher_internal:member_removed", Some(channel), Data::Str(&data), None)
}

/// A message from a client.
#[derive(Debug, Deserialize)]
pub struct Incoming {
    pub event: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub data: Value,
}

/// The data of `pusher:subscribe` and `pusher:unsubscribe`.
#[derive(Debug, Default, Deserialize)]
pub struct SubscribeData {
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub auth: Option<String>,
    #[serde(default)]
    pub channel_data: Option<String>,
}

impl SubscribeData {
    /// Some clients send `data` as a JSON string instead of an object.
    pub fn parse(data: Value) -> Option<SubscribeData> {
        match data {
            Value::String(s) => serde_json::from_str(&s).ok(),
            other => serde_json::from_value(other).ok(),
        }
    }
}

/// A presence member as the auth's `channel_data` names it: `user_id` (a string or a number) and
/// optional `user_info`.
pub struct MemberData {
    pub user_id: String,
    /// `{"user_id":…,"user_info":…}`, as member_added carries it.
    pub json: String,
    pub user_info: Value,
}

impl MemberData {
    pub fn parse(channel_data: &str) -> Option<MemberData> {
        let v: Value = serde_json::from_str(channel_data).ok()?;
        let user_id = match v.get("user_id")? {
            Value::String(s) if !s.is_empty() && s.len() <= 128 => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let user_info = v.get("user_info").cloned().unwrap_or(Value::Null);
        let json = serde_json::json!({ "user_id": user_id, "user_info": user_info }).to_string();
        Some(MemberData { user_id, json, user_info })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_data_as_pusher_does() {
        let f = event("private-user-1", "notification", r#"{"id":"n1"}"#);
        let v: Value = serde_json::from_str(&f).unwrap();
        assert_eq!(v["data"], r#"{"id":"n1"}"#);
        let ce: Value = serde_json::from_str(&connection_established("1.2", 120)).unwrap();
        let inner: Value = serde_json::from_str(ce["data"].as_str().unwrap()).unwrap();
        assert_eq!(inner, serde_json::json!({"socket_id": "1.2", "activity_timeout": 120}));
        let e: Value = serde_json::from_str(&error(Some(4009), "no")).unwrap();
        assert_eq!(e["data"]["code"], 4009);
    }

    #[test]
    fn members_take_string_or_number_ids() {
        assert_eq!(MemberData::parse(r#"{"user_id":10}"#).unwrap().user_id, "10");
        assert_eq!(MemberData::parse(r#"{"user_id":"u","user_info":{"n":1}}"#).unwrap().user_info["n"], 1);
        assert!(MemberData::parse(r#"{"user_info":{}}"#).is_none());
        assert!(MemberData::parse("not json").is_none());
    }
}
