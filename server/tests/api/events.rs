//! Event ingestion: validation, dedupe, batches, status, isolation, durability and hand-off.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Auth, TestApp};

#[tokio::test]
async fn an_event_is_accepted_then_a_repeat_is_a_duplicate() {
    let app = TestApp::spawn().await;
    let p = app.project("Events").await;
    let ev = json!({"type": "pending_transaction", "clientEventId": "tx_1", "source": "core",
        "timestamp": "2025-12-03T10:30:00Z", "payload": {"userId": "user_44", "amount": 5000}});
    let first = app.send_event(&p, ev.clone()).await;
    assert_eq!(first.status, 202, "{}", first.body);
    assert_eq!(first.body["status"], "accepted");
    assert_eq!(first.body["duplicate"], false);
    let again = app.send_event(&p, ev).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["duplicate"], true);
    assert_eq!(again.body["id"], first.body["id"]);
    let id = first.body["id"].as_str().unwrap();
    let got = app.request(Method::GET, &format!("/api/v1/events/{id}"), Auth::Key(&p.key, &p.secret), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["type"], "pending_transaction");
    assert_eq!(got.body["payload"]["amount"], 5000);
    assert_eq!(got.body["clientEventId"], "tx_1");
    assert!(["accepted", "processed", "failed"].contains(&got.body["status"].as_str().unwrap()));
    assert!(got.body["notificationIds"].is_array());
    // The same clientEventId in another project is another event.
    let q = app.project("Other").await;
    let theirs = app.send_event(&q, json!({"type": "x", "clientEventId": "tx_1", "payload": {}})).await;
    assert_eq!(theirs.status, 202);
    assert_ne!(theirs.body["id"], first.body["id"]);
    app.teardown().await;
}

#[tokio::test]
async fn bad_events_name_each_bad_field() {
    let app = TestApp::spawn().await;
    let p = app.project("Validation").await;
    let r = app.send_event(&p, json!({"type": "has space", "payload": "text", "timestamp": "soon"})).await;
    assert_eq!(r.status, 400);
    let fields = &r.body["error"]["details"]["fields"];
    assert!(
        fields["type"].is_string() && fields["payload"].is_string() && fields["timestamp"].is_string(),
        "{}",
        r.body
    );
    let long = app.send_event(&p, json!({"type": "x".repeat(101), "payload": {}})).await;
    assert_eq!(long.status, 400);
    let m = app.get("/api/v1/platform/metrics", Some(&app.admin_token)).await;
    assert_eq!(m.body["events"]["total"], 0, "nothing stored");
    app.teardown().await;
}

#[tokio::test]
async fn a_batch_answers_per_item_and_one_bad_item_sinks_nothing_else() {
    let app = TestApp::spawn().await;
    let p = app.project("Batch").await;
    let body = json!({"events": [
        {"type": "a", "payload": {"n": 1}, "clientEventId": "b-1"},
        {"type": "bad type", "payload": {}},
        {"type": "a", "payload": {"n": 1}, "clientEventId": "b-1"},
        {"type": "c", "payload": {}}
    ]});
    let r = app.request(Method::POST, "/api/v1/events/batch", Auth::Key(&p.key, &p.secret), Some(body)).await;
    assert_eq!(r.status, 207, "{}", r.body);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["status"], "accepted");
    assert_eq!(results[1]["status"], "rejected");
    assert_eq!(results[1]["error"]["code"], "validation_failed");
    assert_eq!(results[2]["duplicate"], true, "a repeat inside one batch is a duplicate");
    assert_eq!(results[2]["id"], results[0]["id"]);
    assert_eq!(results[3]["status"], "accepted");
    for (i, item) in results.iter().enumerate() {
        assert_eq!(item["index"], i);
    }
    let too_many: Vec<_> = (0..501).map(|i| json!({"type": "x", "payload": {"i": i}})).collect();
    let r = app
        .request(Method::POST, "/api/v1/events/batch", Auth::Key(&p.key, &p.secret), Some(json!({"events": too_many})))
        .await;
    assert_eq!(r.status, 400);
    app.teardown().await;
}

