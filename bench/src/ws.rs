//! A Pusher Channels (protocol 7) client in miniature over `tokio-tungstenite`: connect to
//! `/app/{key}` and read `pusher:connection_established`, subscribe, and read frames.
//!
//! Connections are made from our own `TcpStream` so a scenario can choose the source address
//! (127.0.0.2, ... when 127.0.0.1 runs out of ephemeral ports) and the client's buffer sizes
//! (thousands of idle sockets must not cost the load generator 128 KiB each).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::http::Target;

pub type Ws = WebSocketStream<TcpStream>;

/// The client's buffers: small reads (Pusher frames are small), writes flushed at once.
pub fn small_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(1 << 20))
        .max_frame_size(Some(1 << 20))
}

/// A frame the server sent, parsed: `event`, `channel`, and `data` as the text it carried (the
/// protocol sends event data as a JSON string; `pusher:error` sends an object, kept as its JSON).
#[derive(Debug, Clone)]
pub struct Frame {
    pub event: String,
    pub channel: Option<String>,
    pub data: String,
}

impl Frame {
    pub fn parse(text: &str) -> Option<Frame> {
        let v: Value = serde_json::from_str(text).ok()?;
        let event = v.get("event")?.as_str()?.to_string();
        let channel = v.get("channel").and_then(Value::as_str).map(str::to_string);
        let data = match v.get("data") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        Some(Frame { event, channel, data })
    }

    /// `data` parsed as JSON (`Null` if it is not).
    pub fn data_json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }
}

/// Opens `/app/{key}` from `source` (any free port) and waits for
/// `pusher:connection_established`; answers the socket and its `socket_id`.
pub async fn connect(
    target: &Target,
    key: &str,
    source: Option<Ipv4Addr>,
    timeout: Duration,
) -> crate::Result<(Ws, String)> {
    let work = async {
        let stream = match source {
            None | Some(Ipv4Addr::LOCALHOST) => TcpStream::connect(target.addr()).await?,
            Some(ip) => {
                let socket = TcpSocket::new_v4()?;
                socket.bind(SocketAddr::from((ip, 0)))?;
                socket.connect(target.addr()).await?
            }
        };
        stream.set_nodelay(true)?;
        let url = format!("ws://{}/app/{key}?protocol=7&client=bench&version=0.1.0&flash=false", target.addr());
        let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(small_config())).await?;
        let hello = next_frame(&mut ws).await?;
        if hello.event != "pusher:connection_established" {
            return Err(format!("expected pusher:connection_established, got {} {}", hello.event, hello.data).into());
        }
        let socket_id = hello
            .data_json()
            .get("socket_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("connection_established without a socket_id: {}", hello.data))?;
        crate::Result::Ok((ws, socket_id))
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("no pusher:connection_established within {timeout:?}"))?
}

/// Reads until the next text frame, answering `pusher:ping` on the way; a close or the end of
/// the stream is an error naming the close code.
pub async fn next_frame(ws: &mut Ws) -> crate::Result<Frame> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                let frame = Frame::parse(text.as_str())
                    .ok_or_else(|| format!("a frame that is not Pusher JSON: {}", text.as_str()))?;
                if frame.event == "pusher:ping" {
                    send_json(ws, &json!({"event": "pusher:pong", "data": {}})).await?;
                    continue;
                }
                return Ok(frame);
            }
            Some(Ok(Message::Close(frame))) => {
                return Err(match frame {
                    Some(f) => format!("the server closed the socket ({} {})", u16::from(f.code), f.reason.as_str()),
                    None => "the server closed the socket".to_string(),
                }
                .into())
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("websocket error: {e}").into()),
            None => return Err("the socket closed".into()),
        }
    }
}

pub async fn send_json(ws: &mut Ws, v: &Value) -> crate::Result<()> {
    ws.send(Message::text(v.to_string())).await?;
    Ok(())
}

/// `pusher:subscribe` and its answer: `Ok` on `pusher_internal:subscription_succeeded`, else the
/// refusal as the error. Frames of other channels arriving meanwhile are skipped.
pub async fn subscribe(ws: &mut Ws, channel: &str, auth: Option<&str>, timeout: Duration) -> crate::Result<()> {
    let mut data = json!({ "channel": channel });
    if let Some(auth) = auth {
        data["auth"] = auth.into();
    }
    send_json(ws, &json!({ "event": "pusher:subscribe", "data": data })).await?;
    let wait = async {
        loop {
            let f = next_frame(ws).await?;
            match f.event.as_str() {
                "pusher_internal:subscription_succeeded" if f.channel.as_deref() == Some(channel) => {
                    return crate::Result::Ok(());
                }
                "pusher:error" | "pusher:subscription_error" => {
                    return Err(format!("subscribing to {channel}: {} {}", f.event, f.data).into())
                }
                _ => continue,
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .map_err(|_| format!("no answer to subscribing to {channel} within {timeout:?}"))?
}

/// Reads frames until one satisfies `pred` (answers it) or `timeout` passes (an error).
pub async fn wait_for(ws: &mut Ws, timeout: Duration, mut pred: impl FnMut(&Frame) -> bool) -> crate::Result<Frame> {
    let wait = async {
        loop {
            let f = next_frame(ws).await?;
            if pred(&f) {
                return crate::Result::Ok(f);
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .map_err(|_| crate::Error::from(format!("no such frame within {timeout:?}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_keep_string_data_as_text() {
        let f = Frame::parse(r#"{"event":"notification","channel":"private-user-1","data":"{\"title\":\"t 5\"}"}"#)
            .unwrap();
        assert_eq!(f.event, "notification");
        assert_eq!(f.channel.as_deref(), Some("private-user-1"));
        assert_eq!(f.data_json()["title"], "t 5");
        let e = Frame::parse(r#"{"event":"pusher:error","data":{"code":4009}}"#).unwrap();
        assert_eq!(e.data_json()["code"], 4009);
        assert!(Frame::parse("[]").is_none());
    }
}
