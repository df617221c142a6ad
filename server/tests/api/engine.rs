//! The notification engine end to end through HTTP: users with roles, a CEL rule, events that
//! match or not, duplicates, notifications, acknowledgement, dry runs and stats.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Auth, TestApp, TestProject};

/// Creates a user through the API and answers (id, token).
async fn user(app: &TestApp, p: &TestProject, email: &str, external: &str, roles: &[&str]) -> (String, String) {
    let r = app
        .request(
            Method::POST,
            "/api/v1/users",
            Auth::Key(&p.key, &p.secret),
            Some(json!({"email": email, "externalUserId": external, "roles": roles})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let t = app.request(Method::POST, &format!("/api/v1/users/{id}/token"), Auth::Key(&p.key, &p.secret), None).await;
    assert_eq!(t.status, 200, "{}", t.body);
    (id, t.body["token"].as_str().unwrap().to_string())
}

/// Polls an event until the worker has processed it.
pub async fn processed(app: &TestApp, p: &TestProject, id: &str) -> Value {
    for _ in 0..200 {
        let r = app.request(Method::GET, &format!("/api/v1/events/{id}"), Auth::Key(&p.key, &p.secret), None).await;
        if r.body["status"] != "accepted" {
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("event {id} was not processed in 5 s");
}

pub async fn finance_rule(app: &TestApp, p: &TestProject) -> String {
    let r = app.post("/api/v1/roles", Some(&p.admin_token), json!({"name": "finance"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sound = app.upload_sound(&p.admin_token, Some("alarm"), "alarm.wav", crate::helpers::wav(400, 8000)).await;
    assert_eq!(sound.status, 201, "{}", sound.body);
    let rule = app
        .post(
            "/api/v1/rules",
            Some(&p.admin_token),
            json!({
                "name": "Large transactions",
                "condition": "type == \"pending_transaction\" && payload.amount > 1000",
                "targetRoles": ["finance"],
                "notifyEventUser": true,
                "title": "Large {{ payload.currency }} payment",
                "message": "{{ payload.amount }} from {{ payload.userId }}",
                "sound": "alarm",
                "priority": 5,
                "action": {"url": "https://app.example.com/tx"}
            }),
        )
        .await;
    assert_eq!(rule.status, 201, "{}", rule.body);
    rule.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_matching_event_notifies_the_target_roles_and_the_event_user_once() {
    let app = TestApp::spawn().await;
    let p = app.project("Engine").await;
    let rule_id = finance_rule(&app, &p).await;
    let (alice, alice_token) = user(&app, &p, "alice@example.com", "u-alice", &["finance"]).await;
    let (bob, bob_token) = user(&app, &p, "bob@example.com", "u-bob", &[]).await;
    let (_carol, carol_token) = user(&app, &p, "carol@example.com", "u-carol", &[]).await;

    let ev = json!({"type": "pending_transaction", "clientEventId": "tx-1",
        "payload": {"amount": 5000, "currency": "NGN", "userId": "u-bob"}});
    let sent = app.send_event(&p, ev.clone()).await;
    let id = sent.body["id"].as_str().unwrap();
    let done = processed(&app, &p, id).await;
    assert_eq!(done["status"], "processed", "{done}");
    assert!(done["processedAt"].is_string());
    let ids = done["notificationIds"].as_array().unwrap();
    assert_eq!(ids.len(), 1);
    let nid = ids[0].as_str().unwrap();

    let n = app.get(&format!("/api/v1/notifications/{nid}"), Some(&p.admin_token)).await;
    assert_eq!(n.status, 200, "{}", n.body);
    let mut expected = vec![alice.clone(), bob.clone()];
    expected.sort();
    assert_eq!(n.body["recipients"], json!(expected));
    assert_eq!(n.body["title"], "Large NGN payment");
    assert_eq!(n.body["message"], "5000 from u-bob");
    assert_eq!(n.body["ruleId"], rule_id.as_str());
    assert_eq!(n.body["sound"], "alarm");
    let url = n.body["soundUrl"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/media/sounds/{}/", app.base, p.id)) && url.ends_with(".wav"), "{url}");
    assert_eq!(n.body["action"]["url"], "https://app.example.com/tx");

    // A repeat of the event and a non-matching event create nothing.
    assert_eq!(app.send_event(&p, ev).await.status, 200);
    let small = app.send_event(&p, json!({"type": "pending_transaction", "payload": {"amount": 10}})).await;
    let small = processed(&app, &p, small.body["id"].as_str().unwrap()).await;
    assert_eq!(small["status"], "processed");
    assert_eq!(small["notificationIds"], json!([]));
    let list = app.get("/api/v1/notifications", Some(&p.admin_token)).await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);

    // A recipient acknowledges; someone else cannot.
    let nobody = app
        .request(Method::PUT, &format!("/api/v1/notifications/{nid}/acknowledge"), Auth::Bearer(&carol_token), None)
        .await;
    assert_eq!(nobody.status, 404);
    let ack = app
        .request(Method::PUT, &format!("/api/v1/notifications/{nid}/acknowledge"), Auth::Bearer(&alice_token), None)
        .await;
    assert_eq!(ack.status, 200, "{}", ack.body);
    assert_eq!(ack.body["acknowledgedBy"][0]["userId"], alice.as_str());
    // The admin records Bob's acknowledgement for him.
    let for_bob = app
        .request(
            Method::PUT,
            &format!("/api/v1/notifications/{nid}/acknowledge"),
            Auth::Bearer(&p.admin_token),
            Some(json!({"userId": bob})),
        )
        .await;
    assert_eq!(for_bob.body["acknowledgedBy"].as_array().unwrap().len(), 2);
    // Users list only their own notifications.
    let mine = app.request(Method::GET, "/api/v1/notifications", Auth::Bearer(&bob_token), None).await;
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 1);
    let theirs = app.request(Method::GET, "/api/v1/notifications", Auth::Bearer(&carol_token), None).await;
    assert_eq!(theirs.body["data"].as_array().unwrap().len(), 0);
    let unacked =
        app.get(&format!("/api/v1/notifications?userId={alice}&acknowledged=false"), Some(&p.admin_token)).await;
    assert_eq!(unacked.body["data"].as_array().unwrap().len(), 0);

    let stats = app.get("/api/v1/notifications/stats", Some(&p.admin_token)).await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    assert_eq!(stats.body["totals"]["created"], 1);
    assert_eq!(stats.body["totals"]["acknowledged"], 1);
    assert_eq!(stats.body["byRule"][0]["ruleId"], rule_id.as_str());
    app.teardown().await;
}

#[tokio::test]
async fn rules_are_checked_when_saved_and_can_be_dry_run() {
    let app = TestApp::spawn().await;
    let p = app.project("Rules").await;
    let bad = app
        .post(
            "/api/v1/rules",
            Some(&p.admin_token),
            json!({"name": "x", "condition": "payload.amount >", "title": "t", "notifyEventUser": true}),
        )
        .await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body["error"]["details"]["fields"]["condition"].as_str().unwrap().contains("invalid CEL"),
        "{}",
        bad.body
    );
    let bad_tmpl = app
        .post(
            "/api/v1/rules",
            Some(&p.admin_token),
            json!({"name": "x", "condition": "true", "title": "{{ oops", "notifyEventUser": true}),
        )
        .await;
    assert!(bad_tmpl.body["error"]["details"]["fields"]["title"].is_string());
    let unknown_role = app
        .post(
            "/api/v1/rules",
            Some(&p.admin_token),
            json!({"name": "x", "condition": "true", "title": "t", "targetRoles": ["ghosts"]}),
        )
        .await;
    assert!(unknown_role.body["error"]["details"]["fields"]["targetRoles"].is_string(), "{}", unknown_role.body);

    let rule_id = finance_rule(&app, &p).await;
    let (alice, _) = user(&app, &p, "alice@example.com", "u-alice", &["finance"]).await;
    let t = app
        .post(
            &format!("/api/v1/rules/{rule_id}/test"),
            Some(&p.admin_token),
            json!({"type": "pending_transaction", "payload": {"amount": 2000, "currency": "USD"}}),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert_eq!(t.body["matched"], true);
    assert_eq!(t.body["title"], "Large USD payment");
    assert_eq!(t.body["recipients"][0]["id"], alice.as_str());
    let no = app
        .post(&format!("/api/v1/rules/{rule_id}/test"), Some(&p.admin_token), json!({"type": "other", "payload": {}}))
        .await;
    assert_eq!(no.body["matched"], false);
    let list = app.get("/api/v1/notifications", Some(&p.admin_token)).await;
    assert_eq!(list.body["data"], json!([]), "a dry run sends nothing");

    // Updating and deleting; another project sees none of it.
    let up = app.put(&format!("/api/v1/rules/{rule_id}"), Some(&p.admin_token), json!({"active": false})).await;
    assert_eq!(up.body["active"], false);
    let q = app.project("Other").await;
    assert_eq!(app.get(&format!("/api/v1/rules/{rule_id}"), Some(&q.admin_token)).await.status, 404);
    assert_eq!(
        app.put(&format!("/api/v1/rules/{rule_id}"), Some(&q.admin_token), json!({"active": true})).await.status,
        404
    );
    assert_eq!(app.delete(&format!("/api/v1/rules/{rule_id}"), Some(&q.admin_token)).await.status, 404);
    assert_eq!(app.get("/api/v1/rules", Some(&q.admin_token)).await.body["data"], json!([]));
    assert_eq!(app.delete(&format!("/api/v1/rules/{rule_id}"), Some(&p.admin_token)).await.status, 204);
    app.teardown().await;
}

#[tokio::test]
async fn another_projects_notifications_are_not_found() {
    let app = TestApp::spawn().await;
    let p = app.project("Owner").await;
    finance_rule(&app, &p).await;
    user(&app, &p, "alice@example.com", "u-alice", &["finance"]).await;
    let sent = app.send_event(&p, json!({"type": "pending_transaction", "payload": {"amount": 5000}})).await;
    let done = processed(&app, &p, sent.body["id"].as_str().unwrap()).await;
    let nid = done["notificationIds"][0].as_str().unwrap().to_string();
    let q = app.project("Intruder").await;
    assert_eq!(app.get(&format!("/api/v1/notifications/{nid}"), Some(&q.admin_token)).await.status, 404);
    let r = app
        .request(Method::PUT, &format!("/api/v1/notifications/{nid}/acknowledge"), Auth::Bearer(&q.admin_token), None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(app.get("/api/v1/notifications", Some(&q.admin_token)).await.body["data"], json!([]));
    app.teardown().await;
}
