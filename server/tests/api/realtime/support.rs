//! A Pusher client and server library in miniature for the realtime tests: a WebSocket that
//! speaks the protocol, signed HTTP API calls, channel auth, and end users with tokens.

use std::time::Duration;

use domain::realtime::signing;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Auth, Reply, TestApp, TestProject};

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects as pusher-js does and reads `pusher:connection_established`; answers the socket id.
pub async fn connect(base: &str, key: &str) -> (Ws, String) {
    let (ws, data) = connect_raw(base, key).await;
    assert_eq!(data["activity_timeout"], 120);
    (ws, data["socket_id"].as_str().unwrap().to_string())
}

/// Connects; answers the socket and the data of `pusher:connection_established`.
pub async fn connect_raw(base: &str, key: &str) -> (Ws, Value) {
    let url = format!("{}/app/{key}?protocol=7&client=js&version=8.4.0&flash=false", base.replace("http", "ws"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("websocket upgrade");
    let hello = next(&mut ws).await;
    assert_eq!(hello["event"], "pusher:connection_established", "{hello}");
    let data: Value = serde_json::from_str(hello["data"].as_str().expect("data is a JSON string")).unwrap();
    (ws, data)
}

/// The next frame as JSON (`{"closed": code}` for a close frame), within 5 s.
pub async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("the socket is open")
            .expect("a frame");
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).expect("frames are JSON"),
            Message::Close(f) => return json!({ "closed": f.map(|f| u16::from(f.code)) }),
            _ => continue,
        }
    }
}

/// Nothing arrives for `d`.
pub async fn quiet(ws: &mut Ws, d: Duration) {
    if let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(d, ws.next()).await {
        panic!("expected silence, got {t}");
    }
}

pub async fn send(ws: &mut Ws, v: Value) {
    send_text(ws, &v.to_string()).await;
}

pub async fn send_text(ws: &mut Ws, t: &str) {
    ws.send(Message::Text(t.into())).await.expect("send");
}

/// `pusher:subscribe`; answers the reply.
pub async fn subscribe(ws: &mut Ws, channel: &str, auth: Option<&str>, channel_data: Option<&str>) -> Value {
    let mut data = json!({ "channel": channel });
    if let Some(a) = auth {
        data["auth"] = a.into();
    }
    if let Some(d) = channel_data {
        data["channel_data"] = d.into();
    }
    send(ws, json!({ "event": "pusher:subscribe", "data": data })).await;
    next(ws).await
}

/// What `GET /api/v1/projects/me/realtime` answers.
#[derive(Clone, Debug)]
pub struct Creds {
    pub app_id: String,
    pub key: String,
    pub secret: String,
    pub host: String,
    pub port: u64,
}

pub async fn credentials(app: &TestApp, p: &TestProject) -> Creds {
    let r = app.get("/api/v1/projects/me/realtime", Some(&p.admin_token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = |k: &str| r.body[k].as_str().unwrap_or_else(|| panic!("{k} in {}", r.body)).to_string();
    Creds {
        app_id: s("appId"),
        key: s("key"),
        secret: s("secret"),
        host: s("host"),
        port: r.body["port"].as_u64().unwrap(),
    }
}

fn answer(status: reqwest::StatusCode, text: String) -> (u16, Value) {
    (status.as_u16(), serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A signed POST to `/apps/{appId}/{what}`, as the official libraries send it.
pub async fn trigger(app: &TestApp, c: &Creds, what: &str, body: &Value) -> (u16, Value) {
    trigger_at(app, c, what, body, chrono::Utc::now().timestamp()).await
}

pub async fn trigger_at(app: &TestApp, c: &Creds, what: &str, body: &Value, timestamp: i64) -> (u16, Value) {
    let path = format!("/apps/{}/{what}", c.app_id);
    let bytes = serde_json::to_vec(body).unwrap();
    let query = signing::sign_api_request(&c.key, &c.secret, "POST", &path, &[], &bytes, timestamp);
    let res = app
        .client
        .post(format!("{}{path}", app.base))
        .query(&query)
        .header("content-type", "application/json")
        .body(bytes)
        .send()
        .await
        .unwrap();
    answer(res.status(), res.text().await.unwrap())
}

/// A signed GET of `/apps/{appId}/{what}`.
pub async fn get_signed(app: &TestApp, c: &Creds, what: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let path = format!("/apps/{}/{what}", c.app_id);
    let params: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let query =
        signing::sign_api_request(&c.key, &c.secret, "GET", &path, &params, b"", chrono::Utc::now().timestamp());
    let res = app.client.get(format!("{}{path}", app.base)).query(&query).send().await.unwrap();
    answer(res.status(), res.text().await.unwrap())
}

/// An end user of the project and their token, through the users API.
pub async fn user(app: &TestApp, p: &TestProject, name: &str) -> (String, String) {
    let email = format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple());
    let created = app
        .request(reqwest::Method::POST, "/api/v1/users", Auth::Key(&p.key, &p.secret), Some(json!({"email": email})))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let t = app
        .request(reqwest::Method::POST, &format!("/api/v1/users/{id}/token"), Auth::Key(&p.key, &p.secret), None)
        .await;
    assert_eq!(t.status, 200, "{}", t.body);
    (id, t.body["token"].as_str().unwrap().to_string())
}

/// `POST /api/v1/realtime/auth` as pusher-js sends it (a form) or as JSON.
pub async fn channel_auth(app: &TestApp, token: &str, socket_id: &str, channel: &str, form: bool) -> Reply {
    let req = app.client.post(format!("{}/api/v1/realtime/auth", app.base)).bearer_auth(token);
    let fields = [("socket_id", socket_id), ("channel_name", channel)];
    let req = if form {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        req.header("content-type", "application/x-www-form-urlencoded").body(body.join("&"))
    } else {
        req.json(&json!({"socket_id": socket_id, "channel_name": channel}))
    };
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let body = serde_json::from_str(&res.text().await.unwrap()).unwrap_or(Value::Null);
    Reply { status, body, headers }
}
