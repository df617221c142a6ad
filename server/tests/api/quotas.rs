//! Plans and quotas: the monthly event quota refused exactly at its limit (also under
//! concurrency and across two processes), the 80% / 100% warnings once each, count limits,
//! plan-gated features, per-key rate limits, and the usage answers.

use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Auth, TestApp, TestProject};

async fn set(app: &TestApp, p: &TestProject, body: Value) -> Value {
    let r = app.put(&format!("/api/v1/platform/projects/{}", p.id), Some(&app.admin_token), body).await;
    assert_eq!(r.status, 200, "staff update: {}", r.body);
    r.body
}

fn batch(n: usize) -> Value {
    json!({"events": (0..n).map(|i| json!({"type": "t", "payload": {"i": i}})).collect::<Vec<_>>()})
}

async fn send_batch(base: &str, app: &TestApp, p: &TestProject, n: usize) -> Value {
    let r = app
        .client
        .post(format!("{base}/api/v1/events/batch"))
        .header("X-API-Key", &p.key)
        .header("X-API-Secret", &p.secret)
        .json(&batch(n))
        .send()
        .await
        .expect("batch");
    assert_eq!(r.status(), 207);
    r.json().await.expect("json")
}

fn accepted(results: &Value) -> usize {
    results["results"].as_array().unwrap().iter().filter(|r| r["status"] == "accepted").count()
}

#[tokio::test]
async fn a_free_project_sends_exactly_its_quota_then_is_refused() {
    let app = TestApp::spawn().await;
    let p = app.project_on("Free", "free").await;
    let me = app.get("/api/v1/projects/me", Some(&p.admin_token)).await;
    assert_eq!(me.body["quotas"]["eventsPerMonth"], 1000, "{}", me.body);
    assert_eq!(me.body["currentUsage"]["eventsThisMonth"], 0);

    let first = app.request(Method::POST, "/api/v1/events/batch", Auth::Key(&p.key, &p.secret), Some(batch(500))).await;
    assert_eq!(accepted(&first.body), 500);
    assert_eq!(first.headers["x-quota-limit"], "1000");
    assert_eq!(first.headers["x-quota-remaining"], "500");
    assert!(first.headers["x-quota-reset"].to_str().unwrap().parse::<i64>().is_ok());
    // 499 fit, then one single event, then nothing.
    let second =
        app.request(Method::POST, "/api/v1/events/batch", Auth::Key(&p.key, &p.secret), Some(batch(499))).await;
    assert_eq!(accepted(&second.body), 499);
    let last = app.send_event(&p, json!({"type": "t", "payload": {}})).await;
    assert_eq!(last.status, 202, "the 1000th event fits: {}", last.body);
    assert_eq!(last.headers["x-quota-remaining"], "0");

    let refused = app.send_event(&p, json!({"type": "t", "payload": {}})).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.code(), "quota_exceeded");
    let d = &refused.body["error"]["details"];
    assert_eq!(
        (d["quota"].as_str(), d["limit"].as_i64(), d["used"].as_i64()),
        (Some("eventsPerMonth"), Some(1000), Some(1000))
    );
    assert!(d["resetsAt"].is_string());
    assert!(refused.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 0);

    let over = app.request(Method::POST, "/api/v1/events/batch", Auth::Key(&p.key, &p.secret), Some(batch(2))).await;
    assert_eq!(over.body["results"][1]["status"], "rejected");
    assert_eq!(over.body["results"][1]["error"]["code"], "quota_exceeded");

    let usage = app.get("/api/v1/projects/me/usage?periodType=monthly", Some(&p.admin_token)).await;
    assert_eq!(usage.status, 200, "{}", usage.body);
    assert_eq!(usage.body["current"]["eventsThisMonth"], 1000);
    assert_eq!(usage.body["data"][0]["eventsReceived"], 1000);
    assert_eq!(usage.body["quotas"]["eventsPerMonth"], 1000);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE project_id = $1")
        .bind(&p.id)
        .fetch_one(app.svc.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 1000, "nothing past the quota is stored");
    app.teardown().await;
}

