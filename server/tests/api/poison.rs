//! Poison events are parked, not retried forever, and never fail the rest of their batch
//! (docs/ARCHITECTURE.md, "Fault isolation").

use domain::queue::QueuedEvent;
use serde_json::json;

use crate::helpers::{uses_postgres, TestApp, TestProject};

/// Makes every notification insert of `project` fail in the database itself, as a value the
/// database refuses would.
async fn poison_notifications_of(app: &TestApp, project: &TestProject) {
    let pool = app.svc.db.pool();
    if uses_postgres() {
        sqlx::query(
            "CREATE FUNCTION refuse_poisoned() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'refused by the database'; END $$",
        )
        .execute(pool)
        .await
        .unwrap();
        sqlx::query(&format!(
            "CREATE TRIGGER poisoned BEFORE INSERT ON notifications FOR EACH ROW \
             WHEN (NEW.project_id = '{}') EXECUTE FUNCTION refuse_poisoned()",
            project.id
        ))
        .execute(pool)
        .await
        .unwrap();
    } else {
        sqlx::query(&format!(
            "CREATE TRIGGER poisoned BEFORE INSERT ON notifications WHEN NEW.project_id = '{}' \
             BEGIN SELECT RAISE(ABORT, 'refused by the database'); END",
            project.id
        ))
        .execute(pool)
        .await
        .unwrap();
    }
}

async fn everyone_rule(app: &TestApp, p: &TestProject) {
    let r = app.post("/api/v1/roles", Some(&p.admin_token), json!({"name": "ops"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = app
        .post(
            "/api/v1/rules",
            Some(&p.admin_token),
            json!({"name": "all", "condition": "true", "targetRoles": ["ops"], "title": "t {{ type }} {{ payload.s }}", "message": "m"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn status(app: &TestApp, p: &TestProject, id: &str) -> serde_json::Value {
    app.request(
        reqwest::Method::GET,
        &format!("/api/v1/events/{id}"),
        crate::helpers::Auth::Key(&p.key, &p.secret),
        None,
    )
    .await
    .body
}

#[tokio::test]
async fn a_poison_event_is_parked_with_a_dead_letter_and_its_batch_goes_on() {
    let app = TestApp::spawn_without_worker(|_| {}).await;
    let bad = app.project("Poisoned").await;
    let good = app.project("Healthy").await;
    everyone_rule(&app, &bad).await;
    everyone_rule(&app, &good).await;
    poison_notifications_of(&app, &bad).await;

    let mut batch = Vec::new();
    let mut good_ids = Vec::new();
    for i in 0..3 {
        let r = app.send_event(&good, json!({"type": "ok", "payload": {"i": i}})).await;
        assert_eq!(r.status, 202, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_string();
        batch.push(QueuedEvent { project_id: good.id.clone(), event_id: id.clone() });
        good_ids.push(id);
        if i == 1 {
            let r = app.send_event(&bad, json!({"type": "poison", "payload": {}})).await;
            assert_eq!(r.status, 202, "{}", r.body);
            batch
                .push(QueuedEvent { project_id: bad.id.clone(), event_id: r.body["id"].as_str().unwrap().to_string() });
        }
    }
    let bad_id = batch[2].event_id.clone();

    let outcome = domain::engine::poison::process(&app.svc, &batch).await;
    assert!(outcome.retry_later.is_empty(), "the database answers: nothing is kept for later");
    assert_eq!(outcome.deliveries.len(), 3, "the healthy project's three notifications are made");
    for id in &good_ids {
        assert_eq!(status(&app, &good, id).await["status"], "processed");
    }
    let parked = status(&app, &bad, &bad_id).await;
    assert_eq!(parked["status"], "failed", "{parked}");
    assert!(parked["error"].as_str().unwrap().contains("3 times"), "{parked}");
    let (reason, attempts): (String, i64) =
        sqlx::query_as("SELECT reason, attempts FROM dead_letters WHERE project_id = $1 AND event_id = $2")
            .bind(&bad.id)
            .bind(&bad_id)
            .fetch_one(app.svc.db.pool())
            .await
            .expect("a dead letter");
    assert_eq!(attempts, 3);
    assert!(reason.contains("refused by the database"), "{reason}");

    // Handing it over again (a redelivery, a recovery sweep) changes nothing.
    let again = domain::engine::poison::process(&app.svc, &batch).await;
    assert!(again.deliveries.is_empty() && again.retry_later.is_empty());
    app.teardown().await;
}

#[tokio::test]
async fn a_nul_character_in_a_rendered_title_is_dropped_not_fatal() {
    let app = TestApp::spawn().await;
    let p = app.project("Nul").await;
    everyone_rule(&app, &p).await;
    let r = app.send_event(&p, json!({"type": "nul", "payload": {"s": "a\u{0}b"}})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let e = crate::engine::processed(&app, &p, r.body["id"].as_str().unwrap()).await;
    assert_eq!(e["status"], "processed", "{e}");
    app.teardown().await;
}
