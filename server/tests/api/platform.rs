//! Platform staff: sign-in, projects, admins and their roles, metrics.

use serde_json::json;

use crate::helpers::{TestApp, ADMIN_EMAIL};

#[tokio::test]
async fn platform_admin_signs_in_and_wrong_password_is_refused() {
    let app = TestApp::spawn().await;
    let bad =
        app.post("/api/v1/platform/auth/login", None, json!({"email": ADMIN_EMAIL, "password": "nope-nope"})).await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.code(), "unauthenticated");
    let me = app.get("/api/v1/platform/projects", Some(&app.admin_token)).await;
    assert_eq!(me.status, 200);
    assert!(me.body["data"].is_array() && me.body.get("nextCursor").is_some());
    app.teardown().await;
}

#[tokio::test]
async fn creating_a_project_answers_it_with_its_first_key_pair_and_owner() {
    let app = TestApp::spawn().await;
    let r = app
        .post(
            "/api/v1/platform/projects",
            Some(&app.admin_token),
            json!({"name": "Acme Payments", "ownerEmail": "boss@acme.test", "ownerPassword": "long-password"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["project"]["slug"], "acme-payments");
    assert_eq!(r.body["project"]["status"], "active");
    let key = r.body["apiKey"]["key"].as_str().unwrap();
    let secret = r.body["apiKey"]["secret"].as_str().unwrap();
    assert!(key.starts_with("pk_live_") && key.len() >= 8 + 32, "{key}");
    assert!(secret.starts_with("sk_live_") && secret.len() >= 8 + 32);
    assert_eq!(r.body["apiKey"]["permissions"].as_array().unwrap().len(), 4);
    assert_eq!(r.body["owner"]["roles"], json!(["admin"]));
    // The owner signs in as the project's admin.
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"project": "acme-payments", "email": "boss@acme.test", "password": "long-password"}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    // A second project with the same name gets another slug.
    let again = app.post("/api/v1/platform/projects", Some(&app.admin_token), json!({"name": "Acme Payments"})).await;
    assert_eq!(again.status, 201);
    assert_ne!(again.body["project"]["slug"], "acme-payments");
    // An explicit slug that is taken is a validation error.
    let taken = app
        .post("/api/v1/platform/projects", Some(&app.admin_token), json!({"name": "X", "slug": "acme-payments"}))
        .await;
    assert_eq!(taken.status, 400);
    assert!(taken.body["error"]["details"]["fields"]["slug"].is_string());
    app.teardown().await;
}

#[tokio::test]
async fn deleting_a_project_suspends_it_and_its_keys_answer_403() {
    let app = TestApp::spawn().await;
    let p = app.project("Soon Suspended").await;
    assert_eq!(app.send_event(&p, json!({"type": "a", "payload": {}})).await.status, 202);
    let del = app.delete(&format!("/api/v1/platform/projects/{}", p.id), Some(&app.admin_token)).await;
    assert_eq!(del.status, 200);
    assert_eq!(del.body["status"], "suspended");
    let refused = app.send_event(&p, json!({"type": "a", "payload": {}})).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "forbidden");
    // Reactivated, the key works again.
    let up = app
        .put(&format!("/api/v1/platform/projects/{}", p.id), Some(&app.admin_token), json!({"status": "active"}))
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(app.send_event(&p, json!({"type": "a", "payload": {}})).await.status, 202);
    app.teardown().await;
}

#[tokio::test]
async fn platform_roles_limit_what_staff_may_do() {
    let app = TestApp::spawn().await;
    let p = app.project("Roles").await;
    for (email, role) in [("support@platform.test", "support"), ("billing@platform.test", "billing")] {
        let r = app
            .post(
                "/api/v1/platform/admins",
                Some(&app.admin_token),
                json!({"email": email, "password": "staff-password", "role": role}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.body["role"], role);
        assert!(r.body.get("passwordHash").is_none() && r.body.get("password").is_none());
    }
    let token = |email: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post("/api/v1/platform/auth/login", None, json!({"email": email, "password": "staff-password"}))
                .await;
            r.body["token"].as_str().unwrap().to_string()
        }
    };
    let support = token("support@platform.test").await;
    let billing = token("billing@platform.test").await;
    assert_eq!(app.get("/api/v1/platform/projects", Some(&support)).await.status, 200);
    assert_eq!(app.get("/api/v1/platform/metrics", Some(&support)).await.status, 200);
    assert_eq!(app.post("/api/v1/platform/projects", Some(&support), json!({"name": "No"})).await.status, 403);
    assert_eq!(
        app.post("/api/v1/platform/admins", Some(&billing), json!({"email": "x@y.z", "password": "12345678"}))
            .await
            .status,
        403
    );
    let path = format!("/api/v1/platform/projects/{}", p.id);
    assert_eq!(app.put(&path, Some(&billing), json!({"plan": "starter"})).await.status, 200);
    assert_eq!(app.put(&path, Some(&billing), json!({"status": "suspended"})).await.status, 403);
    assert_eq!(app.delete(&path, Some(&support)).await.status, 403);
    // A project admin's token is no platform token.
    assert_eq!(app.get("/api/v1/platform/projects", Some(&p.admin_token)).await.status, 403);
    app.teardown().await;
}

#[tokio::test]
async fn metrics_and_usage_count_projects_and_events() {
    let app = TestApp::spawn().await;
    let p = app.project("Counted").await;
    for i in 0..3 {
        assert_eq!(app.send_event(&p, json!({"type": "t", "payload": {"i": i}})).await.status, 202);
    }
    let m = app.get("/api/v1/platform/metrics", Some(&app.admin_token)).await;
    assert_eq!(m.status, 200);
    assert_eq!(m.body["projects"]["total"], 1);
    assert_eq!(m.body["events"]["total"], 3);
    let u = app.get("/api/v1/platform/usage", Some(&app.admin_token)).await;
    assert_eq!(u.body["data"][0]["eventsThisMonth"], 3);
    assert_eq!(u.body["data"][0]["users"], 1);
    app.teardown().await;
}

#[tokio::test]
async fn a_first_start_without_any_admin_creates_one_whose_credentials_sign_in() {
    let app = crate::helpers::TestApp::spawn_with(|s| s.bootstrap_admin = None).await;
    let (email, password, kept) =
        domain::platform_admins::first_run(&app.svc).await.expect("first run").expect("no admin yet, so one is made");
    let file = std::fs::read_to_string(&kept).expect("credentials kept in the data folder");
    assert!(file.contains(&email) && file.contains(&password), "{file}");
    let login =
        app.post("/api/v1/platform/auth/login", None, serde_json::json!({"email": email, "password": password})).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert!(domain::platform_admins::first_run(&app.svc).await.unwrap().is_none(), "only ever once");
    app.teardown().await;
}
