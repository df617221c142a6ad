//! Webhooks to the client through HTTP: a local receiver (allowed by
//! `webhook_allow_private_targets`) checks the Standard Webhooks signature and gets the events a
//! real notification causes; failing endpoints are retried on the (fast, test) schedule with one
//! log row per attempt; redelivery; a restart mid-series loses nothing; private targets are
//! refused on save; logs are per project.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::engine::{finance_rule, processed};
use crate::helpers::{Auth, TestApp, TestProject};
use crate::realtime::support::{channel_auth, connect, next, subscribe, Ws};

/// One request the receiver got.
pub struct Received {
    headers: HeaderMap,
    body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }
    /// The Standard Webhooks check: some `v1,` signature is the HMAC of `id.timestamp.body`
    /// under `secret`.
    fn signed_by(&self, secret: &str) -> bool {
        let ts: i64 = self.header("webhook-timestamp").parse().expect("a unix timestamp");
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!((now - ts).abs() < 60, "the timestamp is the attempt's");
        let expected = domain::webhooks::signing::sign(&[secret], self.header("webhook-id"), ts, &self.body).signature;
        self.header("webhook-signature").split(' ').any(|s| s == expected)
    }
}

/// A receiver on 127.0.0.1 answering the given statuses in turn, then 200.
pub struct Receiver {
    pub url: String,
    pub rx: mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    pub async fn start(statuses: &[u16]) -> Receiver {
        let (tx, rx) = mpsc::unbounded_channel();
        let plan = Arc::new(Mutex::new(statuses.iter().copied().collect::<VecDeque<u16>>()));
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (tx, plan) = (tx.clone(), plan.clone());
                async move {
                    let _ = tx.send(Received { headers, body });
                    let status = plan.lock().unwrap().pop_front().unwrap_or(200);
                    (StatusCode::from_u16(status).unwrap(), "receiver says hi")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, rx }
    }

    pub async fn next(&mut self, within: Duration) -> Received {
        tokio::time::timeout(within, self.rx.recv()).await.expect("a webhook in time").expect("receiver open")
    }

    /// The next delivery of `event`, skipping others.
    async fn event(&mut self, event: &str, within: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let r = tokio::time::timeout_at(deadline, self.rx.recv()).await.expect("the webhook in time").unwrap();
            if r.json()["event"] == event {
                return r;
            }
        }
    }
}

async fn private_app() -> TestApp {
    TestApp::spawn_with(|s| s.webhook_allow_private_targets = true).await
}