#[tokio::test]
async fn concurrent_batches_from_two_processes_never_pass_the_quota() {
    let app = TestApp::spawn().await;
    let sibling = app.sibling(false, |_| {}).await;
    let p = app.project_on("Busy", "free").await;
    set(&app, &p, json!({"quotas": {"eventsPerMonth": 95}, "rateLimitPerSecond": 1000})).await;
    let sends = (0..24).map(|i| {
        let base = if i % 2 == 0 { app.base.clone() } else { sibling.base.clone() };
        let (app, p) = (&app, &p);
        async move { accepted(&send_batch(&base, app, p, 7).await) }
    });
    let total: usize = join_all(sends).await.into_iter().sum();
    assert_eq!(total, 95, "exactly the quota is admitted");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE project_id = $1")
        .bind(&p.id)
        .fetch_one(app.svc.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 95);
    let usage = app.get("/api/v1/projects/me/usage?periodType=daily", Some(&p.admin_token)).await;
    assert_eq!(usage.body["data"][0]["eventsReceived"], 95, "{}", usage.body);
    sibling.stop().await;
    app.teardown().await;
}

async fn count(app: &TestApp, sql: &str, project_id: &str) -> i64 {
    sqlx::query_scalar(sql).bind(project_id).fetch_one(app.svc.db.pool()).await.unwrap()
}

#[tokio::test]
async fn warnings_at_80_and_100_percent_arrive_once_each() {
    let app = TestApp::spawn_with(|s| s.webhook_allow_private_targets = true).await;
    let p = app.project_on("Warned", "starter").await;
    set(&app, &p, json!({"quotas": {"eventsPerMonth": 10}, "billingEmail": "billing@example.com"})).await;
    let hook =
        app.put("/api/v1/projects/me/webhook", Some(&p.admin_token), json!({"url": "http://127.0.0.1:9/hook"})).await;
    assert_eq!(hook.status, 200, "{}", hook.body);
    for i in 0..13 {
        let r = app.send_event(&p, json!({"type": "t", "payload": {"i": i}})).await;
        assert_eq!(r.status, if i < 10 { 202 } else { 429 }, "event {i}: {}", r.body);
    }
    let webhooks = "SELECT COUNT(*) FROM webhook_messages WHERE project_id = $1 AND event_type = ";
    assert_eq!(count(&app, &format!("{webhooks}'quota.warning'"), &p.id).await, 1);
    assert_eq!(count(&app, &format!("{webhooks}'quota.exceeded'"), &p.id).await, 1);
    let body: String =
        sqlx::query_scalar("SELECT body FROM webhook_messages WHERE project_id = $1 AND event_type = 'quota.warning'")
            .bind(&p.id)
            .fetch_one(app.svc.db.pool())
            .await
            .unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["data"]["used"], 8);
    assert_eq!(body["data"]["limit"], 10);
    let mails: Vec<(String, String)> = sqlx::query_as("SELECT to_address, subject FROM outbox ORDER BY created_at")
        .fetch_all(app.svc.db.pool())
        .await
        .unwrap();
    let quota_mails: Vec<_> = mails.iter().filter(|(_, s)| s.contains("quota")).collect();
    assert_eq!(quota_mails.len(), 2, "{mails:?}");
    assert!(quota_mails.iter().all(|(to, _)| to == "billing@example.com"));
    assert!(quota_mails[0].1.contains("80%") && quota_mails[1].1.contains("used up"), "{quota_mails:?}");
    app.teardown().await;
}

#[tokio::test]
async fn a_key_past_its_rate_gets_429_with_ratelimit_headers() {
    let app = TestApp::spawn().await;
    let p = app.project_on("Rated", "free").await;
    set(&app, &p, json!({"rateLimitPerSecond": 3})).await;
    let mut last = None;
    for i in 0..4 {
        let r = app.send_event(&p, json!({"type": "t", "payload": {}})).await;
        if i < 3 {
            assert_eq!(r.status, 202, "{}", r.body);
            assert_eq!(r.headers["ratelimit-limit"], "3");
            assert_eq!(r.headers["ratelimit-remaining"], (2 - i).to_string().as_str());
        }
        last = Some(r);
    }
    let r = last.unwrap();
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.code(), "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(r.headers["ratelimit-limit"], "3");
    assert_eq!(r.headers["ratelimit-remaining"], "0");
    app.teardown().await;
}