#[tokio::test]
async fn another_projects_event_is_not_found() {
    let app = TestApp::spawn().await;
    let a = app.project("A").await;
    let b = app.project("B").await;
    let id =
        app.send_event(&a, json!({"type": "secret", "payload": {}})).await.body["id"].as_str().unwrap().to_string();
    let r = app.request(Method::GET, &format!("/api/v1/events/{id}"), Auth::Key(&b.key, &b.secret), None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
    let r = app.get(&format!("/api/v1/events/{id}"), Some(&b.admin_token)).await;
    assert_eq!(r.status, 404);
    let r = app.get(&format!("/api/v1/events/{id}"), Some(&a.admin_token)).await;
    assert_eq!(r.status, 200, "the project's own admin reads it");
    let r = app.get("/api/v1/events/not-a-uuid", Some(&a.admin_token)).await;
    assert_eq!(r.status, 404);
    app.teardown().await;
}

#[tokio::test]
async fn concurrent_events_are_all_stored() {
    let app = TestApp::spawn().await;
    let p = app.project("Concurrent").await;
    let mut tasks = vec![];
    for i in 0..200 {
        let (client, url, key, secret) =
            (app.client.clone(), format!("{}/api/v1/events", app.base), p.key.clone(), p.secret.clone());
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(url)
                .header("X-API-Key", key)
                .header("X-API-Secret", secret)
                .json(&json!({"type": "c", "payload": {"i": i}, "clientEventId": format!("c-{}", i % 150)}))
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }));
    }
    let mut accepted = 0;
    let mut duplicates = 0;
    for t in tasks {
        match t.await.unwrap() {
            202 => accepted += 1,
            200 => duplicates += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((accepted, duplicates), (150, 50));
    let m = app.get("/api/v1/platform/metrics", Some(&app.admin_token)).await;
    assert_eq!(m.body["events"]["total"], 150);
    app.teardown().await;
}

#[tokio::test]
async fn events_are_listed_newest_first_filtered_and_paged_within_the_project() {
    let app = TestApp::spawn_without_worker(|_| {}).await;
    let p = app.project("Lister").await;
    let other = app.project("Other").await;
    for i in 0..3 {
        let r = app.send_event(&p, json!({"type": "order.created", "payload": {"n": i}})).await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    app.send_event(&p, json!({"type": "user.signup", "payload": {}})).await;
    app.send_event(&other, json!({"type": "order.created", "payload": {}})).await;

    let all = app.get("/api/v1/events", Some(&p.admin_token)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let data = all.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 4, "only this project's: {}", all.body);
    assert_eq!(data[0]["type"], "user.signup");
    assert_eq!(data[0]["status"], "accepted");

    let orders = app.get("/api/v1/events?type=order.created&limit=2", Some(&p.admin_token)).await;
    let page1 = orders.body["data"].as_array().unwrap();
    assert_eq!(page1.len(), 2);
    assert_eq!(page1[0]["payload"]["n"], 2);
    let cursor = orders.body["nextCursor"].as_str().expect("a next page");
    let rest =
        app.get(&format!("/api/v1/events?type=order.created&limit=2&cursor={cursor}"), Some(&p.admin_token)).await;
    assert_eq!(rest.body["data"].as_array().unwrap().len(), 1, "{}", rest.body);
    assert!(rest.body["nextCursor"].is_null());

    let processed = app.get("/api/v1/events?status=processed", Some(&p.admin_token)).await;
    assert_eq!(processed.body["data"].as_array().unwrap().len(), 0);
    let by_key = app.request(Method::GET, "/api/v1/events?limit=1", Auth::Key(&p.key, &p.secret), None).await;
    assert_eq!(by_key.status, 200);
    app.teardown().await;
}
