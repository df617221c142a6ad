//! Users: CRUD by key and admin, conflicts, validation, bulk sync, self-registration with the
//! publishable key through approval to a working token, admin protection, and isolation between
//! projects.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Auth, Reply, TestApp, TestProject};

async fn as_key(app: &TestApp, p: &TestProject, method: Method, path: &str, body: Option<Value>) -> Reply {
    app.request(method, path, Auth::Key(&p.key, &p.secret), body).await
}

async fn role(app: &TestApp, p: &TestProject, name: &str) {
    let r = as_key(app, p, Method::POST, "/api/v1/roles", Some(json!({"name": name}))).await;
    assert_eq!(r.status, 201, "role {name}: {}", r.body);
}

fn ids(r: &Reply) -> Vec<String> {
    r.body["data"].as_array().expect("a list").iter().map(|u| u["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_backend_creates_reads_lists_updates_and_deletes_users() {
    let app = TestApp::spawn().await;
    let p = app.project("Users").await;
    role(&app, &p, "finance").await;
    let created = as_key(
        &app,
        &p,
        Method::POST,
        "/api/v1/users",
        Some(json!({
            "email": " Ana@Example.com ", "phone": "+49 30 1234567", "password": "ana-password",
            "roles": ["finance"], "externalUserId": "user_44", "metadata": {"team": "emea"},
            "pushTokens": {"fcm": "fcm-token"}
        })),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let u = &created.body;
    assert_eq!(u["email"], "ana@example.com");
    assert_eq!(u["status"], "active");
    assert_eq!(u["roles"], json!(["finance"]));
    assert_eq!(u["projectId"], p.id.as_str());
    assert_eq!(u["pushTokens"], json!({"fcm": "fcm-token"}));
    assert!(u.get("password").is_none() && u.get("passwordHash").is_none(), "never a password: {u}");
    let id = u["id"].as_str().unwrap().to_string();

    // The user signs in with the password it was given.
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"project": p.slug, "email": "ana@example.com", "password": "ana-password"}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.body);

    let got = as_key(&app, &p, Method::GET, &format!("/api/v1/users/{id}"), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["externalUserId"], "user_44");

    let other = as_key(&app, &p, Method::POST, "/api/v1/users", Some(json!({"externalUserId": "user_45"}))).await;
    assert_eq!(other.status, 201, "{}", other.body);
    let other_id = other.body["id"].as_str().unwrap().to_string();
    let all = app.get("/api/v1/users", Some(&p.admin_token)).await;
    assert_eq!(all.status, 200);
    assert!(ids(&all).contains(&id) && ids(&all).contains(&other_id));
    assert!(all.body.get("nextCursor").is_some());
    for (query, expect) in [
        ("role=finance", vec![id.clone()]),
        ("q=ANA@EXAMPLE", vec![id.clone()]),
        ("externalUserId=user_45", vec![other_id.clone()]),
        ("status=pending", vec![]),
    ] {
        let r = as_key(&app, &p, Method::GET, &format!("/api/v1/users?{query}"), None).await;
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        assert_eq!(ids(&r), expect, "{query}");
    }
    let page = as_key(&app, &p, Method::GET, "/api/v1/users?limit=1", None).await;
    assert_eq!(ids(&page).len(), 1);
    let cursor = page.body["nextCursor"].as_str().expect("a next page").to_string();
    let next = as_key(&app, &p, Method::GET, &format!("/api/v1/users?limit=1&cursor={cursor}"), None).await;
    assert_eq!(ids(&next).len(), 1);
    assert_ne!(ids(&next), ids(&page));

    // A partial update: push tokens merge, metadata is replaced, null clears, roles mirror.
    let up = as_key(&app, &p, Method::PUT, &format!("/api/v1/users/{id}"), Some(json!({
        "pushTokens": {"apns": "apns-token"}, "metadata": {"tier": "gold"}, "phone": null, "roles": [], "status": "disabled"
    })))
    .await;
    assert_eq!(up.status, 200, "{}", up.body);
    assert_eq!(up.body["pushTokens"], json!({"fcm": "fcm-token", "apns": "apns-token"}));
    assert_eq!(up.body["metadata"], json!({"tier": "gold"}));
    assert!(up.body["phone"].is_null());
    assert_eq!(up.body["status"], "disabled");
    assert_eq!(up.body["email"], "ana@example.com", "fields left out keep their value");
    let by_role = as_key(&app, &p, Method::GET, "/api/v1/users?role=finance", None).await;
    assert!(ids(&by_role).is_empty(), "user_roles follows users.roles");

    let gone = as_key(&app, &p, Method::DELETE, &format!("/api/v1/users/{id}"), None).await;
    assert_eq!(gone.status, 204);
    assert_eq!(as_key(&app, &p, Method::GET, &format!("/api/v1/users/{id}"), None).await.status, 404);
    assert_eq!(as_key(&app, &p, Method::DELETE, &format!("/api/v1/users/{id}"), None).await.status, 404);

    let log = app.get("/api/v1/audit", Some(&p.admin_token)).await;
    let actions: Vec<&str> =
        log.body["data"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    for a in ["user.create", "user.update", "user.delete", "role.create"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    app.teardown().await;
}

#[tokio::test]
async fn duplicates_conflict_and_bad_fields_are_named() {
    let app = TestApp::spawn().await;
    let p = app.project("Dupes").await;
    let first = as_key(
        &app,
        &p,
        Method::POST,
        "/api/v1/users",
        Some(json!({"email": "a@example.com", "externalUserId": "ext-1"})),
    )
    .await;
    assert_eq!(first.status, 201);
    let same_email = as_key(&app, &p, Method::POST, "/api/v1/users", Some(json!({"email": "A@example.com"}))).await;
    assert_eq!(same_email.status, 409, "{}", same_email.body);
    assert_eq!(same_email.code(), "conflict");
    assert_eq!(same_email.body["error"]["details"]["field"], "email");
    let same_ext = as_key(&app, &p, Method::POST, "/api/v1/users", Some(json!({"externalUserId": "ext-1"}))).await;
    assert_eq!(same_ext.status, 409);
    assert_eq!(same_ext.body["error"]["details"]["field"], "externalUserId");
    // The same email in another project is another user.
    let q = app.project("Elsewhere").await;
    assert_eq!(
        as_key(&app, &q, Method::POST, "/api/v1/users", Some(json!({"email": "a@example.com"}))).await.status,
        201
    );

    let nameless = as_key(&app, &p, Method::POST, "/api/v1/users", Some(json!({"phone": "+1 555 0100"}))).await;
    assert_eq!(nameless.status, 400);
    assert!(nameless.body["error"]["details"]["fields"]["email"].is_string());
    let bad = as_key(&app, &p, Method::POST, "/api/v1/users", Some(json!({
        "email": "not-an-email", "status": "sleeping", "metadata": [1], "pushTokens": {"sms": "x"}, "password": "short"
    })))
    .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let fields = &bad.body["error"]["details"]["fields"];
    for f in ["email", "status", "metadata", "pushTokens", "password"] {
        assert!(fields[f].is_string(), "{f} named: {}", bad.body);
    }
    let unknown =
        as_key(&app, &p, Method::POST, "/api/v1/users", Some(json!({"email": "b@example.com", "roles": ["ghost"]})))
            .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body["error"]["details"]["fields"]["roles"].as_str().unwrap().contains("ghost"));
    let wrong_type = as_key(&app, &p, Method::POST, "/api/v1/users", Some(json!({"email": 5}))).await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(wrong_type.code(), "validation_failed");
    // An emptied identity is refused on update too.
    let id = first.body["id"].as_str().unwrap();
    let emptied = as_key(
        &app,
        &p,
        Method::PUT,
        &format!("/api/v1/users/{id}"),
        Some(json!({"email": null, "externalUserId": null})),
    )
    .await;
    assert_eq!(emptied.status, 400);
    assert_eq!(as_key(&app, &p, Method::GET, "/api/v1/users/not-a-uuid", None).await.status, 404);
    app.teardown().await;
}

#[tokio::test]
async fn sync_upserts_by_external_id_and_one_bad_item_sinks_nothing_else() {
    let app = TestApp::spawn().await;
    let p = app.project("Sync").await;
    role(&app, &p, "ops").await;
    let body = json!({"users": [
        {"externalUserId": "u-1", "email": "one@example.com", "roles": ["ops"]},
        {"email": "no-external-id@example.com"},
        {"externalUserId": "u-3", "roles": ["ghost"]},
        {"externalUserId": "u-4", "email": "one@example.com"},
        {"externalUserId": "u-5", "metadata": {"n": 5}, "password": "synced-password"},
        "not an object"
    ]});
    let r = as_key(&app, &p, Method::POST, "/api/v1/users/sync", Some(body)).await;
    assert_eq!(r.status, 207, "{}", r.body);
    let results = r.body["results"].as_array().unwrap();
    let statuses: Vec<&str> = results.iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["created", "rejected", "rejected", "rejected", "created", "rejected"]);
    assert!(results.iter().enumerate().all(|(i, r)| r["index"] == i));
    assert!(results[1]["error"]["details"]["fields"]["externalUserId"].is_string());
    assert!(results[2]["error"]["details"]["fields"]["roles"].is_string());
    assert_eq!(results[3]["error"]["code"], "conflict", "the email belongs to u-1");
    let u1 = results[0]["id"].as_str().unwrap().to_string();

    // A repeat updates, changing only the fields sent.
    let again = as_key(
        &app,
        &p,
        Method::POST,
        "/api/v1/users/sync",
        Some(json!({"users": [
            {"externalUserId": "u-1", "phone": "+1 555 0101", "roles": []},
            {"externalUserId": "u-6", "status": "pending"}
        ]})),
    )
    .await;
    assert_eq!(again.status, 207);
    assert_eq!(again.body["results"][0]["status"], "updated");
    assert_eq!(again.body["results"][0]["id"], u1.as_str());
    assert_eq!(again.body["results"][1]["status"], "created");
    let one = as_key(&app, &p, Method::GET, &format!("/api/v1/users/{u1}"), None).await;
    assert_eq!(one.body["email"], "one@example.com");
    assert_eq!(one.body["phone"], "+1 555 0101");
    assert_eq!(one.body["roles"], json!([]));
    let ops = as_key(&app, &p, Method::GET, "/api/v1/users?role=ops", None).await;
    assert!(ids(&ops).is_empty());
    let all = as_key(&app, &p, Method::GET, "/api/v1/users?limit=200", None).await;
    assert_eq!(ids(&all).len(), 1 + 3, "owner + u-1, u-5, u-6");
    let pending = as_key(&app, &p, Method::GET, "/api/v1/users?status=pending", None).await;
    assert_eq!(ids(&pending).len(), 1);

    // A full sync is larger than the default body limit, and fine.
    let full: Vec<Value> = (0..1000)
        .map(|i| json!({"externalUserId": format!("bulk-{i}"), "metadata": {"note": "n".repeat(300)}}))
        .collect();
    let r = as_key(&app, &p, Method::POST, "/api/v1/users/sync", Some(json!({"users": full}))).await;
    assert_eq!(r.status, 207, "{}", r.body);
    assert!(r.body["results"].as_array().unwrap().iter().all(|i| i["status"] == "created"));

    let too_many: Vec<Value> = (0..1001).map(|i| json!({"externalUserId": format!("x-{i}")})).collect();
    let r = as_key(&app, &p, Method::POST, "/api/v1/users/sync", Some(json!({"users": too_many}))).await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"]["details"]["fields"]["users"].is_string());
    let log = app.get("/api/v1/audit", Some(&p.admin_token)).await;
    assert_eq!(log.body["data"][0]["action"], "user.sync");
    assert_eq!(log.body["data"][0]["metadata"]["created"], 1000);
    assert_eq!(log.body["data"][1]["metadata"], json!({"created": 1, "updated": 1, "rejected": 0}));
    app.teardown().await;
}

#[tokio::test]
async fn a_self_registered_user_is_pending_until_approved_then_gets_a_working_token() {
    let app = TestApp::spawn().await;
    let p = app.project("Signup").await;
    role(&app, &p, "member").await;
    let pk_only = |path: &str, body: Value| {
        let req = app.client.post(format!("{}{path}", app.base)).header("X-API-Key", &p.key).json(&body);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, user) = pk_only(
        "/api/v1/users",
        json!({"email": "self@example.com", "externalUserId": "user_44", "roles": ["member"]}),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["status"], "pending");
    assert_eq!(user["roles"], json!(["member"]));
    let id = user["id"].as_str().unwrap().to_string();
    let (status, other) = pk_only("/api/v1/users/register", json!({"email": "second@example.com"})).await;
    assert_eq!(status, 201);
    assert_eq!(other["status"], "pending");
    // The publishable key asks for nothing more.
    let (status, body) = pk_only("/api/v1/users", json!({"email": "boss@example.com", "roles": ["admin"]})).await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = pk_only("/api/v1/users", json!({"email": "active@example.com", "status": "active"})).await;
    assert_eq!(status, 400);
    let (status, _) = pk_only("/api/v1/users/sync", json!({"users": [{"externalUserId": "x"}]})).await;
    assert_eq!(status, 401);
    let (status, _) = pk_only(&format!("/api/v1/users/{id}/approve"), json!({})).await;
    assert_eq!(status, 401);
    let list = app.client.get(format!("{}/api/v1/users", app.base)).header("X-API-Key", &p.key).send().await.unwrap();
    assert_eq!(list.status(), 401);
    let unknown = app
        .client
        .post(format!("{}/api/v1/users", app.base))
        .header("X-API-Key", "pk_live_nope")
        .json(&json!({"email": "x@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);

    // Pending users get no token; approval makes them active.
    let early = as_key(&app, &p, Method::POST, &format!("/api/v1/users/{id}/token"), None).await;
    assert_eq!(early.status, 409, "{}", early.body);
    let approved = as_key(&app, &p, Method::POST, &format!("/api/v1/users/{id}/approve"), None).await;
    assert_eq!(approved.status, 200, "{}", approved.body);
    assert_eq!(approved.body["status"], "active");
    let tok = as_key(&app, &p, Method::POST, &format!("/api/v1/users/{id}/token"), None).await;
    assert_eq!(tok.status, 200, "{}", tok.body);
    assert!(tok.body["expiresAt"].is_string());
    let token = tok.body["token"].as_str().unwrap().to_string();

    // The user's own token reads and partly updates its own record, and nothing else.
    let me = app.get(&format!("/api/v1/users/{id}"), Some(&token)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["email"], "self@example.com");
    let mine = app.put(&format!("/api/v1/users/{id}"), Some(&token), json!({"pushTokens": {"apns": "device-1"}})).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert_eq!(mine.body["pushTokens"]["apns"], "device-1");
    assert_eq!(app.put(&format!("/api/v1/users/{id}"), Some(&token), json!({"roles": []})).await.status, 403);
    assert_eq!(app.put(&format!("/api/v1/users/{id}"), Some(&token), json!({"status": "active"})).await.status, 403);
    let other_id = other["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/users/{other_id}"), Some(&token)).await.status, 403);
    assert_eq!(app.get("/api/v1/users", Some(&token)).await.status, 403);

    let log = app.get("/api/v1/audit", Some(&p.admin_token)).await;
    let rows = log.body["data"].as_array().unwrap();
    let register = rows.iter().find(|r| r["action"] == "user.register").expect("a register row");
    assert_eq!(register["actorType"], "publishable_key");
    assert!(rows.iter().any(|r| r["action"] == "user.approve"));
    app.teardown().await;
}

#[tokio::test]
async fn only_project_admins_manage_admins() {
    let app = TestApp::spawn().await;
    let p = app.project("Admins").await;
    let by_key =
        as_key(&app, &p, Method::POST, "/api/v1/users", Some(json!({"email": "boss@example.com", "roles": ["admin"]})))
            .await;
    assert_eq!(by_key.status, 403, "{}", by_key.body);
    let by_admin = app
        .post(
            "/api/v1/users",
            Some(&p.admin_token),
            json!({"email": "boss@example.com", "roles": ["admin"], "password": "boss-password"}),
        )
        .await;
    assert_eq!(by_admin.status, 201, "{}", by_admin.body);
    let boss = by_admin.body["id"].as_str().unwrap().to_string();
    // A key can neither change an admin, nor mint an admin's token.
    assert_eq!(
        as_key(&app, &p, Method::PUT, &format!("/api/v1/users/{boss}"), Some(json!({"password": "taken-over!"})))
            .await
            .status,
        403
    );
    assert_eq!(as_key(&app, &p, Method::POST, &format!("/api/v1/users/{boss}/token"), None).await.status, 403);
    assert_eq!(as_key(&app, &p, Method::DELETE, &format!("/api/v1/users/{boss}"), None).await.status, 403);
    // An admin can; the token is a project admin's.
    let tok = app.post(&format!("/api/v1/users/{boss}/token"), Some(&p.admin_token), json!({})).await;
    assert_eq!(tok.status, 200);
    let me = app.get("/api/v1/projects/me", Some(tok.body["token"].as_str().unwrap())).await;
    assert_eq!(me.status, 200, "an admin's token acts as a project admin");
    // The last active admin stays.
    assert_eq!(app.delete(&format!("/api/v1/users/{boss}"), Some(&p.admin_token)).await.status, 204);
    let owner = app.get("/api/v1/users?role=admin", Some(&p.admin_token)).await;
    let owner_id = ids(&owner).pop().expect("the owner holds admin");
    let demote = app.put(&format!("/api/v1/users/{owner_id}"), Some(&p.admin_token), json!({"roles": []})).await;
    assert_eq!(demote.status, 409, "{}", demote.body);
    assert_eq!(app.delete(&format!("/api/v1/users/{owner_id}"), Some(&p.admin_token)).await.status, 409);
    app.teardown().await;
}

#[tokio::test]
async fn another_projects_users_are_not_found() {
    let app = TestApp::spawn().await;
    let a = app.project("Tenant A").await;
    let b = app.project("Tenant B").await;
    let created = as_key(
        &app,
        &a,
        Method::POST,
        "/api/v1/users",
        Some(json!({"email": "a-user@example.com", "status": "pending"})),
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_string();
    for auth in [Auth::Key(&b.key, &b.secret), Auth::Bearer(&b.admin_token)] {
        for (method, path, body) in [
            (Method::GET, format!("/api/v1/users/{id}"), None),
            (Method::PUT, format!("/api/v1/users/{id}"), Some(json!({"phone": "+1 555 0199"}))),
            (Method::POST, format!("/api/v1/users/{id}/approve"), None),
            (Method::POST, format!("/api/v1/users/{id}/token"), None),
            (Method::DELETE, format!("/api/v1/users/{id}"), None),
        ] {
            let r = app.request(method.clone(), &path, auth, body).await;
            assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
            assert_eq!(r.code(), "not_found");
        }
        let list = app.request(Method::GET, "/api/v1/users?limit=200", auth, None).await;
        assert_eq!(list.status, 200);
        assert!(!ids(&list).contains(&id));
        assert!(list.body["data"].as_array().unwrap().iter().all(|u| u["projectId"] == b.id.as_str()));
    }
    // B's sync with A's external ids creates B's own users.
    let ext = as_key(&app, &a, Method::POST, "/api/v1/users", Some(json!({"externalUserId": "shared-ext"}))).await;
    assert_eq!(ext.status, 201);
    let synced = as_key(
        &app,
        &b,
        Method::POST,
        "/api/v1/users/sync",
        Some(json!({"users": [{"externalUserId": "shared-ext"}]})),
    )
    .await;
    assert_eq!(synced.body["results"][0]["status"], "created");
    assert_ne!(synced.body["results"][0]["id"], ext.body["id"]);
    let still = as_key(&app, &a, Method::GET, &format!("/api/v1/users/{id}"), None).await;
    assert_eq!(still.body["status"], "pending", "untouched by B");
    app.teardown().await;
}
