//! The WebSocket at `/app/{key}`: upgrade, `pusher:connection_established`, then one loop per
//! socket that reads the client, writes what the hub queued for it, and closes it when it goes
//! silent (no pong within the activity timeout) or falls behind.
//!
//! Memory per idle socket stays small: a 2 KiB read buffer, no write buffering, a bounded queue,
//! and the session's (usually tiny) channel map.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use domain::realtime::RealtimeApp;
use domain::Services;
use futures_util::SinkExt;
use tokio::time::Instant;

use super::hub::Hub;
use super::protocol::{self, code};
use super::session::Session;
use crate::http::AppState;

/// Grows on demand for the rare large message.
const READ_BUFFER: usize = 2 * 1024;
/// Nothing a Pusher client sends is near this (client events stop at 10 KB).
const MAX_MESSAGE: usize = 64 * 1024;

pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(s): State<AppState>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let ws = ws
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE);
    let refusal = match protocol_refusal(query.get("protocol").map(String::as_str)) {
        Some(r) => Some(r),
        None => match s.hub.apps.by_key(&s.svc, &key).await {
            Ok(Some(app)) => {
                let hub = s.hub.clone();
                let svc = s.svc.clone();
                return ws.on_upgrade(move |socket| serve(socket, hub, svc, app, key));
            }
            Ok(None) => Some((code::APP_NOT_FOUND, "App key not in use")),
            Err(e) => {
                tracing::error!(error = %e, "could not look up a realtime key");
                Some((code::OVER_CAPACITY, "temporarily unavailable; reconnect later"))
            }
        },
    };
    let (code, message) = refusal.unwrap_or((code::APP_NOT_FOUND, "App key not in use"));
    ws.on_upgrade(move |socket| refuse(socket, code, message))
}

/// Protocol 7 is what pusher-js speaks; 4 to 6 differ in nothing this server uses.
fn protocol_refusal(given: Option<&str>) -> Option<(u16, &'static str)> {
    match given.map(str::parse::<u32>) {
        None => Some((code::NO_PROTOCOL, "No protocol version supplied")),
        Some(Err(_)) => Some((code::INVALID_VERSION_FORMAT, "Invalid version string format")),
        Some(Ok(4..=7)) => None,
        Some(Ok(_)) => Some((code::UNSUPPORTED_PROTOCOL, "Unsupported protocol version")),
    }
}

/// Tells the client why (`pusher:error`), then closes with the same code, as Pusher does.
async fn refuse(mut ws: WebSocket, code: u16, message: &'static str) {
    let _ = ws.send(Message::Text(protocol::error(Some(code), message))).await;
    close(ws, code, message).await;
}

async fn close(mut ws: WebSocket, code: u16, reason: &'static str) {
    let _ = ws.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
    // Give the client a moment to answer the close, so the frame is not lost to a reset.
    let _ = tokio::time::timeout(Duration::from_secs(1), async { while let Some(Ok(_)) = ws.recv().await {} }).await;
}

/// Why an open socket may no longer stay: its project was suspended or its key revoked (the app
/// is gone), or its app's secret changed (subscriptions signed with the old one must be signed
/// again). `None` while all is as when it connected, or when the check could not be made.
async fn recheck(hub: &Hub, svc: &Services, app: &RealtimeApp, key: &str) -> Option<(u16, &'static str)> {
    match hub.apps.by_key(svc, key).await {
        Ok(None) => Some((code::APP_DISABLED, "Application disabled")),
        Ok(Some(now)) if now.secret != app.secret => Some((code::RECONNECT, "the app's secret changed; reconnect")),
        Ok(Some(_)) => None,
        Err(e) => {
            tracing::warn!(error = %e, "could not recheck a realtime socket's app");
            None
        }
    }
}

async fn serve(mut ws: WebSocket, hub: Arc<Hub>, svc: Arc<Services>, app: Arc<RealtimeApp>, key: String) {
    let (conn, mut rx) = hub.open();
    let mut session = Session::new(hub.clone(), app.clone(), &key, conn.clone());
    let mut rechecks = tokio::time::interval(hub.config.recheck_every);
    rechecks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    rechecks.reset();
    let activity = hub.config.activity_timeout;
    let pong_wait = hub.config.pong_timeout;
    let hello = protocol::connection_established(&conn.socket_id, activity.as_secs().max(1));
    let mut closing: Option<(u16, &'static str)> = None;
    if ws.send(Message::Text(hello)).await.is_ok() {
        let mut last_heard = Instant::now();
        let mut pinged: Option<Instant> = None;
        closing = loop {
            let deadline = match pinged {
                Some(at) => at + pong_wait,
                None => last_heard + activity,
            };
            tokio::select! {
                incoming = ws.recv() => {
                    last_heard = Instant::now();
                    pinged = None;
                    match incoming {
                        Some(Ok(Message::Text(text))) => {
                            let mut failed = false;
                            for frame in session.handle(&text).await {
                                if ws.send(Message::Text(frame)).await.is_err() {
                                    failed = true;
                                    break;
                                }
                            }
                            if failed {
                                break None;
                            }
                        }
                        Some(Ok(Message::Binary(_))) => {
                            let frame = protocol::error(None, "the Pusher protocol speaks text frames");
                            if ws.send(Message::Text(frame)).await.is_err() {
                                break None;
                            }
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Close(_))) => {
                            // Sends the close reply tungstenite queued, so the client sees a clean close.
                            let _ = ws.flush().await;
                            break None;
                        }
                        Some(Err(_)) | None => break None,
                    }
                }
                Some(frame) = rx.recv() => {
                    if ws.send(Message::Text(frame)).await.is_err() {
                        break None;
                    }
                }
                _ = conn.overflowed.notified() => break Some((code::RECONNECT, "too far behind; reconnect")),
                _ = rechecks.tick() => {
                    if let Some(why) = recheck(&hub, &svc, &app, &key).await {
                        break Some(why);
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    if pinged.is_some() {
                        break Some((code::PONG_NOT_RECEIVED, "Pong reply not received"));
                    }
                    pinged = Some(Instant::now());
                    if ws.send(Message::Text(protocol::ping())).await.is_err() {
                        break None;
                    }
                }
            }
        };
    }
    session.leave_all().await;
    hub.close();
    drop(rx);
    if let Some((code, reason)) = closing {
        let _ = ws.send(Message::Text(protocol::error(Some(code), reason))).await;
        close(ws, code, reason).await;
    }
}
