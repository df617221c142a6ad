//! API keys: creation, listing without secrets, permissions, revocation, expiry, rotation,
//! failed-secret limiting and isolation between projects.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Auth, TestApp};

#[tokio::test]
async fn rotation_creates_a_second_key_and_revokes_the_first() {
    let app = TestApp::spawn().await;
    let p = app.project("Rotating").await;
    let new = app.post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"name": "Production v2"})).await;
    assert_eq!(new.status, 201, "{}", new.body);
    let (k2, s2) = (new.body["key"].as_str().unwrap().to_string(), new.body["secret"].as_str().unwrap().to_string());
    let list = app.get("/api/v1/projects/me/api-keys", Some(&p.admin_token)).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 2);
    assert!(!list.body.to_string().contains("sk_live_"), "a listing never shows a secret");
    let first_id = list.body["data"].as_array().unwrap().iter().find(|k| k["key"] == p.key.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Both keys work during the overlap.
    let ev = json!({"type": "t", "payload": {}});
    assert_eq!(app.send_event(&p, ev.clone()).await.status, 202);
    let r = app.request(Method::POST, "/api/v1/events", Auth::Key(&k2, &s2), Some(ev.clone())).await;
    assert_eq!(r.status, 202);
    let revoked = app.delete(&format!("/api/v1/projects/me/api-keys/{first_id}"), Some(&p.admin_token)).await;
    assert_eq!(revoked.status, 200);
    assert_eq!(revoked.body["status"], "revoked");
    assert_eq!(app.send_event(&p, ev.clone()).await.status, 401);
    let r = app.request(Method::POST, "/api/v1/events", Auth::Key(&k2, &s2), Some(ev)).await;
    assert_eq!(r.status, 202);
    app.teardown().await;
}

#[tokio::test]
async fn permissions_are_enforced_per_route() {
    let app = TestApp::spawn().await;
    let p = app.project("Scoped").await;
    let k = app
        .post(
            "/api/v1/projects/me/api-keys",
            Some(&p.admin_token),
            json!({"name": "reader", "permissions": ["notifications:read"]}),
        )
        .await;
    assert_eq!(k.status, 201);
    let (key, secret) = (k.body["key"].as_str().unwrap(), k.body["secret"].as_str().unwrap());
    let r = app
        .request(Method::POST, "/api/v1/events", Auth::Key(key, secret), Some(json!({"type": "t", "payload": {}})))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.code(), "forbidden");
    let bad =
        app.post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"permissions": ["everything"]})).await;
    assert_eq!(bad.status, 400);
    app.teardown().await;
}

#[tokio::test]
async fn expired_keys_and_wrong_secrets_are_refused() {
    let app = TestApp::spawn().await;
    let p = app.project("Expiring").await;
    let past = app
        .post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"expiresAt": "2020-01-01T00:00:00Z"}))
        .await;
    assert_eq!(past.status, 400, "an expiry in the past is refused");
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
    let k = app.post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"expiresAt": soon})).await;
    assert_eq!(k.status, 201);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let r = app
        .request(
            Method::POST,
            "/api/v1/events",
            Auth::Key(k.body["key"].as_str().unwrap(), k.body["secret"].as_str().unwrap()),
            Some(json!({"type": "t", "payload": {}})),
        )
        .await;
    assert_eq!(r.status, 401);
    let wrong = app.request(Method::POST, "/api/v1/events", Auth::Key(&p.key, "sk_live_wrong"), Some(json!({}))).await;
    assert_eq!(wrong.status, 401);
    let no_secret = app
        .client
        .post(format!("{}/api/v1/events", app.base))
        .header("X-API-Key", &p.key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_secret.status(), 401);
    app.teardown().await;
}

#[tokio::test]
async fn repeated_wrong_secrets_are_rate_limited() {
    let app = TestApp::spawn().await;
    let p = app.project("Guessed").await;
    let mut statuses = vec![];
    for _ in 0..12 {
        let r = app.request(Method::GET, "/api/v1/events/x", Auth::Key(&p.key, "sk_live_guess"), None).await;
        statuses.push(r.status.as_u16());
    }
    assert_eq!(&statuses[..10], [401; 10]);
    assert_eq!(statuses[11], 429);
    let r = app.request(Method::GET, "/api/v1/events/x", Auth::Key(&p.key, "sk_live_guess"), None).await;
    assert_eq!(r.code(), "rate_limited");
    assert!(r.headers.get("retry-after").is_some());
    app.teardown().await;
}

