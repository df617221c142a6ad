//! Storage: both backends' schemas agree, accepted events survive a restart and are handed to the
//! queue again, and with Redis they land on the project's stream.

use domain::db::{dialect, Db};
use domain::queue::EventQueue;
use serde_json::json;

use crate::helpers::{uses_postgres, TestApp};

/// Table and column names of a migrated database.
async fn columns(db: &Db) -> Vec<String> {
    let mut cols: Vec<String> =
        sqlx::query_scalar(dialect::schema_columns_query(db.backend())).fetch_all(db.pool()).await.unwrap();
    cols.sort();
    cols
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_agree() {
    if !uses_postgres() {
        eprintln!("skipped: TEST_DATABASE_URL is not a PostgreSQL URL");
        return;
    }
    let pg = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::connect(&format!("sqlite://{}/schema.db", dir.path().display())).await.unwrap();
    let (a, b) = (columns(&sqlite).await, columns(&pg.svc.db).await);
    assert!(a.len() > 40, "{a:?}");
    assert_eq!(a, b, "the two migration histories drifted apart");
    pg.teardown().await;
}

#[tokio::test]
async fn accepted_events_are_queued_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let db_url = format!("sqlite://{}/restart.db", data.display());
    let (url2, data2) = (db_url.clone(), data.clone());
    let app = TestApp::spawn_without_worker(move |s| {
        s.database_url = url2;
        s.data_dir = data2;
        s.redis_url = None;
    })
    .await;
    let p = app.project("Durable").await;
    let mut ids = vec![];
    for i in 0..5 {
        ids.push(
            app.send_event(&p, json!({"type": "d", "payload": {"i": i}})).await.body["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut settings = app.svc.settings.clone();
    app.teardown().await;
    // A new process on the same database finds the five events still accepted and queues them.
    settings.database_url = db_url;
    settings.data_dir = data;
    settings.bootstrap_admin = None;
    let svc = domain::Services::start(settings).await.unwrap();
    let EventQueue::Memory(q) = &svc.queue else { panic!("in-process queue expected") };
    let mut queued = vec![];
    while let Some(e) = q.try_pop() {
        assert_eq!(e.project_id, p.id);
        queued.push(e.event_id);
    }
    assert_eq!(queued, ids);
}

#[tokio::test]
async fn with_redis_events_land_on_the_projects_stream() {
    let Ok(redis_url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipped: TEST_REDIS_URL is not set");
        return;
    };
    let app = TestApp::spawn().await;
    let p = app.project("Streamed").await;
    let id = app.send_event(&p, json!({"type": "s", "payload": {}})).await.body["id"].as_str().unwrap().to_string();
    let client = redis::Client::open(redis_url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("project:{}:events", p.id);
    let mut found = false;
    for _ in 0..50 {
        let entries: redis::Value =
            redis::cmd("XRANGE").arg(&key).arg("-").arg("+").query_async(&mut conn).await.unwrap();
        if format!("{entries:?}").contains(&id) {
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(found, "event {id} on stream {key}");
    let _: () = redis::cmd("DEL").arg(&key).query_async(&mut conn).await.unwrap();
    app.teardown().await;
}
