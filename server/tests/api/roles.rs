//! Roles: CRUD, the built-in `admin`, names, roles still held by users and rules (409, or
//! `?force=true`), and isolation between projects.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Auth, Reply, TestApp, TestProject};

async fn as_key(app: &TestApp, p: &TestProject, method: Method, path: &str, body: Option<Value>) -> Reply {
    app.request(method, path, Auth::Key(&p.key, &p.secret), body).await
}

fn names(r: &Reply) -> Vec<String> {
    r.body["data"].as_array().expect("a list").iter().map(|x| x["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn roles_are_created_read_listed_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let p = app.project("Roles").await;
    let created = as_key(
        &app,
        &p,
        Method::POST,
        "/api/v1/roles",
        Some(json!({"name": "finance", "description": "Money people"})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["name"], "finance");
    assert_eq!(created.body["userCount"], 0);
    let id = created.body["id"].as_str().unwrap().to_string();
    let by_admin = app.post("/api/v1/roles", Some(&p.admin_token), json!({"name": "ops"})).await;
    assert_eq!(by_admin.status, 201);

    assert_eq!(
        as_key(&app, &p, Method::GET, &format!("/api/v1/roles/{id}"), None).await.body["description"],
        "Money people"
    );
    assert_eq!(
        as_key(&app, &p, Method::GET, "/api/v1/roles/finance", None).await.body["id"],
        id.as_str(),
        "by name too"
    );
    let list = as_key(&app, &p, Method::GET, "/api/v1/roles", None).await;
    assert_eq!(list.status, 200);
    assert_eq!(names(&list), ["ops", "finance"]);
    let page = as_key(&app, &p, Method::GET, "/api/v1/roles?limit=1", None).await;
    let cursor = page.body["nextCursor"].as_str().expect("a second page");
    assert_eq!(
        names(&as_key(&app, &p, Method::GET, &format!("/api/v1/roles?limit=1&cursor={cursor}"), None).await),
        ["finance"]
    );

    let up = as_key(
        &app,
        &p,
        Method::PUT,
        &format!("/api/v1/roles/{id}"),
        Some(json!({"name": "treasury", "description": null})),
    )
    .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(up.body["name"], "treasury");
    assert!(up.body["description"].is_null());
    let taken = as_key(&app, &p, Method::PUT, &format!("/api/v1/roles/{id}"), Some(json!({"name": "ops"}))).await;
    assert_eq!(taken.status, 409);
    let dup = as_key(&app, &p, Method::POST, "/api/v1/roles", Some(json!({"name": "ops"}))).await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.code(), "conflict");

    for bad in [
        json!({"name": "Has Space"}),
        json!({"name": "x".repeat(51)}),
        json!({}),
        json!({"name": "ok", "description": "d".repeat(501)}),
    ] {
        let r = as_key(&app, &p, Method::POST, "/api/v1/roles", Some(bad.clone())).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.code(), "validation_failed");
    }
    let admin = as_key(&app, &p, Method::POST, "/api/v1/roles", Some(json!({"name": "admin"}))).await;
    assert_eq!(admin.status, 400);
    assert!(admin.body["error"]["details"]["fields"]["name"].is_string());
    assert_eq!(as_key(&app, &p, Method::DELETE, "/api/v1/roles/admin", None).await.status, 400);
    assert_eq!(as_key(&app, &p, Method::PUT, "/api/v1/roles/admin", Some(json!({"name": "boss"}))).await.status, 400);

    assert_eq!(as_key(&app, &p, Method::DELETE, &format!("/api/v1/roles/{id}"), None).await.status, 204);
    assert_eq!(as_key(&app, &p, Method::GET, &format!("/api/v1/roles/{id}"), None).await.status, 404);
    // End users manage no roles.
    let member = as_key(&app, &p, Method::POST, "/api/v1/users", Some(json!({"externalUserId": "m-1"}))).await;
    let tok =
        as_key(&app, &p, Method::POST, &format!("/api/v1/users/{}/token", member.body["id"].as_str().unwrap()), None)
            .await;
    let user_token = tok.body["token"].as_str().expect("a user token");
    assert_eq!(app.get("/api/v1/roles", Some(user_token)).await.status, 403);
    assert_eq!(app.post("/api/v1/roles", Some(user_token), json!({"name": "mine"})).await.status, 403);
    let log = app.get("/api/v1/audit", Some(&p.admin_token)).await;
    let actions: Vec<&str> =
        log.body["data"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    for a in ["role.create", "role.update", "role.delete"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    app.teardown().await;
}

#[tokio::test]
async fn a_role_still_held_is_kept_unless_forced_and_force_updates_its_holders() {
    let app = TestApp::spawn().await;
    let p = app.project("Held").await;
    for name in ["finance", "audit"] {
        assert_eq!(as_key(&app, &p, Method::POST, "/api/v1/roles", Some(json!({"name": name}))).await.status, 201);
    }
    let user = as_key(
        &app,
        &p,
        Method::POST,
        "/api/v1/users",
        Some(json!({"email": "f@example.com", "roles": ["finance", "audit"]})),
    )
    .await;
    assert_eq!(user.status, 201, "{}", user.body);
    let uid = user.body["id"].as_str().unwrap().to_string();
    let rule = as_key(
        &app,
        &p,
        Method::POST,
        "/api/v1/rules",
        Some(json!({
            "name": "Big money", "condition": "payload.amount > 1000", "targetRoles": ["finance"],
            "title": "Big", "message": "{{ payload.amount }}"
        })),
    )
    .await;
    assert_eq!(rule.status, 201, "{}", rule.body);
    let rule_id = rule.body["id"].as_str().unwrap().to_string();
    assert_eq!(as_key(&app, &p, Method::GET, "/api/v1/roles/finance", None).await.body["userCount"], 1);

    let refused = as_key(&app, &p, Method::DELETE, "/api/v1/roles/finance", None).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.body["error"]["details"], json!({"users": 1, "rules": 1}));
    let rename = as_key(&app, &p, Method::PUT, "/api/v1/roles/finance", Some(json!({"name": "money"}))).await;
    assert_eq!(rename.status, 409);

    // A forced rename follows the role everywhere.
    let forced =
        as_key(&app, &p, Method::PUT, "/api/v1/roles/finance?force=true", Some(json!({"name": "money"}))).await;
    assert_eq!(forced.status, 200, "{}", forced.body);
    let u = as_key(&app, &p, Method::GET, &format!("/api/v1/users/{uid}"), None).await;
    assert_eq!(u.body["roles"], json!(["money", "audit"]));
    let r = as_key(&app, &p, Method::GET, &format!("/api/v1/rules/{rule_id}"), None).await;
    assert_eq!(r.body["targetRoles"], json!(["money"]));
    let holders = as_key(&app, &p, Method::GET, "/api/v1/users?role=money", None).await;
    assert_eq!(holders.body["data"].as_array().unwrap().len(), 1);

    // A forced delete takes it off every user and rule.
    let gone = as_key(&app, &p, Method::DELETE, "/api/v1/roles/money?force=true", None).await;
    assert_eq!(gone.status, 204, "{}", gone.body);
    let u = as_key(&app, &p, Method::GET, &format!("/api/v1/users/{uid}"), None).await;
    assert_eq!(u.body["roles"], json!(["audit"]));
    let r = as_key(&app, &p, Method::GET, &format!("/api/v1/rules/{rule_id}"), None).await;
    assert_eq!(r.body["targetRoles"], json!([]));
    assert!(as_key(&app, &p, Method::GET, "/api/v1/users?role=money", None).await.body["data"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        as_key(&app, &p, Method::GET, "/api/v1/users?role=audit", None).await.body["data"].as_array().unwrap().len(),
        1
    );
    // A role nobody holds goes without force.
    let u2 = as_key(&app, &p, Method::PUT, &format!("/api/v1/users/{uid}"), Some(json!({"roles": []}))).await;
    assert_eq!(u2.status, 200);
    assert_eq!(as_key(&app, &p, Method::DELETE, "/api/v1/roles/audit", None).await.status, 204);
    app.teardown().await;
}

#[tokio::test]
async fn another_projects_roles_are_not_found() {
    let app = TestApp::spawn().await;
    let a = app.project("Roles A").await;
    let b = app.project("Roles B").await;
    let created = as_key(&app, &a, Method::POST, "/api/v1/roles", Some(json!({"name": "a-only"}))).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    for auth in [Auth::Key(&b.key, &b.secret), Auth::Bearer(&b.admin_token)] {
        for key in [id.as_str(), "a-only"] {
            for (method, body) in
                [(Method::GET, None), (Method::PUT, Some(json!({"description": "mine"}))), (Method::DELETE, None)]
            {
                let r = app.request(method.clone(), &format!("/api/v1/roles/{key}"), auth, body).await;
                assert_eq!(r.status, 404, "{method} {key}: {}", r.body);
            }
        }
        let list = app.request(Method::GET, "/api/v1/roles", auth, None).await;
        assert_eq!(list.status, 200);
        assert!(names(&list).is_empty());
        // A's role is unknown to B's users.
        let u = app
            .request(Method::POST, "/api/v1/users", auth, Some(json!({"externalUserId": "b-1", "roles": ["a-only"]})))
            .await;
        assert_eq!(u.status, 400);
    }
    let still = as_key(&app, &a, Method::GET, &format!("/api/v1/roles/{id}"), None).await;
    assert_eq!(still.status, 200);
    assert!(still.body["description"].is_null(), "untouched by B");
    // B may use the same name for its own role.
    assert_eq!(as_key(&app, &b, Method::POST, "/api/v1/roles", Some(json!({"name": "a-only"}))).await.status, 201);
    app.teardown().await;
}