#[tokio::test]
async fn another_projects_key_is_not_found() {
    let app = TestApp::spawn().await;
    let a = app.project("A").await;
    let b = app.project("B").await;
    let list = app.get("/api/v1/projects/me/api-keys", Some(&a.admin_token)).await;
    let a_key_id = list.body["data"][0]["id"].as_str().unwrap().to_string();
    let r = app.delete(&format!("/api/v1/projects/me/api-keys/{a_key_id}"), Some(&b.admin_token)).await;
    assert_eq!(r.status, 404);
    let b_list = app.get("/api/v1/projects/me/api-keys", Some(&b.admin_token)).await;
    assert!(b_list.body["data"].as_array().unwrap().iter().all(|k| k["projectId"] == b.id.as_str()));
    assert_eq!(app.send_event(&a, json!({"type": "t", "payload": {}})).await.status, 202, "A's key still works");
    app.teardown().await;
}

#[tokio::test]
async fn a_key_with_allowed_ips_works_only_from_them() {
    let app = TestApp::spawn().await;
    let p = app.project("Allowed IPs").await;
    let bad = app
        .post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"allowedIps": ["10.9.9.0/33", "nope"]}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body["error"]["details"]["fields"]["allowedIps"].is_string());

    let elsewhere = app
        .post(
            "/api/v1/projects/me/api-keys",
            Some(&p.admin_token),
            json!({"allowedIps": ["10.9.9.0/24", "2001:db8::/32"]}),
        )
        .await;
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.body);
    assert_eq!(elsewhere.body["allowedIps"], json!(["10.9.9.0/24", "2001:db8::/32"]));
    let (key, secret) = (elsewhere.body["key"].as_str().unwrap(), elsewhere.body["secret"].as_str().unwrap());
    let event = json!({"type": "ping", "payload": {}});
    for _ in 0..2 {
        let refused = app.request(Method::POST, "/api/v1/events", Auth::Key(key, secret), Some(event.clone())).await;
        assert_eq!(refused.status, 403, "from 127.0.0.1: {}", refused.body);
        assert_eq!(refused.code(), "forbidden");
    }
    let audit = app.get("/api/v1/audit?action=api_key.address_refused", Some(&p.admin_token)).await;
    let rows = audit.body["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "audited once a minute per address: {}", audit.body);
    assert_eq!(rows[0]["ipAddress"], "127.0.0.1");
    assert_eq!(rows[0]["resourceId"], elsewhere.body["id"]);

    let here =
        app.post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"allowedIps": ["127.0.0.1/32"]})).await;
    let (key, secret) = (here.body["key"].as_str().unwrap(), here.body["secret"].as_str().unwrap());
    let sent = app.request(Method::POST, "/api/v1/events", Auth::Key(key, secret), Some(event)).await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let listed = app.get("/api/v1/projects/me/api-keys", Some(&p.admin_token)).await;
    assert!(listed.body.to_string().contains("127.0.0.1/32"));
    app.teardown().await;
}

#[tokio::test]
async fn a_key_revokes_itself_after_its_wrong_secrets_in_a_row() {
    let app = TestApp::spawn().await;
    let p = app.project("Auto revoke").await;
    let bad =
        app.post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"autoRevokeAfterFailures": 0})).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let k = app.post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"autoRevokeAfterFailures": 3})).await;
    assert_eq!(k.status, 201, "{}", k.body);
    assert_eq!(k.body["autoRevokeAfterFailures"], 3);
    let (key, secret) = (k.body["key"].as_str().unwrap(), k.body["secret"].as_str().unwrap());
    let wrong = "sk_live_0000000000000000000000000000000000000000000000000000000000000000";
    // Two wrong, one right: the count starts again.
    for _ in 0..2 {
        assert_eq!(send(&app, key, wrong).await, 401);
    }
    assert_eq!(send(&app, key, secret).await, 202);
    for _ in 0..2 {
        assert_eq!(send(&app, key, wrong).await, 401);
    }
    assert_eq!(send(&app, key, secret).await, 202, "two in a row are not three");
    for _ in 0..3 {
        assert_eq!(send(&app, key, wrong).await, 401);
    }
    assert_eq!(send(&app, key, secret).await, 401, "revoked");
    let listed = app.get("/api/v1/projects/me/api-keys", Some(&p.admin_token)).await;
    let row = listed.body["data"].as_array().unwrap().iter().find(|r| r["key"] == key).unwrap().clone();
    assert_eq!(row["status"], "revoked");
    let audit = app.get("/api/v1/audit?action=api_key.auto_revoke", Some(&p.admin_token)).await;
    assert_eq!(audit.body["data"][0]["resourceId"], k.body["id"], "{}", audit.body);
    assert_eq!(audit.body["data"][0]["metadata"]["failures"], 3);
    let mail = domain::mail::outbox::recent(&app.svc, 20).await.unwrap();
    assert!(mail.iter().any(|m| m.subject.contains("An API key revoked itself") && m.to_address.starts_with("owner-")));
    app.teardown().await;
}

async fn send(app: &TestApp, key: &str, secret: &str) -> u16 {
    let event = json!({"type": "ping", "payload": {}});
    app.request(Method::POST, "/api/v1/events", Auth::Key(key, secret), Some(event)).await.status.as_u16()
}
