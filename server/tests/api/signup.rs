//! Self-service sign-up and custom domains (docs/API.md "Sign-up and custom domains").

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Auth, TestApp};

fn signup_body(email: &str) -> serde_json::Value {
    json!({"email": email, "password": "a-long-password", "name": "Ada Owner", "projectName": "Acme Alerts"})
}

#[tokio::test]
async fn sign_up_creates_a_free_project_its_owner_and_a_working_key() {
    let app = TestApp::spawn().await;
    let r = app.post("/api/v1/signup", None, signup_body("ada@acme.example")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["project"]["plan"], "free");
    assert_eq!(r.body["project"]["name"], "Acme Alerts");
    assert_eq!(r.body["project"]["billingEmail"], "ada@acme.example");
    assert!(r.body["checkoutUrl"].is_null());
    let token = r.body["token"].as_str().unwrap();
    let key = r.body["apiKey"]["key"].as_str().unwrap();
    let secret = r.body["apiKey"]["secret"].as_str().unwrap();
    assert!(secret.starts_with("sk_"), "{secret}");

    // The token is a project admin's; the owner carries the name given.
    let me = app.get("/api/v1/projects/me", Some(token)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let owner_id = me.body["ownerId"].as_str().unwrap();
    let owner = app.get(&format!("/api/v1/users/{owner_id}"), Some(token)).await;
    assert_eq!(owner.body["metadata"]["name"], "Ada Owner");
    assert_eq!(owner.body["roles"], json!(["admin"]));

    // The key sends events; the owner signs in again with the password.
    let sent = app
        .request(Method::POST, "/api/v1/events", Auth::Key(key, secret), Some(json!({"type": "hello", "payload": {}})))
        .await;
    assert_eq!(sent.status, 202, "{}", sent.body);
    let slug = r.body["project"]["slug"].as_str().unwrap();
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"project": slug, "email": "ada@acme.example", "password": "a-long-password"}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);

    // It is audited inside the new project.
    let log = app.get("/api/v1/audit", Some(token)).await;
    assert_eq!(log.body["data"].as_array().map(Vec::len), Some(1), "{}", log.body);
    assert_eq!(log.body["data"][0]["action"], "project.signup");
    assert_eq!(log.body["data"][0]["actorType"], "project_admin");
    app.teardown().await;
}

#[tokio::test]
async fn sign_up_refuses_bad_fields_and_is_limited_per_address() {
    let app = TestApp::spawn_with(|s| s.auth.signups_per_address_per_hour = 2).await;
    let bad = app
        .post("/api/v1/signup", None, json!({"email": "nope", "password": "short", "name": "", "projectName": ""}))
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    for field in ["email", "password", "name", "projectName"] {
        assert!(bad.body["error"]["details"]["fields"][field].is_string(), "{field}: {}", bad.body);
    }
    let mut enterprise = signup_body("big@acme.example");
    enterprise["plan"] = json!("enterprise");
    let enterprise = app.post("/api/v1/signup", None, enterprise).await;
    assert_eq!(enterprise.status, 400, "{}", enterprise.body);
    assert!(enterprise.body["error"]["details"]["fields"]["plan"].is_string());

    for i in 0..2 {
        let r = app.post("/api/v1/signup", None, signup_body(&format!("o{i}@acme.example"))).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let third = app.post("/api/v1/signup", None, signup_body("o3@acme.example")).await;
    assert_eq!(third.status, 429, "{}", third.body);
    assert!(third.headers.get("retry-after").is_some());
    app.teardown().await;
}

#[tokio::test]
async fn a_serving_projects_custom_domain_checks_and_a_suspended_ones_does_not() {
    let app = TestApp::spawn().await;
    let p = app.project("Branded").await;
    let set = app
        .put(
            "/api/v1/projects/me/branding",
            Some(&p.admin_token),
            json!({"customDomain": "Alerts.Acme.test", "displayName": "Acme Alerts", "brandColor": "#0f766e"}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["settings"]["displayName"], "Acme Alerts");

    let ok = app.get("/api/v1/domains/check?domain=alerts.acme.test", None).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let other = app.get("/api/v1/domains/check?domain=else.acme.test", None).await;
    assert_eq!(other.status, 404);
    assert_eq!(other.code(), "not_found");
    let missing = app.get("/api/v1/domains/check", None).await;
    assert_eq!(missing.status, 400, "{}", missing.body);

    // After a downgrade, saving the branding with the domain it already has is not refused; a new
    // domain is.
    let down =
        app.put(&format!("/api/v1/platform/projects/{}", p.id), Some(&app.admin_token), json!({"plan": "free"})).await;
    assert_eq!(down.status, 200, "{}", down.body);
    let same = app
        .put(
            "/api/v1/projects/me/branding",
            Some(&p.admin_token),
            json!({"customDomain": "alerts.acme.test", "displayName": "Acme"}),
        )
        .await;
    assert_eq!(same.status, 200, "{}", same.body);
    let other =
        app.put("/api/v1/projects/me/branding", Some(&p.admin_token), json!({"customDomain": "new.acme.test"})).await;
    assert_eq!(other.code(), "plan_upgrade_required", "{}", other.body);

    let suspended = app.delete(&format!("/api/v1/platform/projects/{}", p.id), Some(&app.admin_token)).await;
    assert_eq!(suspended.status, 200, "{}", suspended.body);
    let gone = app.get("/api/v1/domains/check?domain=alerts.acme.test", None).await;
    assert_eq!(gone.status, 404);
    app.teardown().await;
}
