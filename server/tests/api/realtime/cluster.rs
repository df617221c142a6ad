//! The hub as the notification worker uses it (`publish`, `is_subscribed`), idle sockets, and with
//! TEST_REDIS_URL two hubs standing in for two server processes on one Redis.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use server::realtime::{Hub, HubConfig};

use super::support::{channel_auth, connect, connect_raw, next, subscribe, user};
use crate::helpers::TestApp;

/// Serves the app's services through another hub, as another process would; answers its base URL.
async fn serve_with(app: &TestApp, hub: Arc<Hub>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = leptos::config::LeptosOptions::builder().output_name("notify").site_addr(addr).build();
    let router = server::startup::app(app.svc.clone(), hub, options);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
    });
    format!("http://{addr}")
}

async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..40 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn the_hub_delivers_notifications_and_knows_who_listens() {
    let app = TestApp::spawn().await;
    let p = app.project("Hub").await;
    let hub = Hub::connect(app.svc.settings.redis_url.as_deref()).await.unwrap();
    let base = serve_with(&app, hub.clone()).await;
    let (ana, token) = user(&app, &p, "ana").await;
    let channel = format!("private-user-{ana}");
    assert!(!hub.is_subscribed(&p.id, &channel).await);
    let (mut ws, socket_id) = connect(&base, &p.key).await;
    let auth = channel_auth(&app, &token, &socket_id, &channel, true).await.body["auth"].as_str().unwrap().to_string();
    subscribe(&mut ws, &channel, Some(&auth), None).await;
    assert!(hub.is_subscribed(&p.id, &channel).await);
    // The same name in another project is another channel.
    assert!(!hub.is_subscribed(&uuid::Uuid::new_v4().to_string(), &channel).await);
    let data = json!({"id": "n1", "title": "Payment", "priority": "high"}).to_string();
    hub.publish(&p.id, &channel, "notification", &data).await;
    let got = next(&mut ws).await;
    assert_eq!(got, json!({"event": "notification", "channel": channel, "data": data}));
    super::support::send(&mut ws, json!({"event": "pusher:unsubscribe", "data": {"channel": channel}})).await;
    assert!(eventually(async || !hub.is_subscribed(&p.id, &channel).await).await);
    assert_eq!(hub.local_connections(), 1);
    drop(ws);
    assert!(eventually(async || hub.local_connections() == 0).await);
    app.teardown().await;
}

#[tokio::test]
async fn a_silent_socket_is_pinged_then_closed() {
    let app = TestApp::spawn().await;
    let p = app.project("Idle").await;
    let config = HubConfig {
        activity_timeout: Duration::from_secs(1),
        pong_timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let base = serve_with(&app, Hub::with_config(config)).await;
    let (mut ws, data) = connect_raw(&base, &p.key).await;
    assert_eq!(data["activity_timeout"], 1);
    assert_eq!(next(&mut ws).await["event"], "pusher:ping");
    let err = next(&mut ws).await;
    assert_eq!((err["event"].as_str(), err["data"]["code"].as_u64()), (Some("pusher:error"), Some(4201)));
    assert_eq!(next(&mut ws).await["closed"], 4201);
    // A socket that answers stays.
    let (mut alive, _) = connect_raw(&base, &p.key).await;
    for _ in 0..2 {
        assert_eq!(next(&mut alive).await["event"], "pusher:ping");
        super::support::send(&mut alive, json!({"event": "pusher:pong", "data": {}})).await;
    }
    app.teardown().await;
}

#[tokio::test]
async fn with_redis_two_processes_share_channels_and_presence() {
    let Ok(redis_url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipped: TEST_REDIS_URL is not set");
        return;
    };
    let app = TestApp::spawn().await;
    let p = app.project("Cluster").await;
    let (hub_a, hub_b) = (Hub::connect(Some(&redis_url)).await.unwrap(), Hub::connect(Some(&redis_url)).await.unwrap());
    let (base_a, base_b) = (serve_with(&app, hub_a.clone()).await, serve_with(&app, hub_b.clone()).await);
    let (mut on_a, _) = connect(&base_a, &p.key).await;
    subscribe(&mut on_a, "feed", None, None).await;
    assert!(hub_b.is_subscribed(&p.id, "feed").await, "B sees A's subscriber");
    hub_b.publish(&p.id, "feed", "tick", "1").await;
    assert_eq!(next(&mut on_a).await, json!({"event": "tick", "channel": "feed", "data": "1"}));

    let (ana, ana_token) = user(&app, &p, "ana").await;
    let (bob, bob_token) = user(&app, &p, "bob").await;
    let join = async |base: &str, token: &str| {
        let (mut ws, socket_id) = connect(base, &p.key).await;
        let r = app
            .post("/api/v1/realtime/auth", Some(token), json!({"socket_id": socket_id, "channel_name": "presence-ops"}))
            .await;
        let ok = subscribe(&mut ws, "presence-ops", r.body["auth"].as_str(), r.body["channel_data"].as_str()).await;
        (ws, ok)
    };
    let (mut ana_ws, _) = join(&base_a, &ana_token).await;
    let (bob_ws, ok) = join(&base_b, &bob_token).await;
    let snapshot: serde_json::Value = serde_json::from_str(ok["data"].as_str().unwrap()).unwrap();
    let mut ids: Vec<String> = serde_json::from_value(snapshot["presence"]["ids"].clone()).unwrap();
    ids.sort();
    let mut want = vec![ana.clone(), bob.clone()];
    want.sort();
    assert_eq!(ids, want, "B's member list includes A's socket");
    assert_eq!(next(&mut ana_ws).await["event"], "pusher_internal:member_added");
    drop(bob_ws);
    assert_eq!(next(&mut ana_ws).await["event"], "pusher_internal:member_removed");
    app.teardown().await;
}
