//! Every failure under /api/ answers the contract's JSON envelope, axum's own rejections included.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn rejections_answer_json_envelopes() {
    let app = TestApp::spawn().await;
    let p = app.project("Errors").await;
    let url = format!("{}/api/v1/events", app.base);
    let send = |body: &'static str, ctype: Option<&'static str>| {
        let mut r = app.client.post(&url).header("X-API-Key", &p.key).header("X-API-Secret", &p.secret).body(body);
        if let Some(c) = ctype {
            r = r.header("content-type", c);
        }
        r.send()
    };
    let cases = [
        (send("{not json", Some("application/json")).await.unwrap(), 400, "validation_failed"),
        (send("{\"type\":\"a\",\"payload\":{}}", None).await.unwrap(), 415, "unsupported_media_type"),
        (send("{\"type\":\"a\",\"payload\":{}}", Some("text/plain")).await.unwrap(), 415, "unsupported_media_type"),
    ];
    for (res, status, code) in cases {
        assert_eq!(res.status(), status);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].is_string());
    }
    let unknown = app.get("/api/v1/nothing-here", None).await;
    assert_eq!((unknown.status.as_u16(), unknown.code()), (404, "not_found"));
    let unknown = app.get("/api/v2/events", None).await;
    assert_eq!((unknown.status.as_u16(), unknown.code()), (404, "not_found"));
    let wrong_method = app.delete("/api/v1/events", None).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.code(), "method_not_allowed");
    let no_auth = app.post("/api/v1/events", None, json!({"type": "a", "payload": {}})).await;
    assert_eq!((no_auth.status.as_u16(), no_auth.code()), (401, "unauthenticated"));
    let bad_token = app.get("/api/v1/projects/me", Some("not.a.token")).await;
    assert_eq!(bad_token.status, 401);
    let bad_query = app.get("/api/v1/projects/me/api-keys?limit=lots", Some(&p.admin_token)).await;
    assert_eq!((bad_query.status.as_u16(), bad_query.code()), (400, "validation_failed"));
    let missing_field = app.post("/api/v1/platform/auth/login", None, json!({"email": "x"})).await;
    assert_eq!(missing_field.status, 400);
    app.teardown().await;
}

#[tokio::test]
async fn a_body_over_256_kib_is_413() {
    let app = TestApp::spawn().await;
    let p = app.project("Big").await;
    let big = json!({"type": "big", "payload": {"blob": "x".repeat(300 * 1024)}});
    let r = app.send_event(&p, big).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.code(), "payload_too_large");
    let fits = json!({"type": "big", "payload": {"blob": "x".repeat(200 * 1024)}});
    assert_eq!(app.send_event(&p, fits).await.status, 202);
    app.teardown().await;
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = TestApp::spawn().await;
    let h = app.get("/healthz", None).await;
    assert_eq!(h.status, 200);
    assert_eq!(h.body, json!({"status": "ok"}));
    let p = app.project("Metered").await;
    app.send_event(&p, json!({"type": "m", "payload": {}})).await;
    let m = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(m.status(), 200);
    let text = m.text().await.unwrap();
    assert!(text.contains("events_committed_total"), "{text}");
    app.teardown().await;
}
