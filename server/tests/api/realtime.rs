//! The built-in Pusher Channels server as pusher-js and the official server libraries see it: the
//! socket's handshake, pings and subscriptions, channel auth for end users, the signed HTTP API,
//! project isolation, client events, idle sockets, and (with TEST_REDIS_URL) fan-out between
//! processes.

mod cluster;
pub mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Auth, TestApp};
use support::{channel_auth, connect, credentials, next, quiet, subscribe, trigger, user, Ws};

#[tokio::test]
async fn socket_greets_answers_pings_and_refuses_unknown_keys() {
    let app = TestApp::spawn().await;
    let p = app.project("Greeting").await;
    let (mut ws, socket_id) = connect(&app.base, &p.key).await;
    let (a, b) = socket_id.split_once('.').expect("socket id like 123.456");
    assert!(a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()), "{socket_id}");
    support::send(&mut ws, json!({"event": "pusher:ping", "data": {}})).await;
    assert_eq!(next(&mut ws).await["event"], "pusher:pong");
    // Garbage and unknown events do not cost the connection.
    support::send_text(&mut ws, "{not json").await;
    assert_eq!(next(&mut ws).await["event"], "pusher:error");
    support::send(&mut ws, json!({"event": "pusher:ping", "data": {}})).await;
    assert_eq!(next(&mut ws).await["event"], "pusher:pong");

    let url = format!("{}/app/pk_live_nope?protocol=7", app.base.replace("http", "ws"));
    let (mut unknown, _) = tokio_tungstenite::connect_async(url).await.expect("upgrade");
    let err = next(&mut unknown).await;
    assert_eq!((err["event"].as_str(), err["data"]["code"].as_u64()), (Some("pusher:error"), Some(4001)));
    assert_eq!(next(&mut unknown).await["closed"], 4001);
    let url = format!("{}/app/{}", app.base.replace("http", "ws"), p.key);
    let (mut no_protocol, _) = tokio_tungstenite::connect_async(url).await.expect("upgrade");
    assert_eq!(next(&mut no_protocol).await["data"]["code"], 4008);
    app.teardown().await;
}

