//! The audit log as its readers use it: filters, paging, CSV and NDJSON exports read back with
//! real parsers, isolation between projects, and retention.

use serde_json::{json, Value};

use crate::helpers::{TestApp, TestProject};

/// Writes `n` rows straight into the log, one second apart going back from `newest` (ids are
/// UUIDv7 of the same instants, so id order is time order as in real rows).
async fn seed(app: &TestApp, p: &TestProject, n: usize, action: &str, newest: chrono::DateTime<chrono::Utc>) {
    let mut tx = app.svc.db.pool().begin().await.unwrap();
    for i in 0..n {
        let at = newest - chrono::Duration::seconds(i as i64);
        let ts = uuid::Timestamp::from_unix(uuid::NoContext, at.timestamp() as u64, at.timestamp_subsec_nanos());
        sqlx::query(
            "INSERT INTO audit_logs (id, project_id, actor_type, actor_id, action, resource_type, resource_id, metadata, \
             ip_address, user_agent, timestamp) VALUES ($1, $2, 'user', 'seed-admin', $3, 'rule', $4, $5, '10.0.0.1', \
             'seed, \"quoted\" agent', $6)",
        )
        .bind(uuid::Uuid::new_v7(ts).to_string())
        .bind(&p.id)
        .bind(action)
        .bind(format!("r-{i}"))
        .bind(json!({"i": i, "note": "a,b\nc"}).to_string())
        .bind(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn export(
    app: &TestApp,
    p: &TestProject,
    query: &str,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, String) {
    let res = app
        .client
        .get(format!("{}/api/v1/audit/export?{query}", app.base))
        .bearer_auth(&p.admin_token)
        .send()
        .await
        .unwrap();
    (res.status(), res.headers().clone(), res.text().await.unwrap())
}

#[tokio::test]
async fn the_log_filters_by_action_family_resource_user_and_time() {
    let app = TestApp::spawn().await;
    let p = app.project("Audit").await;
    let role = app.post("/api/v1/roles", Some(&p.admin_token), json!({"name": "ops"})).await;
    assert_eq!(role.status, 201);
    let rule = app
        .post(
            "/api/v1/rules",
            Some(&p.admin_token),
            json!({"name": "r", "condition": "true", "notifyEventUser": true, "title": "t", "message": "m"}),
        )
        .await;
    let rule_id = rule.body["id"].as_str().unwrap();
    app.put(&format!("/api/v1/rules/{rule_id}"), Some(&p.admin_token), json!({"name": "r2"})).await;

    let all = app.get("/api/v1/audit", Some(&p.admin_token)).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let actions: Vec<&str> =
        all.body["data"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"role.create") && actions.contains(&"rule.create") && actions.contains(&"rule.update"));
    let row = &all.body["data"][0];
    assert!(row["ipAddress"].is_string() && row["userAgent"].is_string(), "{row}");

    let family = app.get("/api/v1/audit?action=rule.*", Some(&p.admin_token)).await;
    let got: Vec<&str> =
        family.body["data"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(got, ["rule.update", "rule.create"], "newest first");
    let exact = app.get("/api/v1/audit?action=rule.update", Some(&p.admin_token)).await;
    assert_eq!(exact.body["data"].as_array().unwrap().len(), 1);
    let by_type = app.get("/api/v1/audit?resourceType=role", Some(&p.admin_token)).await;
    assert!(by_type.body["data"].as_array().unwrap().iter().all(|r| r["resourceType"] == "role"));
    let user = row["userId"].as_str().unwrap();
    let mine = app.get(&format!("/api/v1/audit?userId={user}&action=rule.*"), Some(&p.admin_token)).await;
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 2);
    let nobody = app.get("/api/v1/audit?userId=someone-else", Some(&p.admin_token)).await;
    assert_eq!(nobody.body["data"], json!([]));

    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let in_day = app.get(&format!("/api/v1/audit?from={today}&to={today}&action=rule.*"), Some(&p.admin_token)).await;
    assert_eq!(in_day.body["data"].as_array().unwrap().len(), 2, "{}", in_day.body);
    let before = app.get("/api/v1/audit?to=2020-01-01", Some(&p.admin_token)).await;
    assert_eq!(before.body["data"], json!([]));
    let bad = app.get("/api/v1/audit?from=last-week", Some(&p.admin_token)).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body["error"]["details"]["fields"]["from"].is_string());

    // Another project sees none of it.
    let other = app.project("Other").await;
    let theirs = app.get("/api/v1/audit?action=rule.*", Some(&other.admin_token)).await;
    assert_eq!(theirs.body["data"], json!([]));
    let (status, _, body) = export(&app, &other, "format=ndjson&action=rule.*").await;
    assert_eq!((status.as_u16(), body.as_str()), (200, ""));
    app.teardown().await;
}

#[tokio::test]
async fn exports_stream_every_matching_row_as_csv_and_ndjson() {
    let app = TestApp::spawn().await;
    let p = app.project("Export").await;
    // More rows than one export chunk, so the stream crosses chunk boundaries.
    let newest = chrono::Utc::now() - chrono::Duration::hours(1);
    seed(&app, &p, 2500, "rule.update", newest).await;

    let (status, headers, body) = export(&app, &p, "format=csv&action=rule.update").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"audit-") && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[..5], ["timestamp", "id", "actorType", "userId", "action"]);
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a well-formed CSV record")).collect();
    assert_eq!(records.len(), 2500);
    assert_eq!(&records[0][6], "r-0", "newest first");
    assert_eq!(&records[2499][6], "r-2499");
    assert_eq!(&records[0][8], "seed, \"quoted\" agent", "quotes and commas survive");
    let meta: Value = serde_json::from_str(&records[0][9]).unwrap();
    assert_eq!(meta["note"], "a,b\nc");
    let mut ids: Vec<&str> = records.iter().map(|r| r.get(1).unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2500, "no row twice");

    let (status, headers, body) = export(&app, &p, "format=ndjson").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let lines: Vec<Value> = body.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    assert!(lines.len() >= 2500);
    assert!(lines.iter().all(|l| l["projectId"] == p.id.as_str()));

    // A time window: the 100 newest seconds of the seed.
    let from = (newest - chrono::Duration::seconds(99)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (_, _, window) = export(&app, &p, &format!("format=ndjson&action=rule.update&from={from}")).await;
    assert_eq!(window.lines().count(), 100);

    let (status, _, body) = export(&app, &p, "format=xml").await;
    assert_eq!(status, 400, "{body}");
    let anonymous = reqwest::get(format!("{}/api/v1/audit/export", app.base)).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    app.teardown().await;
}

#[tokio::test]
async fn rows_past_the_retention_are_swept() {
    let app = TestApp::spawn_with(|s| s.audit_retention_days = 30).await;
    let p = app.project("Retention").await;
    seed(&app, &p, 3, "rule.update", chrono::Utc::now() - chrono::Duration::days(31)).await;
    seed(&app, &p, 2, "rule.create", chrono::Utc::now() - chrono::Duration::days(29)).await;
    let gone = domain::audit::retention::sweep(&app.svc).await.unwrap();
    assert_eq!(gone, 3);
    let left = app.get("/api/v1/audit?resourceType=rule", Some(&p.admin_token)).await;
    assert_eq!(left.body["data"].as_array().unwrap().len(), 2, "{}", left.body);
    app.teardown().await;
}
