//! A project's admins and their own project; the audit log of their changes.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn project_admin_reads_and_updates_settings_and_branding() {
    let app = TestApp::spawn().await;
    let p = app.project("Branded").await;
    let me = app.get("/api/v1/projects/me", Some(&p.admin_token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], p.id.as_str());
    let up = app
        .put(
            "/api/v1/projects/me",
            Some(&p.admin_token),
            json!({"name": "Branded Inc", "brandColor": "#FF8800", "logoUrl": "https://cdn.example.com/logo.png"}),
        )
        .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(up.body["name"], "Branded Inc");
    assert_eq!(up.body["brandColor"], "#ff8800");
    let bad = app
        .put(
            "/api/v1/projects/me/branding",
            Some(&p.admin_token),
            json!({"brandColor": "orange", "logoUrl": "ftp://x"}),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["error"]["details"]["fields"]["brandColor"].is_string());
    assert!(bad.body["error"]["details"]["fields"]["logoUrl"].is_string());
    // null clears a field.
    let cleared = app.put("/api/v1/projects/me/branding", Some(&p.admin_token), json!({"logoUrl": null})).await;
    assert!(cleared.body["logoUrl"].is_null());
    // An API key is not a project admin.
    let by_key = app
        .request(reqwest::Method::GET, "/api/v1/projects/me", crate::helpers::Auth::Key(&p.key, &p.secret), None)
        .await;
    assert_eq!(by_key.status, 403);
    app.teardown().await;
}

#[tokio::test]
async fn every_change_leaves_an_audit_row_with_who_and_where() {
    let app = TestApp::spawn().await;
    let p = app.project("Audited").await;
    app.put("/api/v1/projects/me", Some(&p.admin_token), json!({"name": "Audited 2"})).await;
    app.post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"name": "ci"})).await;
    let log = app.get("/api/v1/audit", Some(&p.admin_token)).await;
    assert_eq!(log.status, 200);
    let actions: Vec<&str> =
        log.body["data"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(&actions[..2], ["api_key.create", "project.update"], "{actions:?}");
    assert!(actions.contains(&"project.create"));
    let row = &log.body["data"][0];
    assert_eq!(row["actorType"], "project_admin");
    assert_eq!(row["ipAddress"], "127.0.0.1");
    assert_eq!(row["projectId"], p.id.as_str());
    // Another project sees none of it.
    let q = app.project("Other").await;
    let theirs = app.get("/api/v1/audit", Some(&q.admin_token)).await;
    assert!(theirs.body["data"].as_array().unwrap().iter().all(|r| r["projectId"] == q.id.as_str()));
    app.teardown().await;
}

#[tokio::test]
async fn a_suspended_projects_admin_is_refused() {
    let app = TestApp::spawn().await;
    let p = app.project("Paused").await;
    app.delete(&format!("/api/v1/platform/projects/{}", p.id), Some(&app.admin_token)).await;
    let r = app.get("/api/v1/projects/me", Some(&p.admin_token)).await;
    assert_eq!(r.status, 403);
    app.teardown().await;
}
