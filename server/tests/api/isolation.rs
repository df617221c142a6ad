//! Fault isolation between projects (docs/JOBS.md): a project whose webhook endpoint or own
//! Pusher app never answers holds only its own share of the job workers, so another project's
//! webhooks and frames arrive on time; and leases are fences, so a late outcome never overwrites
//! a newer attempt and a redelivery never runs beside an attempt in flight.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::engine::finance_rule;
use crate::helpers::TestApp;
use crate::own_pusher::{config, finance_user};
use crate::realtime::support::{credentials, next};
use crate::webhooks::{configure, listening_user, logs, Receiver};

/// A server on 127.0.0.1 that takes every request and never answers; counts the requests and
/// the most held at once.
struct Hanging {
    port: u16,
    seen: Arc<AtomicUsize>,
    most_at_once: Arc<AtomicUsize>,
}

impl Hanging {
    async fn start() -> Hanging {
        let (seen, now, most_at_once) =
            (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (s, n, m) = (seen.clone(), now.clone(), most_at_once.clone());
        let app = axum::Router::new().fallback(move || {
            let (s, n, m) = (s.clone(), n.clone(), m.clone());
            async move {
                s.fetch_add(1, Ordering::SeqCst);
                let held = n.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(held, Ordering::SeqCst);
                // Dropped (and so counted out) when the client gives up.
                struct Out(Arc<AtomicUsize>);
                impl Drop for Out {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                let _out = Out(n);
                std::future::pending::<()>().await;
                ""
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Hanging { port, seen, most_at_once }
    }

    /// Waits until it holds at least `n` requests (so the flood is in flight).
    async fn until_seen(&self, n: usize) {
        for _ in 0..400 {
            if self.seen.load(Ordering::SeqCst) >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the hanging server got {} requests, not {n}", self.seen.load(Ordering::SeqCst));
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_project_flooding_a_hanging_endpoint_does_not_delay_another_projects_webhooks() {
    let app = TestApp::spawn_with(|s| {
        s.webhook_allow_private_targets = true;
        s.jobs.webhook_timeout = TIMEOUT;
    })
    .await;
    let cap = app.svc.settings.jobs.webhook_max_in_flight_per_endpoint as usize;
    let a = app.project("Flooder").await;
    let b = app.project("Bystander").await;
    let hanging = Hanging::start().await;
    configure(&app, &a, &format!("http://127.0.0.1:{}/hook", hanging.port)).await;
    let mut rx = Receiver::start(&[]).await;
    configure(&app, &b, &rx.url).await;

    for _ in 0..200 {
        let r = app.post("/api/v1/projects/me/webhook/test", Some(&a.admin_token), json!({})).await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    hanging.until_seen(cap.min(64)).await;

    let started = Instant::now();
    let sent = app.post("/api/v1/projects/me/webhook/test", Some(&b.admin_token), json!({})).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let got = rx.next(TIMEOUT).await;
    let took = started.elapsed();
    assert_eq!(got.header("webhook-id"), sent.body["messageId"].as_str().unwrap());
    assert!(
        took < Duration::from_secs(2),
        "B's webhook took {took:?} behind A's hanging endpoint (timeout {TIMEOUT:?})"
    );
    let most = hanging.most_at_once.load(Ordering::SeqCst);
    assert!(most <= cap, "the hanging endpoint held {most} attempts at once; the cap is {cap}");
    app.teardown().await;
}

#[tokio::test]
async fn a_projects_hanging_pusher_app_does_not_delay_another_projects_frames() {
    let app = TestApp::spawn_with(|s| {
        s.webhook_allow_private_targets = true;
        s.jobs.pusher_timeout = TIMEOUT;
    })
    .await;
    let cap = app.svc.settings.jobs.pusher_max_in_flight_per_project as usize;
    let a = app.project("Own Pusher, hanging").await;
    let b = app.project("Built-in").await;
    let hanging = Hanging::start().await;
    // A's own Pusher app is a server that never answers (the credentials are well-formed; it
    // never gets as far as checking them).
    let mut creds = credentials(&app, &b).await;
    creds.port = u64::from(hanging.port);
    let set = app
        .put("/api/v1/projects/me", Some(&a.admin_token), json!({"pusherConfig": config(&creds, "any-secret")}))
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    finance_rule(&app, &a).await;
    finance_user(&app, &a, "alice").await;
    finance_rule(&app, &b).await;
    let (_bob, _token, mut ws) = listening_user(&app, &b).await;

    for i in 0..40 {
        let r = app
            .send_event(&a, json!({"type": "pending_transaction", "payload": {"amount": 5000 + i, "currency": "EUR"}}))
            .await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    hanging.until_seen(cap.min(40)).await;

    let started = Instant::now();
    let sent = app
        .send_event(&b, json!({"type": "pending_transaction", "payload": {"amount": 7000, "currency": "EUR"}}))
        .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let frame = tokio::time::timeout(TIMEOUT, next(&mut ws)).await.expect("B's frame within the timeout");
    let took = started.elapsed();
    assert_eq!(frame["event"], "notification", "{frame}");
    assert!(
        took < Duration::from_secs(2),
        "B's frame took {took:?} behind A's hanging Pusher app (timeout {TIMEOUT:?})"
    );
    let most = hanging.most_at_once.load(Ordering::SeqCst);
    assert!(most <= cap, "A's Pusher app held {most} triggers at once; the cap is {cap}");
    app.teardown().await;
}

#[tokio::test]
async fn a_late_outcome_never_overwrites_a_newer_attempt_and_redelivery_waits_for_the_attempt_in_flight() {
    use domain::webhooks::delivery::{self, Attempt};
    // No worker: the test claims and records as two workers would.
    let app = TestApp::spawn_without_worker(|s| s.webhook_allow_private_targets = true).await;
    let p = app.project("Fenced").await;
    configure(&app, &p, "http://127.0.0.1:9/hook").await;
    let sent = app.post("/api/v1/projects/me/webhook/test", Some(&p.admin_token), json!({})).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let message_id = sent.body["messageId"].as_str().unwrap().to_string();
    let ok = Attempt { response_status: Some(200), response_body: Some("ok".into()), ..Default::default() };
    let refused = Attempt { response_status: Some(500), response_body: Some("no".into()), ..Default::default() };

    let first = delivery::claim_due_across_projects(&app.svc, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        delivery::claim_due_across_projects(&app.svc, 10).await.unwrap().is_empty(),
        "a leased message is not claimed twice"
    );
    // The first worker stalls past its lease; another claims the message again.
    sqlx::query("UPDATE webhook_messages SET lease_until = '2000-01-01T00:00:00.000000Z' WHERE id = $1")
        .bind(&message_id)
        .execute(app.svc.db.pool())
        .await
        .unwrap();
    let second = delivery::claim_due_across_projects(&app.svc, 10).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_ne!(first[0].lease, second[0].lease);

    // While the second attempt is in flight, a redelivery is refused rather than run beside it.
    let log_id = {
        delivery::record(&app.svc, &first[0], &ok).await.unwrap(); // late: changes nothing
        assert!(logs(&app, &p).await.is_empty(), "the late outcome left no log row");
        let status: String = sqlx::query_scalar("SELECT status FROM webhook_messages WHERE id = $1")
            .bind(&message_id)
            .fetch_one(app.svc.db.pool())
            .await
            .unwrap();
        assert_eq!(status, "pending", "the late success did not mark the message delivered");
        delivery::record(&app.svc, &second[0], &refused).await.unwrap();
        let rows = logs(&app, &p).await;
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0]["attemptNumber"].as_i64(), rows[0]["success"].as_bool()), (Some(1), Some(false)));
        rows[0]["id"].as_str().unwrap().to_string()
    };
    let redeliver = format!("/api/v1/projects/me/webhook/logs/{log_id}/redeliver");
    let again = app.post(&redeliver, Some(&p.admin_token), json!({})).await;
    assert_eq!(again.status, 202, "{}", again.body);
    let third = delivery::claim_due_across_projects(&app.svc, 10).await.unwrap();
    assert_eq!(third.len(), 1);
    let busy = app.post(&redeliver, Some(&p.admin_token), json!({})).await;
    assert_eq!(busy.status, 409, "{}", busy.body);
    assert_eq!(busy.code(), "conflict");
    assert!(busy.body["error"]["message"].as_str().unwrap().contains("in flight"), "{}", busy.body);

    // A stale success arriving now still changes nothing; the attempt in flight decides.
    delivery::record_all(&app.svc, &[(second[0].clone(), ok.clone())]).await.unwrap();
    assert_eq!(logs(&app, &p).await.len(), 1);
    delivery::record_all(&app.svc, &[(third[0].clone(), ok)]).await.unwrap();
    let rows = logs(&app, &p).await;
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0]["attemptNumber"].as_i64(), rows[0]["success"].as_bool()), (Some(2), Some(true)), "{rows:?}");
    let status: String = sqlx::query_scalar("SELECT status FROM webhook_messages WHERE id = $1")
        .bind(&message_id)
        .fetch_one(app.svc.db.pool())
        .await
        .unwrap();
    assert_eq!(status, "delivered");
    let after = app.post(&redeliver, Some(&p.admin_token), json!({})).await;
    assert_eq!(after.status, 202, "once recorded, it may be redelivered: {}", after.body);
    app.teardown().await;
}
