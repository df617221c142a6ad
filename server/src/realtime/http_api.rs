//! The Pusher HTTP API, so the official `pusher` server libraries can trigger events and ask about
//! channels: `POST /apps/{appId}/events` and `/batch_events`, `GET /apps/{appId}/channels`,
//! `/channels/{name}` and `/channels/{name}/users`. Every request is signed (see
//! `domain::realtime::signing`); errors answer in plain text, as Pusher's do.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::realtime::signing::{self, valid_channel_name, valid_socket_id, ApiRequest};
use domain::realtime::RealtimeApp;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::protocol;
use crate::http::AppState;

/// Pusher's limits: 10 KB of data per event, 100 channels per event, 10 events per batch.
const MAX_DATA_BYTES: usize = 10 * 1024;
const MAX_CHANNELS: usize = 100;
const MAX_BATCH: usize = 10;

fn text(status: StatusCode, message: impl Into<String>) -> Response {
    (status, message.into()).into_response()
}

type Params = Vec<(String, String)>;

/// Finds the app and checks the request's signature.
async fn authorize(
    s: &AppState,
    app_id: &str,
    method: &str,
    uri: &OriginalUri,
    body: &[u8],
) -> Result<(Arc<RealtimeApp>, Params), Response> {
    let app = match s.hub.apps.by_id(&s.svc, app_id).await {
        Ok(Some(app)) => app,
        Ok(None) => return Err(text(StatusCode::NOT_FOUND, "Unknown app")),
        Err(e) => {
            tracing::error!(error = %e, "could not look up a realtime app");
            return Err(text(StatusCode::INTERNAL_SERVER_ERROR, "Internal error"));
        }
    };
    let query = Query::<Params>::try_from_uri(&uri.0).map_err(|_| text(StatusCode::BAD_REQUEST, "Bad query string"))?.0;
    let req = ApiRequest { method, path: uri.0.path(), query: &query, body };
    let now = domain::time::now().timestamp();
    signing::verify_api_request(&req, &[app.key.as_str()], &app.secret, now)
        .map_err(|e| text(StatusCode::UNAUTHORIZED, e.to_string()))?;
    Ok((app, query))
}

fn param<'a>(query: &'a Params, name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// One event as the libraries send it (`channels` or `channel`; `data` a JSON string).
#[derive(Deserialize)]
struct EventIn {
    name: String,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    channels: Option<Vec<String>>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    socket_id: Option<String>,
}

/// A checked event, ready to publish.
struct EventOut {
    name: String,
    data: String,
    channels: Vec<String>,
    socket_id: Option<String>,
}

