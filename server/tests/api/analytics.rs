//! Analytics (docs/ANALYTICS.md): the answers of a known dataset, and the figures a real event,
//! socket delivery and acknowledgement leave.

use std::time::Duration;

use serde_json::{json, Value};

use crate::delivery::{listening_user, notification};
use crate::engine::finance_rule;
use crate::helpers::{TestApp, TestProject};

async fn get(app: &TestApp, p: &TestProject, path: &str) -> Value {
    let r = app.get(path, Some(&p.admin_token)).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.body
}

fn period<'a>(series: &'a Value, label: &str) -> &'a Value {
    series["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["period"] == label)
        .unwrap_or_else(|| panic!("{label} in {series}"))
}

#[tokio::test]
async fn a_known_dataset_gives_its_rates_percentiles_and_engagement() {
    let app = TestApp::spawn().await;
    let p = app.project("Known").await;
    let a = &app.svc.analytics;
    let now = chrono::Utc::now();
    // Made 2 s ago for events received 100 ms before that: deliveries take about 2.1 s.
    let created = now - chrono::Duration::seconds(2);
    let received = Some(created - chrono::Duration::milliseconds(100));
    let users: Vec<String> = (0..4).map(|i| format!("u{i}")).collect();
    for i in 0..10 {
        a.created(&p.id, created, &users[i % 2..i % 2 + 2]);
    }
    for _ in 0..6 {
        a.delivered(&p.id, domain::analytics::Channel::Socket, created, received, true);
    }
    for _ in 0..2 {
        a.delivered(&p.id, domain::analytics::Channel::Push, created, received, true);
    }
    // A push after the socket had it: the channel counts it, the notification does not again.
    a.delivered(&p.id, domain::analytics::Channel::Push, created, received, false);
    a.failed(&p.id, domain::analytics::Channel::Push, created);
    a.failed(&p.id, domain::analytics::Channel::All, created);
    for u in ["u0", "u1", "u2", "u1", "u0"] {
        a.acknowledged(&p.id, u, created, created + chrono::Duration::seconds(30));
    }
    a.flush(&app.svc.db).await.unwrap();

    let hour = created.format("%Y-%m-%dT%H:00:00Z").to_string();
    let rates = get(&app, &p, "/api/v1/analytics/delivery-rates?interval=hour").await;
    assert_eq!(rates["data"].as_array().unwrap().len(), 24, "the last 24 hours, empty ones too");
    let h = period(&rates, &hour);
    assert_eq!((h["sent"].as_i64(), h["delivered"].as_i64(), h["failed"].as_i64()), (Some(10), Some(8), Some(1)));
    assert_eq!(h["deliveryRate"], 0.8);
    let p50 = h["p50LatencyMs"].as_i64().unwrap();
    assert!((1_000..=2_500).contains(&p50), "about 2.1 s, in its bucket: {p50}");
    assert_eq!(h["byChannel"]["socket"]["delivered"], 6);
    assert_eq!(
        (h["byChannel"]["push"]["delivered"].as_i64(), h["byChannel"]["push"]["failed"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(h["byChannel"]["pusher"]["delivered"], 0);
    assert_eq!(h["byChannel"]["pusher"]["p50LatencyMs"], Value::Null);

    let day = created.format("%Y-%m-%d").to_string();
    let by_day = get(&app, &p, &format!("/api/v1/analytics/delivery-rates?from={day}&to={day}")).await;
    assert_eq!(by_day["data"].as_array().unwrap().len(), 1);
    assert_eq!(period(&by_day, &day)["sent"], 10);

    let engagement =
        get(&app, &p, &format!("/api/v1/analytics/user-engagement?from={day}&to={day}&interval=day")).await;
    let d = period(&engagement, &day);
    assert_eq!(d["notificationsReceived"], 20, "10 notifications to 2 users each");
    assert_eq!(d["acknowledged"], 5);
    assert_eq!(d["ackRate"], 0.25);
    assert_eq!(d["activeUsers"], 3, "u0, u1, u2 received; u2 acknowledged too");
    let median = d["medianSecondsToAck"].as_f64().unwrap();
    assert!((10.0..=30.0).contains(&median), "30 s, in the (10 s, 30 s] bucket: {median}");
    let hourly = get(&app, &p, "/api/v1/analytics/user-engagement?interval=hour").await;
    assert_eq!(period(&hourly, &hour)["acknowledged"], 5);

    // Another project sees nothing of it.
    let other = app.project("Other").await;
    let theirs = get(&app, &other, &format!("/api/v1/analytics/delivery-rates?from={day}&to={day}")).await;
    assert_eq!(period(&theirs, &day)["sent"], 0);
    assert_eq!(period(&theirs, &day)["deliveryRate"], Value::Null);

    for bad in ["interval=week", "from=yesterday", "from=2020-01-01&interval=hour", "from=2026-12-05&to=2026-12-01"] {
        let r = app.get(&format!("/api/v1/analytics/delivery-rates?{bad}"), Some(&p.admin_token)).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    app.teardown().await;
}

#[tokio::test]
async fn an_event_delivered_over_the_socket_and_acknowledged_is_counted() {
    let app = TestApp::spawn().await;
    let p = app.project("Live").await;
    finance_rule(&app, &p).await;
    let (alice, mut ws) = listening_user(&app, &p, &app.base, "alice", &["finance"]).await;
    let mut ids = vec![];
    for i in 0..3 {
        let ev = json!({"type": "pending_transaction", "clientEventId": format!("a-{i}"), "payload": {"amount": 5000, "currency": "EUR"}});
        assert_eq!(app.send_event(&p, ev).await.status, 202);
        ids.push(notification(&mut ws, Duration::from_secs(5)).await["id"].as_str().unwrap().to_string());
    }
    let ack = app
        .post(&format!("/api/v1/notifications/{}/acknowledge", ids[0]), Some(&p.admin_token), json!({"userId": alice}))
        .await;
    assert_eq!(ack.status, 200, "{}", ack.body);

    // The flusher writes the rollups within its interval (100 ms in tests).
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let mut d = Value::Null;
    for _ in 0..50 {
        let rates = get(&app, &p, &format!("/api/v1/analytics/delivery-rates?from={today}&to={today}")).await;
        d = period(&rates, &today).clone();
        if d["delivered"] == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!((d["sent"].as_i64(), d["delivered"].as_i64()), (Some(3), Some(3)), "{d}");
    assert_eq!(d["deliveryRate"], 1.0);
    assert_eq!(d["byChannel"]["socket"]["delivered"], 3);
    assert!(d["p50LatencyMs"].as_i64().is_some_and(|ms| ms < 5_000), "{d}");
    let engagement = get(&app, &p, &format!("/api/v1/analytics/user-engagement?from={today}&to={today}")).await;
    let e = period(&engagement, &today);
    assert_eq!((e["notificationsReceived"].as_i64(), e["acknowledged"].as_i64()), (Some(3), Some(1)), "{e}");
    assert_eq!(e["activeUsers"], 1);
    app.teardown().await;
}
