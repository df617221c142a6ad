//! Stripe billing against a local stand-in that speaks the parts of Stripe's API the platform
//! calls, with webhooks signed the way Stripe signs them.

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde_json::{json, Value};

use crate::helpers::{TestApp, TestProject};

const WEBHOOK_SECRET: &str = "whsec_test_secret";

type Calls = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

/// The stand-in: records each call's path and form, answers as Stripe would.
async fn stripe_stand_in() -> (String, Calls) {
    let calls: Calls = Default::default();
    async fn customers(State(c): State<Calls>, Form(f): Form<Vec<(String, String)>>) -> Json<Value> {
        c.lock().unwrap().push(("/v1/customers".into(), f));
        Json(json!({"id": "cus_test_1", "object": "customer"}))
    }
    async fn checkout(State(c): State<Calls>, Form(f): Form<Vec<(String, String)>>) -> Json<Value> {
        c.lock().unwrap().push(("/v1/checkout/sessions".into(), f));
        Json(
            json!({"id": "cs_test_1", "object": "checkout.session", "url": "https://checkout.stripe.test/c/cs_test_1"}),
        )
    }
    async fn portal(State(c): State<Calls>, Form(f): Form<Vec<(String, String)>>) -> Json<Value> {
        c.lock().unwrap().push(("/v1/billing_portal/sessions".into(), f));
        Json(json!({"id": "bps_1", "object": "billing_portal.session", "url": "https://billing.stripe.test/p/bps_1"}))
    }
    async fn usage(
        State(c): State<Calls>,
        Path(item): Path<String>,
        Form(f): Form<Vec<(String, String)>>,
    ) -> Json<Value> {
        c.lock().unwrap().push((format!("/v1/subscription_items/{item}/usage_records"), f));
        Json(json!({"id": "mbur_1", "object": "usage_record"}))
    }
    let router = Router::new()
        .route("/v1/customers", post(customers))
        .route("/v1/checkout/sessions", post(checkout))
        .route("/v1/billing_portal/sessions", post(portal))
        .route("/v1/subscription_items/{item}/usage_records", post(usage))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), calls)
}

async fn billing_app(stripe: &str) -> TestApp {
    let stripe = stripe.to_string();
    TestApp::spawn_with(move |s| {
        s.billing.stripe_secret_key = Some("sk_test_1".into());
        s.billing.stripe_webhook_secret = Some(WEBHOOK_SECRET.into());
        s.billing.price_starter = Some("price_starter".into());
        s.billing.price_professional = Some("price_pro".into());
        s.billing.api_base = stripe;
        s.billing.grace = std::time::Duration::from_millis(600);
        s.billing.sweep_interval = std::time::Duration::from_millis(100);
    })
    .await
}

