//! From an event to a socket, as a client sees it: a matching event reaches the target users'
//! private channels and nobody else's; and with PostgreSQL + Redis, two server processes act as
//! one, and one that dies mid-stream loses no accepted event.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::engine::{finance_rule, processed};
use crate::helpers::{uses_postgres, Auth, TestApp, TestProject};
use crate::realtime::support::{channel_auth, connect, next, quiet, subscribe, Ws};

/// A user holding `roles`, with a socket subscribed to their private channel on `base`.
pub async fn listening_user(app: &TestApp, p: &TestProject, base: &str, name: &str, roles: &[&str]) -> (String, Ws) {
    let r = app
        .request(
            Method::POST,
            "/api/v1/users",
            Auth::Key(&p.key, &p.secret),
            Some(json!({"email": format!("{name}@example.com"), "externalUserId": name, "roles": roles})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let t = app.request(Method::POST, &format!("/api/v1/users/{id}/token"), Auth::Key(&p.key, &p.secret), None).await;
    let token = t.body["token"].as_str().unwrap();
    let (mut ws, socket_id) = connect(base, &p.key).await;
    let channel = format!("private-user-{id}");
    let auth = channel_auth(app, token, &socket_id, &channel, true).await;
    assert_eq!(auth.status, 200, "{}", auth.body);
    subscribe(&mut ws, &channel, auth.body["auth"].as_str(), None).await;
    (id, ws)
}

/// The next `notification` frame's data, within `within`.
pub async fn notification(ws: &mut Ws, within: Duration) -> Value {
    let frame = tokio::time::timeout(within, next(ws)).await.expect("a notification frame in time");
    assert_eq!(frame["event"], "notification", "{frame}");
    serde_json::from_str(frame["data"].as_str().expect("data is a JSON string")).unwrap()
}

#[tokio::test]
async fn a_matching_event_reaches_the_target_users_sockets_and_nobody_elses() {
    let app = TestApp::spawn().await;
    let p = app.project("Delivery").await;
    finance_rule(&app, &p).await;
    let (_alice, mut alice_ws) = listening_user(&app, &p, &app.base, "alice", &["finance"]).await;
    let (_bob, mut bob_ws) = listening_user(&app, &p, &app.base, "bob", &[]).await;
    let started = std::time::Instant::now();
    let sent = app
        .send_event(&p, json!({"type": "pending_transaction", "payload": {"amount": 7000, "currency": "EUR"}}))
        .await;
    let n = notification(&mut alice_ws, Duration::from_secs(1)).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(n["title"], "Large EUR payment");
    assert_eq!(n["eventId"], sent.body["id"]);
    for field in ["id", "message", "sound", "soundUrl", "priority", "action", "ruleId", "createdAt"] {
        assert!(n.get(field).is_some(), "the frame carries {field}: {n}");
    }
    quiet(&mut bob_ws, Duration::from_millis(300)).await;
    // The notification records that it went out to a live socket.
    let stored = app.get(&format!("/api/v1/notifications/{}", n["id"].as_str().unwrap()), Some(&p.admin_token)).await;
    for _ in 0..40 {
        let s = app.get(&format!("/api/v1/notifications/{}", n["id"].as_str().unwrap()), Some(&p.admin_token)).await;
        if s.body["pusherEventSent"] == true {
            assert_eq!(s.body["delivered"], true);
            assert!(s.body["deliveredAt"].is_string());
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(stored.status, 200);
    app.teardown().await;
}

#[tokio::test]
async fn two_processes_act_as_one_and_a_dead_ones_work_is_taken_over() {
    let Ok(redis_url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipped: TEST_REDIS_URL is not set");
        return;
    };
    if !uses_postgres() {
        eprintln!("skipped: needs PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    // Process A takes requests and holds the socket; it runs no worker, as if its worker died.
    let a = TestApp::spawn_without_worker(|_| {}).await;
    let p = a.project("Cluster").await;
    finance_rule(&a, &p).await;
    let (_alice, mut ws) = listening_user(&a, &p, &a.base, "alice", &["finance"]).await;

    // An event whose stream entry a consumer took and never acknowledged: a process that died
    // mid-stream.
    let first = a.send_event(&p, json!({"type": "pending_transaction", "payload": {"amount": 5000}})).await;
    let client = redis::Client::open(redis_url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("project:{}:events", p.id);
    let _: Result<(), _> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&key)
        .arg("engine")
        .arg("0")
        .arg("MKSTREAM")
        .query_async::<()>(&mut conn)
        .await;
    let taken: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("engine")
        .arg("dead-process")
        .arg("COUNT")
        .arg(10)
        .arg("STREAMS")
        .arg(&key)
        .arg(">")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(format!("{taken:?}").contains(first.body["id"].as_str().unwrap()), "the dead consumer holds the event");

    // Process B starts with a worker and takes the dead consumer's entry over; a new event sent
    // to B is processed there too, and both frames reach the socket held by A.
    let b = a.sibling(true, |s| s.stream_claim_idle = Duration::from_millis(300)).await;
    let second = a
        .client
        .post(format!("{}/api/v1/events", b.base))
        .header("X-API-Key", &p.key)
        .header("X-API-Secret", &p.secret)
        .json(&json!({"type": "pending_transaction", "payload": {"amount": 6000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 202, "B takes events too");
    let second = crate::helpers::Reply {
        status: second.status(),
        headers: second.headers().clone(),
        body: second.json().await.unwrap(),
    };
    let mut seen = vec![];
    for _ in 0..2 {
        seen.push(notification(&mut ws, Duration::from_secs(5)).await["eventId"].clone());
    }
    seen.sort_by_key(|v| v.to_string());
    let mut want = vec![first.body["id"].clone(), second.body["id"].clone()];
    want.sort_by_key(|v| v.to_string());
    assert_eq!(seen, want);
    for id in [&first.body["id"], &second.body["id"]] {
        assert_eq!(processed(&a, &p, id.as_str().unwrap()).await["status"], "processed");
    }
    // Nothing is left pending in the group (entries are acknowledged just after publishing).
    let mut pending = redis::Value::Nil;
    for _ in 0..40 {
        pending = redis::cmd("XPENDING").arg(&key).arg("engine").query_async(&mut conn).await.unwrap();
        if matches!(&pending, redis::Value::Array(v) if matches!(v.first(), Some(redis::Value::Int(0)))) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        matches!(&pending, redis::Value::Array(v) if matches!(v.first(), Some(redis::Value::Int(0)))),
        "{pending:?}"
    );
    let _: () = redis::cmd("DEL").arg(&key).query_async(&mut conn).await.unwrap();
    b.stop().await;
    a.teardown().await;
}