#[tokio::test]
async fn credentials_are_digits_the_projects_key_and_a_sealed_secret() {
    let app = TestApp::spawn().await;
    let p = app.project("Creds").await;
    let c = credentials(&app, &p).await;
    assert!(c.app_id.bytes().all(|b| b.is_ascii_digit()) && !c.app_id.is_empty(), "{}", c.app_id);
    assert_eq!(c.key, p.key);
    assert_eq!(c.host, "127.0.0.1");
    assert_eq!(c.port.to_string(), app.base.rsplit(':').next().unwrap());
    let again = credentials(&app, &p).await;
    assert_eq!((again.app_id, again.secret.as_str()), (c.app_id.clone(), c.secret.as_str()));
    let sealed: String = sqlx::query_scalar("SELECT secret_sealed FROM project_realtime WHERE project_id = $1")
        .bind(&p.id)
        .fetch_one(app.svc.db.pool())
        .await
        .unwrap();
    assert!(!sealed.contains(&c.secret), "the secret is encrypted at rest");
    // Project admins only.
    let by_key = app.request(Method::GET, "/api/v1/projects/me/realtime", Auth::Key(&p.key, &p.secret), None).await;
    assert_eq!((by_key.status.as_u16(), by_key.code()), (403, "forbidden"));
    // Rotation replaces the secret only.
    let rotated = app.post("/api/v1/projects/me/realtime/rotate", Some(&p.admin_token), json!({})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(rotated.body["appId"], c.app_id.as_str());
    assert_ne!(rotated.body["secret"], c.secret.as_str());
    app.teardown().await;
}

#[tokio::test]
async fn a_public_channel_receives_what_the_http_api_triggers() {
    let app = TestApp::spawn().await;
    let p = app.project("Public").await;
    let c = credentials(&app, &p).await;
    let (mut ws, socket_id) = connect(&app.base, &p.key).await;
    let ok = subscribe(&mut ws, "orders", None, None).await;
    assert_eq!(ok["event"], "pusher_internal:subscription_succeeded", "{ok}");
    let body = json!({"name": "created", "channels": ["orders"], "data": "{\"id\":1}"});
    let r = trigger(&app, &c, "events", &body).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(r.1, json!({}));
    let e = next(&mut ws).await;
    assert_eq!(e, json!({"event": "created", "channel": "orders", "data": "{\"id\":1}"}));
    let batch = json!({"batch": [
        {"name": "a", "channel": "orders", "data": "1"},
        {"name": "b", "channel": "orders", "data": "2"}
    ]});
    assert_eq!(trigger(&app, &c, "batch_events", &batch).await.0, 200);
    assert_eq!(next(&mut ws).await["event"], "a");
    assert_eq!(next(&mut ws).await["event"], "b");
    let (status, list) = support::get_signed(&app, &c, "channels", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(list, json!({"channels": {"orders": {}}}));
    let (_, one) = support::get_signed(&app, &c, "channels/orders", &[("info", "subscription_count")]).await;
    assert_eq!(one["occupied"], true);
    // A publisher may exclude the socket that caused the event.
    let excluded = json!({"name": "x", "channel": "orders", "data": "{}", "socket_id": socket_id});
    assert_eq!(trigger(&app, &c, "events", &excluded).await.0, 200);
    quiet(&mut ws, Duration::from_millis(300)).await;
    app.teardown().await;
}

#[tokio::test]
async fn users_authorize_their_own_private_channel_only() {
    let app = TestApp::spawn().await;
    let p = app.project("Private").await;
    let c = credentials(&app, &p).await;
    let (ana, ana_token) = user(&app, &p, "ana").await;
    let (bob, _) = user(&app, &p, "bob").await;
    let (mut ws, socket_id) = connect(&app.base, &p.key).await;
    let own = format!("private-user-{ana}");
    let r = channel_auth(&app, &ana_token, &socket_id, &own, true).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let auth = r.body["auth"].as_str().unwrap().to_string();
    assert!(auth.starts_with(&format!("{}:", p.key)), "{auth}");
    assert_eq!(channel_auth(&app, &ana_token, &socket_id, &own, false).await.body["auth"], auth.as_str());
    let theirs = channel_auth(&app, &ana_token, &socket_id, &format!("private-user-{bob}"), true).await;
    assert_eq!((theirs.status.as_u16(), theirs.code()), (403, "forbidden"));
    assert!(theirs.body["error"]["message"].is_string());
    let no_token = app.post("/api/v1/realtime/auth", None, json!({"socket_id": socket_id, "channel_name": own})).await;
    assert_eq!(no_token.status, 401);

    // A forged signature is refused on the socket; the real one works.
    let forged =
        subscribe(&mut ws, &format!("private-user-{bob}"), Some(&format!("{}:{}", p.key, "ab".repeat(32))), None).await;
    assert_eq!((forged["event"].as_str(), forged["data"]["code"].as_u64()), (Some("pusher:error"), Some(4009)));
    assert_eq!(next(&mut ws).await["event"], "pusher:subscription_error");
    let ok = subscribe(&mut ws, &own, Some(&auth), None).await;
    assert_eq!(ok["event"], "pusher_internal:subscription_succeeded");
    let data = json!({"id": "n1", "title": "Hi"}).to_string();
    let body = json!({"name": "notification", "channel": own, "data": data});
    assert_eq!(trigger(&app, &c, "events", &body).await.0, 200);
    let got = next(&mut ws).await;
    assert_eq!((got["event"].as_str(), got["data"].as_str()), (Some("notification"), Some(data.as_str())));
    app.teardown().await;
}

#[tokio::test]
async fn presence_channels_list_members_and_announce_comings_and_goings() {
    let app = TestApp::spawn().await;
    let p = app.project("Presence").await;
    let (ana, ana_token) = user(&app, &p, "ana").await;
    let (bob, bob_token) = user(&app, &p, "bob").await;
    let join = |token: String, info: Value| {
        let app = &app;
        let key = p.key.clone();
        async move {
            let (mut ws, socket_id) = connect(&app.base, &key).await;
            let r = app
                .post(
                    "/api/v1/realtime/auth",
                    Some(&token),
                    json!({
                        "socket_id": socket_id, "channel_name": "presence-room",
                        "channel_data": json!({"user_info": info}).to_string()
                    }),
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            let ok =
                subscribe(&mut ws, "presence-room", r.body["auth"].as_str(), r.body["channel_data"].as_str()).await;
            (ws, ok)
        }
    };
    let (mut a, ok) = join(ana_token, json!({"name": "Ana"})).await;
    let snapshot: Value = serde_json::from_str(ok["data"].as_str().unwrap()).unwrap();
    assert_eq!(snapshot["presence"]["ids"], json!([ana]));
    assert_eq!(snapshot["presence"]["hash"][&ana]["name"], "Ana");
    let (b, ok) = join(bob_token, json!({"name": "Bob"})).await;
    let snapshot: Value = serde_json::from_str(ok["data"].as_str().unwrap()).unwrap();
    assert_eq!(snapshot["presence"]["count"], 2);
    let added = next(&mut a).await;
    assert_eq!(added["event"], "pusher_internal:member_added");
    let added: Value = serde_json::from_str(added["data"].as_str().unwrap()).unwrap();
    assert_eq!((added["user_id"].as_str(), added["user_info"]["name"].as_str()), (Some(bob.as_str()), Some("Bob")));
    drop::<Ws>(b);
    let removed = next(&mut a).await;
    assert_eq!(removed["event"], "pusher_internal:member_removed");
    assert_eq!(removed["data"], json!({"user_id": bob}).to_string());
    app.teardown().await;
}

#[tokio::test]
async fn channels_of_two_projects_never_meet() {
    let app = TestApp::spawn().await;
    let (p, q) = (app.project("Alpha").await, app.project("Beta").await);
    let (cp, cq) = (credentials(&app, &p).await, credentials(&app, &q).await);
    let (mut wp, _) = connect(&app.base, &p.key).await;
    let (mut wq, _) = connect(&app.base, &q.key).await;
    subscribe(&mut wp, "news", None, None).await;
    subscribe(&mut wq, "news", None, None).await;
    let body = json!({"name": "hello", "channel": "news", "data": "\"alpha\""});
    assert_eq!(trigger(&app, &cp, "events", &body).await.0, 200);
    assert_eq!(next(&mut wp).await["data"], "\"alpha\"");
    quiet(&mut wq, Duration::from_millis(300)).await;
    // One project's secret does not sign for another project's app id.
    let crossed = support::Creds { app_id: cq.app_id.clone(), ..cp.clone() };
    assert_eq!(trigger(&app, &crossed, "events", &body).await.0, 401);
    let (_, list) = support::get_signed(&app, &cq, "channels", &[]).await;
    assert_eq!(list, json!({"channels": {"news": {}}}));
    app.teardown().await;
}

#[tokio::test]
async fn stale_unsigned_and_unknown_requests_are_refused() {
    let app = TestApp::spawn().await;
    let p = app.project("Signed").await;
    let c = credentials(&app, &p).await;
    let body = json!({"name": "e", "channel": "c", "data": "{}"});
    let stale = support::trigger_at(&app, &c, "events", &body, chrono::Utc::now().timestamp() - 601).await;
    assert_eq!(stale.0, 401);
    assert!(stale.1.as_str().unwrap_or_default().contains("Timestamp expired"), "{}", stale.1);
    let wrong = support::Creds { secret: "not-the-secret".into(), ..c.clone() };
    assert_eq!(trigger(&app, &wrong, "events", &body).await.0, 401);
    let unsigned = app.client.post(format!("{}/apps/{}/events", app.base, c.app_id)).json(&body).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let unknown = support::Creds { app_id: "1".into(), ..c.clone() };
    assert_eq!(trigger(&app, &unknown, "events", &body).await.0, 404);
    let too_big = json!({"name": "e", "channel": "c", "data": "x".repeat(11 * 1024)});
    assert_eq!(trigger(&app, &c, "events", &too_big).await.0, 413);
    let bad_name = json!({"name": "e", "channel": "no spaces", "data": "{}"});
    assert_eq!(trigger(&app, &c, "events", &bad_name).await.0, 400);
    app.teardown().await;
}

#[tokio::test]
async fn client_events_are_refused_until_the_project_enables_them() {
    let app = TestApp::spawn().await;
    let p = app.project("Client events").await;
    let (ana, token) = user(&app, &p, "ana").await;
    let channel = format!("private-user-{ana}");
    let open = || async {
        let (mut ws, socket_id) = connect(&app.base, &p.key).await;
        let auth =
            channel_auth(&app, &token, &socket_id, &channel, false).await.body["auth"].as_str().unwrap().to_string();
        subscribe(&mut ws, &channel, Some(&auth), None).await;
        ws
    };
    let mut first = open().await;
    let event = json!({"event": "client-typing", "channel": channel, "data": {"on": true}});
    support::send(&mut first, event.clone()).await;
    let refused = next(&mut first).await;
    assert_eq!(refused["event"], "pusher:error");
    let r = app.put("/api/v1/projects/me/realtime", Some(&p.admin_token), json!({"clientEvents": true})).await;
    assert_eq!((r.status.as_u16(), &r.body["clientEvents"]), (200, &json!(true)));
    let (mut sender, mut receiver) = (open().await, open().await);
    support::send(&mut sender, event).await;
    assert_eq!(next(&mut receiver).await, json!({"event": "client-typing", "channel": channel, "data": {"on": true}}));
    quiet(&mut sender, Duration::from_millis(200)).await;
    app.teardown().await;
}