/// Saves the webhook; answers the secret shown once.
pub async fn configure(app: &TestApp, p: &TestProject, url: &str) -> String {
    let r = app.put("/api/v1/projects/me/webhook", Some(&p.admin_token), json!({"url": url})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let secret = r.body["secret"].as_str().expect("the first save shows the secret").to_string();
    assert!(secret.starts_with("whsec_"));
    secret
}

pub async fn logs(app: &TestApp, p: &TestProject) -> Vec<Value> {
    let r = app.get("/api/v1/projects/me/webhook/logs", Some(&p.admin_token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["data"].as_array().unwrap().clone()
}

/// Polls the logs until there are `n` rows (newest first).
async fn logs_until(app: &TestApp, p: &TestProject, n: usize) -> Vec<Value> {
    for _ in 0..400 {
        let rows = logs(app, p).await;
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fewer than {n} webhook log rows after 10 s");
}

/// A user holding `finance`, listening on their private channel; answers (id, token, socket).
pub async fn listening_user(app: &TestApp, p: &TestProject) -> (String, String, Ws) {
    let r = app
        .request(
            Method::POST,
            "/api/v1/users",
            Auth::Key(&p.key, &p.secret),
            Some(json!({"email": "alice@example.com", "externalUserId": "alice", "roles": ["finance"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let t = app.request(Method::POST, &format!("/api/v1/users/{id}/token"), Auth::Key(&p.key, &p.secret), None).await;
    let token = t.body["token"].as_str().unwrap().to_string();
    let (mut ws, socket_id) = connect(&app.base, &p.key).await;
    let channel = format!("private-user-{id}");
    let auth = channel_auth(app, &token, &socket_id, &channel, true).await;
    subscribe(&mut ws, &channel, auth.body["auth"].as_str(), None).await;
    (id, token, ws)
}

#[tokio::test]
async fn a_delivered_and_acknowledged_notification_reach_the_endpoint_signed() {
    let app = private_app().await;
    let p = app.project("Hooks").await;
    let mut rx = Receiver::start(&[]).await;
    let secret = configure(&app, &p, &rx.url).await;
    let shown = app.get("/api/v1/projects/me/webhook", Some(&p.admin_token)).await;
    assert_eq!(shown.status, 200);
    assert!(shown.body.get("secret").is_none(), "the secret is shown once: {}", shown.body);
    assert_eq!(shown.body["events"].as_array().unwrap().len(), 6);
    finance_rule(&app, &p).await;
    let (alice, alice_token, mut ws) = listening_user(&app, &p).await;

    let sent = app
        .send_event(&p, json!({"type": "pending_transaction", "payload": {"amount": 7000, "currency": "EUR"}}))
        .await;
    let event_id = sent.body["id"].as_str().unwrap();
    processed(&app, &p, event_id).await;
    let frame = tokio::time::timeout(Duration::from_secs(2), next(&mut ws)).await.unwrap();
    let n: Value = serde_json::from_str(frame["data"].as_str().unwrap()).unwrap();
    let notification_id = n["id"].as_str().unwrap();

    let d = rx.event("notification.delivered", Duration::from_secs(5)).await;
    assert!(d.signed_by(&secret), "signature {} over {}", d.header("webhook-signature"), d.body);
    assert!(d.header("webhook-id").starts_with("msg_"));
    assert!(d.header("x-webhook-signature").starts_with("sha256="));
    let body = d.json();
    assert_eq!(body["projectId"], p.id.as_str());
    assert!(body["timestamp"].is_string());
    assert_eq!(body["data"]["notificationId"], notification_id);
    assert_eq!(body["data"]["eventId"], event_id);
    assert_eq!(body["data"]["status"], "delivered");
    assert_eq!(body["data"]["userIds"], json!([alice]));
    assert!(body["data"]["deliveredAt"].is_string());

    let ack =
        app.put(&format!("/api/v1/notifications/{notification_id}/acknowledge"), Some(&alice_token), json!({})).await;
    assert_eq!(ack.status, 200, "{}", ack.body);
    let a = rx.event("notification.acknowledged", Duration::from_secs(5)).await;
    assert!(a.signed_by(&secret));
    assert_eq!(a.json()["data"]["userId"], alice.as_str());
    assert_eq!(a.json()["data"]["notificationId"], notification_id);
    // Acknowledging again changes nothing and sends nothing.
    app.put(&format!("/api/v1/notifications/{notification_id}/acknowledge"), Some(&alice_token), json!({})).await;

    // Self-registration with the publishable key alone.
    let reg = app
        .client
        .post(format!("{}/api/v1/users/register", app.base))
        .header("X-API-Key", &p.key)
        .json(&json!({"email": "self@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reg.status(), 201);
    let u = rx.event("user.registered", Duration::from_secs(5)).await;
    assert_eq!(u.json()["data"]["email"], "self@example.com");
    assert_eq!(u.json()["data"]["status"], "pending");
    assert!(rx.rx.try_recv().is_err(), "no second acknowledgement webhook");
    let rows = logs_until(&app, &p, 3).await;
    assert!(rows.iter().all(|r| r["success"] == true && r["attemptNumber"] == 1 && r["responseStatus"] == 200));
    app.teardown().await;
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_until_it_answers_and_can_be_redelivered() {
    let app = private_app().await;
    let p = app.project("Retries").await;
    let other = app.project("Other").await;
    let mut rx = Receiver::start(&[500, 503]).await;
    let secret = configure(&app, &p, &rx.url).await;
    let t = app.post("/api/v1/projects/me/webhook/test", Some(&p.admin_token), json!({})).await;
    assert_eq!(t.status, 202, "{}", t.body);
    let first = rx.next(Duration::from_secs(3)).await;
    let second = rx.next(Duration::from_secs(5)).await;
    let third = rx.next(Duration::from_secs(5)).await;
    for r in [&first, &second, &third] {
        assert_eq!(r.header("webhook-id"), t.body["messageId"].as_str().unwrap(), "one id across retries");
        assert!(r.signed_by(&secret));
        assert_eq!(r.json()["event"], "webhook.test");
    }
    let rows = logs_until(&app, &p, 3).await;
    let attempts: Vec<(i64, bool, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["attemptNumber"].as_i64().unwrap(),
                r["success"].as_bool().unwrap(),
                r["responseStatus"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(attempts, vec![(3, true, 200), (2, false, 503), (1, false, 500)]);
    assert_eq!(rows[2]["responseBody"], "receiver says hi");
    assert_eq!(rows[0]["eventType"], "webhook.test");
    assert_eq!(rows[0]["payload"]["event"], "webhook.test");

    // Another project sees none of it and cannot redeliver it.
    assert!(logs(&app, &other).await.is_empty());
    let log_id = rows[2]["id"].as_str().unwrap();
    let foreign = app
        .post(&format!("/api/v1/projects/me/webhook/logs/{log_id}/redeliver"), Some(&other.admin_token), json!({}))
        .await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);

    let again = app
        .post(&format!("/api/v1/projects/me/webhook/logs/{log_id}/redeliver"), Some(&p.admin_token), json!({}))
        .await;
    assert_eq!(again.status, 202, "{}", again.body);
    let fourth = rx.next(Duration::from_secs(3)).await;
    assert_eq!(fourth.header("webhook-id"), first.header("webhook-id"));
    let rows = logs_until(&app, &p, 4).await;
    assert_eq!(rows[0]["attemptNumber"], 4);
    assert_eq!(rows[0]["success"], true);

    // Rotation: both secrets sign during the overlap.
    let rotated = app.post("/api/v1/projects/me/webhook/rotate", Some(&p.admin_token), json!({})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    app.post("/api/v1/projects/me/webhook/test", Some(&p.admin_token), json!({})).await;
    let r = rx.next(Duration::from_secs(3)).await;
    assert_eq!(r.header("webhook-signature").split(' ').count(), 2);
    assert!(r.signed_by(&new_secret) && r.signed_by(&secret));
    app.teardown().await;
}

#[tokio::test]
async fn a_restart_in_the_middle_of_a_retry_series_loses_nothing() {
    // No worker in the app itself: a first node makes the first attempt and dies, a second
    // node, on the same database, finishes the series.
    let app = TestApp::spawn_without_worker(|s| {
        s.webhook_allow_private_targets = true;
        s.webhook_retry_schedule = vec![0, 2, 1];
    })
    .await;
    let p = app.project("Restart").await;
    let mut rx = Receiver::start(&[500]).await;
    configure(&app, &p, &rx.url).await;
    let t = app.post("/api/v1/projects/me/webhook/test", Some(&p.admin_token), json!({})).await;
    assert_eq!(t.status, 202);
    let first_node = app.sibling(true, |_| {}).await;
    rx.next(Duration::from_secs(3)).await;
    logs_until(&app, &p, 1).await;
    first_node.stop().await;

    let second_node = app.sibling(true, |_| {}).await;
    let retried = rx.next(Duration::from_secs(6)).await;
    assert_eq!(retried.header("webhook-id"), t.body["messageId"].as_str().unwrap());
    let rows = logs_until(&app, &p, 2).await;
    assert_eq!(rows[0]["attemptNumber"], 2);
    assert_eq!(rows[0]["success"], true);
    assert_eq!(rows[1]["success"], false);
    second_node.stop().await;
    app.teardown().await;
}

#[tokio::test]
async fn private_and_malformed_targets_are_refused_on_save() {
    let app = TestApp::spawn().await;
    let p = app.project("Guard").await;
    for url in [
        "http://localhost:8080/hook",
        "http://127.0.0.1/hook",
        "http://10.0.0.8/hook",
        "http://172.16.4.2/hook",
        "http://172.31.255.254/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9000/hook",
        "http://[fc00::1]/hook",
        "http://[fd12:3456:789a::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://metadata.google.internal/computeMetadata/v1/",
        "ftp://example.com/hook",
        "not a url",
    ] {
        let r = app.put("/api/v1/projects/me/webhook", Some(&p.admin_token), json!({"url": url})).await;
        assert_eq!(r.status, 400, "{url}: {}", r.body);
        assert!(r.body["error"]["details"]["fields"]["url"].is_string(), "{url}: {}", r.body);
    }
    let r = app
        .put(
            "/api/v1/projects/me/webhook",
            Some(&p.admin_token),
            json!({"url": "https://hooks.example.com/x", "events": ["user.exploded"]}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"]["details"]["fields"]["events"].is_string(), "{}", r.body);
    let ok = app
        .put(
            "/api/v1/projects/me/webhook",
            Some(&p.admin_token),
            json!({"url": "https://hooks.example.com/x", "events": ["user.registered"]}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["events"], json!(["user.registered"]));
    // Only a project admin's token configures it.
    let by_key = app.request(Method::GET, "/api/v1/projects/me/webhook", Auth::Key(&p.key, &p.secret), None).await;
    assert_eq!(by_key.status, 403);
    let other = app.project("No hook").await;
    assert_eq!(app.get("/api/v1/projects/me/webhook", Some(&other.admin_token)).await.status, 404);
    app.teardown().await;
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled_and_the_admins_told() {
    let app = private_app().await;
    let p = app.project("Dying").await;
    let mut rx = Receiver::start(&[500, 500, 500]).await;
    configure(&app, &p, &rx.url).await;
    // Five days of failures, compressed: the endpoint has been failing since six days ago.
    let since = (chrono::Utc::now() - chrono::Duration::days(6)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    sqlx::query("UPDATE webhook_endpoints SET failing_since = $1 WHERE project_id = $2")
        .bind(since)
        .bind(&p.id)
        .execute(app.svc.db.pool())
        .await
        .unwrap();
    app.post("/api/v1/projects/me/webhook/test", Some(&p.admin_token), json!({})).await;
    rx.next(Duration::from_secs(3)).await;
    let mut shown = Value::Null;
    for _ in 0..200 {
        shown = app.get("/api/v1/projects/me/webhook", Some(&p.admin_token)).await.body;
        if shown["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(shown["enabled"], false, "{shown}");
    assert!(shown["disabledReason"].as_str().unwrap().contains("5 days"));
    let audit = app.get("/api/v1/audit", Some(&p.admin_token)).await;
    assert!(audit.body["data"].as_array().unwrap().iter().any(|r| r["action"] == "webhook.disabled"), "{}", audit.body);
    // The owner is mailed too (no SMTP in tests: the mail waits in the outbox).
    let mails = domain::mail::outbox::recent(&app.svc, 10).await.unwrap();
    assert!(
        mails.iter().any(|m| m.to_address.starts_with("owner-") && m.subject.contains("webhook endpoint was disabled")),
        "{mails:?}"
    );
    // The rest of the series is dropped, not sent to a disabled endpoint; testing it is refused.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(rx.rx.try_recv().is_err());
    assert_eq!(app.post("/api/v1/projects/me/webhook/test", Some(&p.admin_token), json!({})).await.status, 409);
    // Re-enabling clears the reason; the secret stays.
    let back =
        app.put("/api/v1/projects/me/webhook", Some(&p.admin_token), json!({"url": rx.url, "enabled": true})).await;
    assert_eq!(back.body["enabled"], true);
    assert!(back.body["disabledReason"].is_null());
    assert!(back.body.get("secret").is_none());
    app.teardown().await;
}

#[tokio::test]
async fn an_endpoint_gets_only_the_events_it_subscribed_to_and_shows_the_source_addresses() {
    let app = TestApp::spawn_with(|s| {
        s.webhook_allow_private_targets = true;
        s.webhook_source_ips = vec!["203.0.113.10".into(), "2001:db8::/64".into()];
    })
    .await;
    let p = app.project("Toggles").await;
    let mut rx = Receiver::start(&[]).await;
    let r = app
        .put("/api/v1/projects/me/webhook", Some(&p.admin_token), json!({"url": rx.url, "events": ["user.registered"]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["sourceIps"], json!(["203.0.113.10", "2001:db8::/64"]));
    let shown = app.get("/api/v1/projects/me/webhook", Some(&p.admin_token)).await;
    assert_eq!(shown.body["sourceIps"], json!(["203.0.113.10", "2001:db8::/64"]));

    // A delivered notification: `notification.delivered` is switched off, so nothing is sent.
    finance_rule(&app, &p).await;
    let (_alice, _token, mut ws) = listening_user(&app, &p).await;
    let sent = app
        .send_event(&p, json!({"type": "pending_transaction", "payload": {"amount": 7000, "currency": "EUR"}}))
        .await;
    processed(&app, &p, sent.body["id"].as_str().unwrap()).await;
    tokio::time::timeout(Duration::from_secs(2), next(&mut ws)).await.expect("the frame");
    let reg = app
        .client
        .post(format!("{}/api/v1/users/register", app.base))
        .header("X-API-Key", &p.key)
        .json(&json!({"email": "self@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reg.status(), 201);
    let first = rx.next(Duration::from_secs(5)).await;
    assert_eq!(first.json()["event"], "user.registered", "the first message is the registration: {}", first.body);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(rx.rx.try_recv().is_err(), "and nothing else");
    app.teardown().await;
}