// A plain-text answer is the error here; its size does not matter on this cold path.
#[allow(clippy::result_large_err)]
fn check(e: EventIn) -> Result<EventOut, Response> {
    if e.name.is_empty() || e.name.len() > 200 {
        return Err(text(StatusCode::BAD_REQUEST, "name must be 1 to 200 characters"));
    }
    let channels = match (e.channels, e.channel) {
        (Some(list), _) => list,
        (None, Some(one)) => vec![one],
        (None, None) => return Err(text(StatusCode::BAD_REQUEST, "Missing channels")),
    };
    if channels.is_empty() || channels.len() > MAX_CHANNELS {
        return Err(text(StatusCode::BAD_REQUEST, "an event goes to 1 to 100 channels"));
    }
    if let Some(bad) = channels.iter().find(|c| !valid_channel_name(c)) {
        return Err(text(StatusCode::BAD_REQUEST, format!("Invalid channel name: {bad:?}")));
    }
    // The libraries send data as a string; anything else is passed on as its JSON text.
    let data = match e.data {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if data.len() > MAX_DATA_BYTES {
        return Err(text(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large: event data is over 10 KB"));
    }
    if let Some(id) = &e.socket_id {
        if !valid_socket_id(id) {
            return Err(text(StatusCode::BAD_REQUEST, "Invalid socket_id"));
        }
    }
    Ok(EventOut { name: e.name, data, channels, socket_id: e.socket_id })
}

async fn publish(s: &AppState, project_id: &str, e: &EventOut) {
    for channel in &e.channels {
        let frame = protocol::event(channel, &e.name, &e.data);
        s.hub.publish_frame(project_id, channel, frame, e.socket_id.as_deref()).await;
    }
}

pub async fn trigger(State(s): State<AppState>, Path(app_id): Path<String>, uri: OriginalUri, body: Bytes) -> Response {
    let (app, _) = match authorize(&s, &app_id, "POST", &uri, &body).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let event = match serde_json::from_slice::<EventIn>(&body)
        .map_err(|e| text(StatusCode::BAD_REQUEST, format!("Invalid JSON: {e}")))
        .and_then(check)
    {
        Ok(e) => e,
        Err(r) => return r,
    };
    publish(&s, &app.project_id, &event).await;
    Json(json!({})).into_response()
}

#[derive(Deserialize)]
struct BatchIn {
    batch: Vec<EventIn>,
}

/// All events are checked before any is published, so a bad one fails the batch as a whole.
pub async fn trigger_batch(
    State(s): State<AppState>,
    Path(app_id): Path<String>,
    uri: OriginalUri,
    body: Bytes,
) -> Response {
    let (app, _) = match authorize(&s, &app_id, "POST", &uri, &body).await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let batch = match serde_json::from_slice::<BatchIn>(&body) {
        Ok(b) if b.batch.len() <= MAX_BATCH => b.batch,
        Ok(_) => return text(StatusCode::BAD_REQUEST, "Batch too large: at most 10 events"),
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("Invalid JSON: {e}")),
    };
    let mut events = Vec::with_capacity(batch.len());
    for e in batch {
        match check(e) {
            Ok(e) => events.push(e),
            Err(r) => return r,
        }
    }
    for e in &events {
        publish(&s, &app.project_id, e).await;
    }
    Json(json!({})).into_response()
}

fn wants(query: &Params, attribute: &str) -> bool {
    param(query, "info").is_some_and(|i| i.split(',').any(|a| a.trim() == attribute))
}

/// `{"channels": {name: {user_count?}}}`: the project's occupied channels.
pub async fn channels(State(s): State<AppState>, Path(app_id): Path<String>, uri: OriginalUri) -> Response {
    let (app, query) = match authorize(&s, &app_id, "GET", &uri, b"").await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    let prefix = param(&query, "filter_by_prefix").unwrap_or("");
    let user_count = wants(&query, "user_count");
    if user_count && !prefix.starts_with("presence-") {
        return text(StatusCode::BAD_REQUEST, "user_count may only be requested with filter_by_prefix=presence-");
    }
    let mut out = Map::new();
    for name in s.hub.occupied(&app.project_id, prefix).await {
        let mut attrs = Map::new();
        if user_count {
            attrs.insert("user_count".into(), s.hub.user_count(&app.project_id, &name).await.into());
        }
        out.insert(name, Value::Object(attrs));
    }
    Json(json!({ "channels": out })).into_response()
}

/// `{"occupied", "user_count"?, "subscription_count"?}` for one channel.
pub async fn channel(
    State(s): State<AppState>,
    Path((app_id, name)): Path<(String, String)>,
    uri: OriginalUri,
) -> Response {
    let (app, query) = match authorize(&s, &app_id, "GET", &uri, b"").await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    if !valid_channel_name(&name) {
        return text(StatusCode::BAD_REQUEST, "Invalid channel name");
    }
    let mut out = Map::new();
    out.insert("occupied".into(), s.hub.is_subscribed(&app.project_id, &name).await.into());
    if wants(&query, "user_count") {
        if !name.starts_with("presence-") {
            return text(StatusCode::BAD_REQUEST, "user_count is only available for presence channels");
        }
        out.insert("user_count".into(), s.hub.user_count(&app.project_id, &name).await.into());
    }
    if wants(&query, "subscription_count") {
        if let Some(n) = s.hub.subscription_count(&app.project_id, &name) {
            out.insert("subscription_count".into(), n.into());
        }
    }
    Json(Value::Object(out)).into_response()
}

/// `{"users": [{"id"}]}` of a presence channel.
pub async fn users(
    State(s): State<AppState>,
    Path((app_id, name)): Path<(String, String)>,
    uri: OriginalUri,
) -> Response {
    let (app, _) = match authorize(&s, &app_id, "GET", &uri, b"").await {
        Ok(ok) => ok,
        Err(r) => return r,
    };
    if !name.starts_with("presence-") || !valid_channel_name(&name) {
        return text(StatusCode::BAD_REQUEST, "users are only listed for presence channels");
    }
    let users: Vec<Value> =
        s.hub.user_ids(&app.project_id, &name).await.into_iter().map(|id| json!({ "id": id })).collect();
    Json(json!({ "users": users })).into_response()
}