#[tokio::test]
async fn count_limits_and_plan_gated_features() {
    let app = TestApp::spawn().await;
    let p = app.project_on("Small", "free").await;
    let hook = app
        .put("/api/v1/projects/me/webhook", Some(&p.admin_token), json!({"url": "https://hooks.example.com/x"}))
        .await;
    assert_eq!(hook.status, 403, "{}", hook.body);
    assert_eq!(hook.code(), "plan_upgrade_required");
    assert_eq!(hook.body["error"]["details"]["feature"], "webhook");
    let domain = app
        .put("/api/v1/projects/me/branding", Some(&p.admin_token), json!({"customDomain": "admin.example.com"}))
        .await;
    assert_eq!(domain.code(), "plan_upgrade_required");

    // The owner is the one user the override allows.
    set(&app, &p, json!({"quotas": {"users": 1}})).await;
    let u = app
        .request(
            Method::POST,
            "/api/v1/users",
            Auth::Key(&p.key, &p.secret),
            Some(json!({"email": "a@example.com", "externalUserId": "a"})),
        )
        .await;
    assert_eq!(u.status, 403, "{}", u.body);
    assert_eq!(u.code(), "quota_exceeded");
    assert_eq!(u.body["error"]["details"]["quota"], "users");

    // A plan change moves the quotas that are not overridden.
    let after = set(&app, &p, json!({"plan": "starter"})).await;
    assert_eq!(after["quotas"]["eventsPerMonth"], 50000);
    assert_eq!(after["quotas"]["users"], 1, "the override stays");
    let back = set(&app, &p, json!({"quotas": {"users": "plan"}})).await;
    assert_eq!(back["quotas"]["users"], 1000);
    let hook = app
        .put("/api/v1/projects/me/webhook", Some(&p.admin_token), json!({"url": "https://hooks.example.com/x"}))
        .await;
    assert_eq!(hook.status, 200, "starter has webhooks: {}", hook.body);
    let audit: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_logs WHERE project_id = $1")
        .bind(&p.id)
        .fetch_all(app.svc.db.pool())
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a == "project.plan_change"), "{audit:?}");
    assert!(audit.iter().any(|a| a == "project.quota_override"), "{audit:?}");
    let bad = app
        .put(&format!("/api/v1/platform/projects/{}", p.id), Some(&app.admin_token), json!({"quotas": {"users": -1}}))
        .await;
    assert_eq!(bad.status, 400);
    app.teardown().await;
}

#[tokio::test]
async fn metered_usage_is_flushed_and_read_by_another_process() {
    let app = TestApp::spawn().await;
    let p = app.project("Unlimited").await;
    for i in 0..5 {
        let r = app.send_event(&p, json!({"type": "t", "payload": {"i": i}})).await;
        assert_eq!(r.status, 202);
        assert_eq!(r.headers["x-quota-limit"], "unlimited");
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    // A fresh process knows only what the rows hold.
    let sibling = app.sibling(false, |_| {}).await;
    let r = app
        .client
        .get(format!("{}/api/v1/projects/me/usage?periodType=monthly", sibling.base))
        .bearer_auth(&p.admin_token)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["current"]["eventsThisMonth"], 5, "{body}");
    assert_eq!(body["data"][0]["apiCalls"], 5);
    let platform = app.get("/api/v1/platform/usage", Some(&app.admin_token)).await;
    assert_eq!(platform.body["data"][0]["current"]["eventsThisMonth"], 5, "{}", platform.body);
    let bad = app.get("/api/v1/projects/me/usage?periodType=weekly", Some(&p.admin_token)).await;
    assert_eq!(bad.status, 400);
    sibling.stop().await;
    app.teardown().await;
}
