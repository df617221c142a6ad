//! A project that brings its own Pusher app: its notifications are triggered on that app's HTTP
//! API instead of the built-in server. A second platform instance plays "Pusher cloud": its
//! project B's credentials become project A's `pusherConfig`, and a socket on the cloud hears A's
//! notification. Also: the secret is never shown, bad configs are refused, failures are recorded.

use std::time::Duration;

use domain::realtime::signing;
use reqwest::Method;
use serde_json::{json, Value};

use crate::engine::{finance_rule, processed};
use crate::helpers::{Auth, TestApp, TestProject};
use crate::realtime::support::{connect, credentials, next, subscribe, Creds};

/// A finance user of `p`; answers their id.
pub async fn finance_user(app: &TestApp, p: &TestProject, name: &str) -> String {
    let r = app
        .request(
            Method::POST,
            "/api/v1/users",
            Auth::Key(&p.key, &p.secret),
            Some(json!({"email": format!("{name}@example.com"), "externalUserId": name, "roles": ["finance"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

pub fn config(c: &Creds, secret: &str) -> Value {
    json!({"appId": c.app_id, "key": c.key, "secret": secret, "cluster": "mt1", "host": "127.0.0.1", "port": c.port, "useTLS": false})
}

/// The notification, once the worker has recorded its publish attempt.
async fn settled(app: &TestApp, p: &TestProject, event_id: &str) -> Value {
    let event = processed(app, p, event_id).await;
    let id = event["notificationIds"][0].as_str().unwrap_or_else(|| panic!("a notification in {event}")).to_string();
    for _ in 0..200 {
        let n = app.get(&format!("/api/v1/notifications/{id}"), Some(&p.admin_token)).await.body;
        if n["deliveryAttempts"].as_i64().unwrap_or(0) > 0 {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("notification {id} was never attempted");
}

#[tokio::test]
async fn notifications_go_through_the_projects_own_pusher_app() {
    let cloud = TestApp::spawn().await;
    let b = cloud.project("Cloud").await;
    let creds = credentials(&cloud, &b).await;
    let app = TestApp::spawn_with(|s| s.webhook_allow_private_targets = true).await;
    let a = app.project("Own Pusher").await;
    finance_rule(&app, &a).await;
    let alice = finance_user(&app, &a, "alice").await;

    let set = app
        .put("/api/v1/projects/me", Some(&a.admin_token), json!({"pusherConfig": config(&creds, &creds.secret)}))
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let shown = app.get("/api/v1/projects/me", Some(&a.admin_token)).await;
    for body in [&set.body, &shown.body] {
        let c = &body["pusherConfig"];
        assert_eq!(c["configured"], true, "{body}");
        assert_eq!(c["appId"], creds.app_id.as_str());
        assert_eq!(c["key"], creds.key.as_str());
        assert_eq!(
            (c["cluster"].as_str(), c["host"].as_str(), c["port"].as_u64()),
            (Some("mt1"), Some("127.0.0.1"), Some(creds.port))
        );
        assert_eq!(c["useTLS"], false);
        assert!(
            c.get("secret").is_none() && !body.to_string().contains(&creds.secret),
            "the secret is never shown: {body}"
        );
    }

    // A socket on the cloud, on alice's channel there (authorised with the cloud app's secret,
    // as A's backend would sign it with its Pusher library).
    let channel = format!("private-user-{alice}");
    let (mut ws, socket_id) = connect(&cloud.base, &creds.key).await;
    let auth = signing::sign_channel(&creds.key, &creds.secret, &socket_id, &channel, None);
    let ok = subscribe(&mut ws, &channel, Some(&auth), None).await;
    assert_eq!(ok["event"], "pusher_internal:subscription_succeeded", "{ok}");

    let sent = app
        .send_event(&a, json!({"type": "pending_transaction", "payload": {"amount": 5000, "currency": "EUR"}}))
        .await;
    let frame = next(&mut ws).await;
    assert_eq!(frame["event"], "notification", "{frame}");
    assert_eq!(frame["channel"], channel.as_str());
    let data: Value = serde_json::from_str(frame["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["title"], "Large EUR payment");
    assert_eq!(data["eventId"], sent.body["id"]);
    let n = settled(&app, &a, sent.body["id"].as_str().unwrap()).await;
    assert_eq!((n["pusherEventSent"].as_bool(), n["delivered"].as_bool()), (Some(true), Some(true)), "{n}");
    assert!(n["deliveryError"].is_null(), "{n}");

    // Wrong secret: the cloud refuses, the notification records why and stays undelivered.
    let bad = app
        .put("/api/v1/projects/me", Some(&a.admin_token), json!({"pusherConfig": config(&creds, "not-the-secret")}))
        .await;
    assert_eq!(bad.status, 200, "{}", bad.body);
    let sent = app
        .send_event(&a, json!({"type": "pending_transaction", "payload": {"amount": 6000, "currency": "EUR"}}))
        .await;
    let n = settled(&app, &a, sent.body["id"].as_str().unwrap()).await;
    assert_eq!(n["delivered"], false, "{n}");
    assert!(n["deliveryError"].as_str().is_some_and(|e| e.contains("401")), "{n}");

    // null removes it: back to the built-in server.
    let removed = app.put("/api/v1/projects/me", Some(&a.admin_token), json!({"pusherConfig": null})).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.body["pusherConfig"], json!({"configured": false}));
    app.teardown().await;
    cloud.teardown().await;
}

#[tokio::test]
async fn bad_pusher_configs_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let p = app.project("Picky").await;
    let good = json!({"appId": "123", "key": "k", "secret": "s", "cluster": "eu"});
    let cases = [
        (json!({"appId": "app-1", "key": "k", "secret": "s", "cluster": "eu"}), "pusherConfig.appId"),
        (json!({"appId": "1", "key": "", "secret": "s", "cluster": "eu"}), "pusherConfig.key"),
        (json!({"appId": "1", "key": "k", "secret": "", "cluster": "eu"}), "pusherConfig.secret"),
        (json!({"appId": "1", "key": "k", "secret": "s", "cluster": "EU_1"}), "pusherConfig.cluster"),
        // The SSRF guard, as for webhooks (this app does not allow private targets).
        (json!({"appId": "1", "key": "k", "secret": "s", "cluster": "eu", "host": "127.0.0.1"}), "pusherConfig.host"),
        (
            json!({"appId": "1", "key": "k", "secret": "s", "cluster": "eu", "host": "169.254.169.254"}),
            "pusherConfig.host",
        ),
        (
            json!({"appId": "1", "key": "k", "secret": "s", "cluster": "eu", "host": "https://x.example"}),
            "pusherConfig.host",
        ),
        (json!({"appId": "1", "key": "k", "secret": "s", "cluster": "eu", "port": 0}), "pusherConfig.port"),
    ];
    for (cfg, field) in cases {
        let r =
            app.put("/api/v1/projects/me", Some(&p.admin_token), json!({"name": "Renamed", "pusherConfig": cfg})).await;
        assert_eq!(r.status, 400, "{cfg}: {}", r.body);
        assert_eq!(r.code(), "validation_failed");
        assert!(r.body["error"]["details"]["fields"].get(field).is_some(), "{field} named: {}", r.body);
    }
    for cfg in [
        json!({"appId": "1"}),
        json!("text"),
        json!({"appId": "1", "key": "k", "secret": "s", "cluster": "eu", "x": 1}),
    ] {
        let r = app.put("/api/v1/projects/me", Some(&p.admin_token), json!({"pusherConfig": cfg})).await;
        assert_eq!(r.status, 400, "{cfg}: {}", r.body);
    }
    let shown = app.get("/api/v1/projects/me", Some(&p.admin_token)).await.body;
    assert_eq!(shown["name"], "Picky", "a refused patch changes nothing");
    assert_eq!(shown["pusherConfig"]["configured"], false);
    // A public default host is fine; its defaults are shown.
    let r = app.put("/api/v1/projects/me", Some(&p.admin_token), json!({"pusherConfig": good})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = &r.body["pusherConfig"];
    assert_eq!(
        (c["host"].as_str(), c["port"].as_u64(), c["useTLS"].as_bool()),
        (Some("api-eu.pusher.com"), Some(443), Some(true))
    );
    // Another project's admin sees only their own (none).
    let other = app.project("Other").await;
    assert_eq!(
        app.get("/api/v1/projects/me", Some(&other.admin_token)).await.body["pusherConfig"]["configured"],
        false
    );
    app.teardown().await;
}