/// Posts a Stripe event signed at `t` with `secret`.
async fn deliver(app: &TestApp, event: &Value, t: i64, secret: &str) -> reqwest::Response {
    let body = event.to_string();
    let sig = domain::billing::signature::sign_at(secret, t, body.as_bytes());
    app.client
        .post(format!("{}/api/v1/billing/stripe/webhook", app.base))
        .header("Stripe-Signature", format!("t={t},v1={sig}"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn billing(app: &TestApp, p: &TestProject) -> Value {
    let r = app.get("/api/v1/projects/me/billing", Some(&p.admin_token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The project as staff see it (a suspended project's own admins are refused).
async fn staff_view(app: &TestApp, p: &TestProject) -> Value {
    app.get(&format!("/api/v1/platform/projects/{}", p.id), Some(&app.admin_token)).await.body
}

async fn wait_for_status(app: &TestApp, p: &TestProject, status: &str) {
    for _ in 0..50 {
        if staff_view(app, p).await["status"] == status {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the project never became {status}");
}

#[tokio::test]
async fn checkout_payment_failure_grace_suspension_and_payment() {
    let (stripe, calls) = stripe_stand_in().await;
    let app = billing_app(&stripe).await;
    let p = app.project_on("Paying", "free").await;

    let r = app.post("/api/v1/projects/me/billing/checkout", Some(&p.admin_token), json!({"plan": "starter"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["url"], "https://checkout.stripe.test/c/cs_test_1");
    {
        let calls = calls.lock().unwrap();
        assert_eq!(calls[0].0, "/v1/customers");
        assert!(calls[0].1.contains(&("metadata[projectId]".into(), p.id.clone())));
        assert_eq!(calls[1].0, "/v1/checkout/sessions");
        assert!(calls[1].1.contains(&("line_items[0][price]".into(), "price_starter".into())));
        assert!(calls[1].1.contains(&("customer".into(), "cus_test_1".into())));
        assert!(calls[1].1.contains(&("mode".into(), "subscription".into())));
    }
    assert_eq!(billing(&app, &p).await["stripeCustomerId"], "cus_test_1");
    let bad = app.post("/api/v1/projects/me/billing/checkout", Some(&p.admin_token), json!({"plan": "gold"})).await;
    assert_eq!(bad.status, 400);

    let completed = json!({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_test_1", "object": "checkout.session", "customer": "cus_test_1", "subscription": "sub_1",
        "client_reference_id": p.id, "metadata": {"projectId": p.id, "plan": "starter"}}}});
    assert_eq!(deliver(&app, &completed, now(), WEBHOOK_SECRET).await.status(), 200);
    let updated = json!({"id": "evt_2", "type": "customer.subscription.updated", "data": {"object": {
        "id": "sub_1", "object": "subscription", "customer": "cus_test_1", "status": "active",
        "current_period_end": now() + 30 * 86400, "metadata": {},
        "items": {"data": [{"id": "si_1", "price": {"id": "price_starter"}}]}}}});
    assert_eq!(deliver(&app, &updated, now(), WEBHOOK_SECRET).await.status(), 200);
    let b = billing(&app, &p).await;
    assert_eq!((b["plan"].as_str(), b["status"].as_str()), (Some("starter"), Some("active")), "{b}");
    assert_eq!(b["subscriptionId"], "sub_1");
    assert!(b["currentPeriodEnd"].is_string());
    let me = app.get("/api/v1/projects/me", Some(&p.admin_token)).await;
    assert_eq!(me.body["quotas"]["eventsPerMonth"], 50000, "the plan's quotas follow");

    let failed = json!({"id": "evt_3", "type": "invoice.payment_failed", "data": {"object": {
        "id": "in_1", "object": "invoice", "customer": "cus_test_1", "subscription": "sub_1"}}});
    let r = deliver(&app, &failed, now(), WEBHOOK_SECRET).await;
    assert_eq!(r.status(), 200);
    let b = billing(&app, &p).await;
    assert_eq!(b["status"], "past_due");
    assert!(b["graceUntil"].is_string());
    assert_eq!(app.send_event(&p, json!({"type": "t", "payload": {}})).await.status, 202, "the grace still sends");

    // A replayed event changes nothing.
    let replay: Value = deliver(&app, &failed, now(), WEBHOOK_SECRET).await.json().await.unwrap();
    assert_eq!(replay["duplicate"], true);

    wait_for_status(&app, &p, "suspended").await;
    let refused = app.send_event(&p, json!({"type": "t", "payload": {}})).await;
    assert_eq!(refused.status, 403, "suspended: {}", refused.body);

    let paid = json!({"id": "evt_4", "type": "invoice.paid", "data": {"object": {
        "id": "in_1", "object": "invoice", "customer": "cus_test_1"}}});
    assert_eq!(deliver(&app, &paid, now(), WEBHOOK_SECRET).await.status(), 200);
    assert_eq!(staff_view(&app, &p).await["status"], "active");
    assert_eq!(app.send_event(&p, json!({"type": "t", "payload": {}})).await.status, 202, "paid: sends again");

    let portal = app.post("/api/v1/projects/me/billing/portal", Some(&p.admin_token), json!({})).await;
    assert_eq!(portal.body["url"], "https://billing.stripe.test/p/bps_1", "{}", portal.body);

    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_logs WHERE project_id = $1")
        .bind(&p.id)
        .fetch_all(app.svc.db.pool())
        .await
        .unwrap();
    assert!(actions.iter().filter(|a| *a == "billing.update").count() >= 3, "{actions:?}");
    assert!(actions.iter().any(|a| a == "project.suspend"), "{actions:?}");
    app.teardown().await;
}

#[tokio::test]
async fn bad_or_stale_signatures_are_400_and_change_nothing() {
    let (stripe, _) = stripe_stand_in().await;
    let app = billing_app(&stripe).await;
    let p = app.project_on("Guarded", "free").await;
    let failed = json!({"id": "evt_x", "type": "invoice.payment_failed", "data": {"object": {
        "object": "invoice", "metadata": {"projectId": p.id}}}});
    assert_eq!(deliver(&app, &failed, now(), "whsec_wrong").await.status(), 400);
    assert_eq!(deliver(&app, &failed, now() - 301, WEBHOOK_SECRET).await.status(), 400);
    let unsigned = app.post("/api/v1/billing/stripe/webhook", None, failed.clone()).await;
    assert_eq!(unsigned.status, 400);
    assert_eq!(billing(&app, &p).await["status"], "active");
    // The same event, signed, is handled.
    assert_eq!(deliver(&app, &failed, now(), WEBHOOK_SECRET).await.status(), 200);
    assert_eq!(billing(&app, &p).await["status"], "past_due");
    app.teardown().await;
}

#[tokio::test]
async fn without_stripe_billing_answers_503() {
    let app = TestApp::spawn().await;
    let p = app.project("Unbilled").await;
    let r = app.post("/api/v1/projects/me/billing/checkout", Some(&p.admin_token), json!({"plan": "starter"})).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.code(), "billing_unavailable");
    assert_eq!(app.get("/api/v1/projects/me/billing", Some(&p.admin_token)).await.status, 503);
    assert_eq!(app.post("/api/v1/billing/stripe/webhook", None, json!({})).await.status, 503);
    app.teardown().await;
}

#[tokio::test]
async fn overage_of_a_billing_project_is_reported_as_metered_usage() {
    let (stripe, calls) = stripe_stand_in().await;
    let stripe_base = stripe.clone();
    let app = TestApp::spawn_with(move |s| {
        s.billing.stripe_secret_key = Some("sk_test_1".into());
        s.billing.stripe_webhook_secret = Some(WEBHOOK_SECRET.into());
        s.billing.price_starter = Some("price_starter".into());
        s.billing.price_overage = Some("price_overage".into());
        s.billing.api_base = stripe_base;
        s.billing.sweep_interval = std::time::Duration::from_millis(100);
    })
    .await;
    let p = app.project_on("Metered", "starter").await;
    let r = app
        .put(
            &format!("/api/v1/platform/projects/{}", p.id),
            Some(&app.admin_token),
            json!({"overage": "bill", "quotas": {"eventsPerMonth": 3}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sub = json!({"id": "evt_sub", "type": "customer.subscription.created", "data": {"object": {
        "id": "sub_9", "object": "subscription", "customer": "cus_9", "status": "active", "metadata": {"projectId": p.id},
        "items": {"data": [{"id": "si_base", "price": {"id": "price_starter"}}, {"id": "si_meter", "price": {"id": "price_overage"}}]}}}});
    assert_eq!(deliver(&app, &sub, now(), WEBHOOK_SECRET).await.status(), 200);
    for i in 0..5 {
        let r = app.send_event(&p, json!({"type": "t", "payload": {"i": i}})).await;
        assert_eq!(r.status, 202, "a billing project goes past its quota: {}", r.body);
    }
    // The reporter runs every 100 ms while the events arrive, so the overage may come in more
    // than one increment: what counts is that the increments add up to exactly the overage.
    let reported_total = || -> u64 {
        calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(path, _)| path == "/v1/subscription_items/si_meter/usage_records")
            .map(|(_, form)| {
                assert!(form.contains(&("action".into(), "increment".into())), "{form:?}");
                form.iter().find(|(k, _)| k == "quantity").and_then(|(_, v)| v.parse::<u64>().ok()).unwrap_or(0)
            })
            .sum()
    };
    for _ in 0..50 {
        if reported_total() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(reported_total(), 2, "the overage was reported");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(reported_total(), 2, "and reported once");
    app.teardown().await;
}
