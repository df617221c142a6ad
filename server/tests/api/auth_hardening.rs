//! Authentication as an attacker tries it: tokens of disabled, deleted and demoted admins, tokens
//! minted through a revoked key, a suspended project's tokens and open sockets, rotated secrets.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Auth, Reply, TestApp, TestProject};
use crate::realtime::support::{connect, next, Ws};

/// A second project admin, signed in: (id, token).
async fn second_admin(app: &TestApp, p: &TestProject) -> (String, String) {
    let email = format!("admin-{}@example.com", uuid::Uuid::new_v4().simple());
    let made = app
        .post(
            "/api/v1/users",
            Some(&p.admin_token),
            json!({"email": email, "password": "admin-password", "roles": ["admin"]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let login = app
        .post("/api/v1/auth/login", None, json!({"project": p.slug, "email": email, "password": "admin-password"}))
        .await;
    assert_eq!(login.status, 200, "{}", login.body);
    (made.body["id"].as_str().unwrap().to_string(), login.body["token"].as_str().unwrap().to_string())
}

async fn list_keys_at(app: &TestApp, base: &str, token: &str) -> u16 {
    let res = app.client.get(format!("{base}/api/v1/projects/me/api-keys")).bearer_auth(token).send().await.unwrap();
    res.status().as_u16()
}

/// Polls `check` until it answers `want`, for at most `within`.
async fn eventually(within: Duration, want: u16, mut check: impl AsyncFnMut() -> u16) -> u16 {
    let start = Instant::now();
    loop {
        let got = check().await;
        if got == want || start.elapsed() > within {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn disabled_deleted_and_demoted_admins_lose_their_tokens_at_once() {
    let app = TestApp::spawn().await;
    let p = app.project("Revocable").await;

    let (disabled, disabled_token) = second_admin(&app, &p).await;
    assert_eq!(list_keys_at(&app, &app.base, &disabled_token).await, 200);
    let r = app.put(&format!("/api/v1/users/{disabled}"), Some(&p.admin_token), json!({"status": "disabled"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refused = app.get("/api/v1/projects/me/api-keys", Some(&disabled_token)).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.code(), "unauthenticated");

    let (demoted, demoted_token) = second_admin(&app, &p).await;
    assert_eq!(list_keys_at(&app, &app.base, &demoted_token).await, 200);
    let r = app.put(&format!("/api/v1/users/{demoted}"), Some(&p.admin_token), json!({"roles": []})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(list_keys_at(&app, &app.base, &demoted_token).await, 401);
    assert_eq!(
        app.post("/api/v1/projects/me/api-keys", Some(&demoted_token), json!({"name": "mine"})).await.status,
        401
    );

    let (deleted, deleted_token) = second_admin(&app, &p).await;
    assert_eq!(list_keys_at(&app, &app.base, &deleted_token).await, 200);
    assert_eq!(app.delete(&format!("/api/v1/users/{deleted}"), Some(&p.admin_token)).await.status, 204);
    assert_eq!(list_keys_at(&app, &app.base, &deleted_token).await, 401);
    assert_eq!(app.get("/api/v1/projects/me/realtime", Some(&deleted_token)).await.status, 401);

    // The owner, untouched, keeps working.
    assert_eq!(list_keys_at(&app, &app.base, &p.admin_token).await, 200);
    app.teardown().await;
}

#[tokio::test]
async fn a_disabled_admin_is_refused_by_another_process_within_five_seconds() {
    let app = TestApp::spawn().await;
    let p = app.project("Cluster revocation").await;
    let sibling = app.sibling(false, |_| {}).await;
    let (id, token) = second_admin(&app, &p).await;
    // The other process has seen the token work (and cached what it knows).
    assert_eq!(list_keys_at(&app, &sibling.base, &token).await, 200);
    let r = app.put(&format!("/api/v1/users/{id}"), Some(&p.admin_token), json!({"status": "disabled"})).await;
    assert_eq!(r.status, 200);
    let got = eventually(Duration::from_secs(5), 401, async || list_keys_at(&app, &sibling.base, &token).await).await;
    assert_eq!(got, 401, "the sibling still accepts the disabled admin's token after 5 s");
    sibling.stop().await;
    app.teardown().await;
}

/// A key with `users:manage`: (id, key, secret).
async fn extra_key(app: &TestApp, p: &TestProject) -> (String, String, String) {
    let k = app
        .post(
            "/api/v1/projects/me/api-keys",
            Some(&p.admin_token),
            json!({"name": "backend", "permissions": ["users:manage"]}),
        )
        .await;
    assert_eq!(k.status, 201, "{}", k.body);
    let s = |f: &str| k.body[f].as_str().unwrap().to_string();
    (s("id"), s("key"), s("secret"))
}

#[tokio::test]
async fn tokens_minted_through_a_revoked_key_stop_working() {
    let app = TestApp::spawn().await;
    let p = app.project("Minted").await;
    let (key_id, key, secret) = extra_key(&app, &p).await;
    let made = app
        .request(Method::POST, "/api/v1/users", Auth::Key(&key, &secret), Some(json!({"email": "u@example.com"})))
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let user = made.body["id"].as_str().unwrap().to_string();
    let minted =
        app.request(Method::POST, &format!("/api/v1/users/{user}/token"), Auth::Key(&key, &secret), None).await;
    assert_eq!(minted.status, 200, "{}", minted.body);
    let token = minted.body["token"].as_str().unwrap().to_string();
    assert_eq!(app.get(&format!("/api/v1/users/{user}"), Some(&token)).await.status, 200);

    let revoked = app.delete(&format!("/api/v1/projects/me/api-keys/{key_id}"), Some(&p.admin_token)).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let r = app.get(&format!("/api/v1/users/{user}"), Some(&token)).await;
    assert_eq!(r.status, 401, "{}", r.body);
    // A token minted through the project's other key is unaffected.
    let again =
        app.request(Method::POST, &format!("/api/v1/users/{user}/token"), Auth::Key(&p.key, &p.secret), None).await;
    let token = again.body["token"].as_str().unwrap().to_string();
    assert_eq!(app.get(&format!("/api/v1/users/{user}"), Some(&token)).await.status, 200);
    app.teardown().await;
}

/// Reads frames until the socket closes; answers the close code, or panics after `within`.
async fn closed_within(ws: &mut Ws, within: Duration) -> u16 {
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < within, "the socket is still open after {within:?}");
        let frame: Value = next(ws).await;
        if let Some(code) = frame.get("closed") {
            return code.as_u64().unwrap_or(0) as u16;
        }
    }
}

async fn suspend(app: &TestApp, p: &TestProject) -> Reply {
    app.delete(&format!("/api/v1/platform/projects/{}", p.id), Some(&app.admin_token)).await
}

#[tokio::test]
async fn a_suspended_projects_tokens_are_refused_and_its_sockets_closed() {
    let app = TestApp::spawn().await;
    let p = app.project("Suspended").await;
    let (user, token) = crate::realtime::support::user(&app, &p, "sock").await;
    assert_eq!(app.get(&format!("/api/v1/users/{user}"), Some(&token)).await.status, 200);
    let (mut ws, _) = connect(&app.base, &p.key).await;
    let r = suspend(&app, &p).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let started = Instant::now();
    assert_eq!(closed_within(&mut ws, Duration::from_secs(5)).await, 4003);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(app.get(&format!("/api/v1/users/{user}"), Some(&token)).await.status, 403);
    assert_eq!(app.get("/api/v1/projects/me", Some(&p.admin_token)).await.status, 403);
    app.teardown().await;
}

#[tokio::test]
async fn a_suspension_elsewhere_closes_this_processes_sockets_within_five_seconds() {
    let app = TestApp::spawn().await;
    let p = app.project("Suspended elsewhere").await;
    let sibling = app.sibling(false, |_| {}).await;
    let (mut ws, _) = connect(&sibling.base, &p.key).await;
    assert_eq!(suspend(&app, &p).await.status, 200);
    assert_eq!(closed_within(&mut ws, Duration::from_secs(5)).await, 4003);
    sibling.stop().await;
    app.teardown().await;
}

#[tokio::test]
async fn revoking_a_key_or_rotating_the_secret_closes_open_sockets() {
    let app = TestApp::spawn().await;
    let p = app.project("Rotated").await;
    let k = app.post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"name": "web"})).await;
    assert_eq!(k.status, 201);
    let (key_id, key) = (k.body["id"].as_str().unwrap().to_string(), k.body["key"].as_str().unwrap().to_string());
    let (mut on_revoked, _) = connect(&app.base, &key).await;
    let (mut on_main, _) = connect(&app.base, &p.key).await;
    assert_eq!(app.delete(&format!("/api/v1/projects/me/api-keys/{key_id}"), Some(&p.admin_token)).await.status, 200);
    assert_eq!(closed_within(&mut on_revoked, Duration::from_secs(5)).await, 4003);

    let rotated = app.post("/api/v1/projects/me/realtime/rotate", Some(&p.admin_token), json!({})).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    assert_eq!(closed_within(&mut on_main, Duration::from_secs(5)).await, 4200);
    // Reconnecting works.
    let _ = connect(&app.base, &p.key).await;
    app.teardown().await;
}

async fn register(app: &TestApp, p: &TestProject, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/api/v1/users/register", app.base))
        .header("X-API-Key", &p.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn self_registration_cannot_pre_claim_a_synced_user() {
    let app = TestApp::spawn().await;
    let p = app.project("Pre-claim").await;
    // A stranger with the publishable key cannot plant a device token.
    let (status, body) =
        register(&app, &p, json!({"externalUserId": "victim", "pushTokens": {"fcm": "attacker-device"}})).await;
    assert_eq!(status, 400, "{body}");
    // It can register with a password, as a real user would; the client's sync then adopts the row.
    let (status, body) = register(
        &app,
        &p,
        json!({"email": "victim@example.com", "externalUserId": "victim", "password": "attacker-password"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let synced = app
        .request(
            Method::POST,
            "/api/v1/users/sync",
            Auth::Key(&p.key, &p.secret),
            Some(json!({"users": [{"externalUserId": "victim", "status": "active"}]})),
        )
        .await;
    assert_eq!(synced.status, 207, "{}", synced.body);
    assert_eq!(synced.body["results"][0]["status"], "updated", "{}", synced.body);
    // The stranger's password no longer signs in.
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"project": p.slug, "email": "victim@example.com", "password": "attacker-password"}),
        )
        .await;
    assert_eq!(login.status, 401, "{}", login.body);
    app.teardown().await;
}

#[tokio::test]
async fn changing_ones_own_password_needs_the_current_one() {
    let app = TestApp::spawn().await;
    let p = app.project("Password change").await;
    let made = app
        .request(
            Method::POST,
            "/api/v1/users",
            Auth::Key(&p.key, &p.secret),
            Some(json!({"email": "me@example.com", "password": "first-password"})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap();
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"project": p.slug, "email": "me@example.com", "password": "first-password"}),
        )
        .await;
    let token = login.body["token"].as_str().unwrap().to_string();
    let path = format!("/api/v1/users/{id}");
    let r = app.put(&path, Some(&token), json!({"password": "second-password"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["error"]["details"]["fields"]["currentPassword"].is_string(), "{}", r.body);
    let r =
        app.put(&path, Some(&token), json!({"password": "second-password", "currentPassword": "wrong-password"})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r =
        app.put(&path, Some(&token), json!({"password": "second-password", "currentPassword": "first-password"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"project": p.slug, "email": "me@example.com", "password": "second-password"}),
        )
        .await;
    assert_eq!(login.status, 200);
    // The project's backend still sets passwords without knowing the old one.
    let r = app
        .request(Method::PUT, &path, Auth::Key(&p.key, &p.secret), Some(json!({"password": "third-password"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.teardown().await;
}

#[tokio::test]
async fn a_login_flood_gets_429s_per_account_and_per_address() {
    let app = TestApp::spawn().await;
    let p = app.project("Flood").await;
    let wrong = json!({"project": p.slug, "email": "nobody@example.com", "password": "wrong-password"});
    let mut codes = vec![];
    for _ in 0..12 {
        codes.push(app.post("/api/v1/auth/login", None, wrong.clone()).await);
    }
    assert!(codes[..10].iter().all(|r| r.status == 401), "the first ten are plain refusals");
    let last = codes.last().unwrap();
    assert_eq!(last.status, 429, "{}", last.body);
    assert_eq!(last.code(), "rate_limited");
    assert!(last.headers.contains_key("retry-after"));
    // Another account from the same address is still served, until the address's budget runs out.
    let other = json!({"project": p.slug, "email": "other@example.com", "password": "wrong-password"});
    assert_eq!(app.post("/api/v1/auth/login", None, other.clone()).await.status, 401);
    let mut last = 0;
    for i in 0..30 {
        let email = format!("user{i}@example.com");
        last = app
            .post("/api/v1/auth/login", None, json!({"project": p.slug, "email": email, "password": "x-password"}))
            .await
            .status
            .as_u16();
    }
    assert_eq!(last, 429, "the address's budget runs out");
    // The API stays responsive meanwhile.
    assert_eq!(app.get("/api/v1/projects/me", Some(&p.admin_token)).await.status, 200);
    app.teardown().await;
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // Without trusted proxies, X-Forwarded-For changes nothing: one address for all attempts.
    let app = TestApp::spawn().await;
    let p = app.project("Untrusted").await;
    let mut last = 0;
    for i in 0..31 {
        let res = app
            .client
            .post(format!("{}/api/v1/auth/login", app.base))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({"project": p.slug, "email": format!("u{i}@example.com"), "password": "x-password"}))
            .send()
            .await
            .unwrap();
        last = res.status().as_u16();
    }
    assert_eq!(last, 429);
    app.teardown().await;

    // Behind a trusted proxy (here, loopback), each forwarded client has its own budget.
    let app = TestApp::spawn_with(|s| {
        s.auth.trusted_proxies = vec![domain::auth::settings::IpRange::parse("127.0.0.1").unwrap()]
    })
    .await;
    let p = app.project("Trusted").await;
    for i in 0..31 {
        let res = app
            .client
            .post(format!("{}/api/v1/auth/login", app.base))
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .json(&json!({"project": p.slug, "email": format!("u{i}@example.com"), "password": "x-password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    // The audit log records the forwarded client.
    let k = app.post("/api/v1/projects/me/api-keys", Some(&p.admin_token), json!({"name": "x"})).await;
    assert_eq!(k.status, 201);
    app.teardown().await;
}

#[tokio::test]
async fn malformed_keys_and_app_ids_are_refused_before_any_lookup() {
    let app = TestApp::spawn().await;
    for key in ["x", "pk_live_", "pk_live_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", &"a".repeat(5000)] {
        let r = app
            .request(Method::POST, "/api/v1/events", Auth::Key(key, "sk"), Some(json!({"type": "t", "payload": {}})))
            .await;
        assert_eq!(r.status, 401, "{key}");
    }
    // None of them was looked up, so none takes a place in the key cache.
    assert_eq!(app.svc.cached_api_keys(), 0);
    for key in ["x", "pk_live_nope"] {
        let url = format!("{}/app/{key}?protocol=7", app.base.replace("http", "ws"));
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("upgrade");
        let refusal = next(&mut ws).await;
        assert_eq!(refusal["event"], "pusher:error", "{refusal}");
    }
    assert_eq!(app.svc.cached_api_keys(), 0);
    app.teardown().await;
}

#[tokio::test]
async fn a_settings_change_racing_a_suspension_never_reactivates_the_project() {
    let app = TestApp::spawn().await;
    let p = app.project("Racing settings").await;
    let path = format!("/api/v1/platform/projects/{}", p.id);
    for i in 0..10 {
        let rename = app.put("/api/v1/projects/me", Some(&p.admin_token), json!({"name": format!("Racing {i}")}));
        let (_, suspended) = tokio::join!(rename, suspend(&app, &p));
        assert_eq!(suspended.status, 200, "{}", suspended.body);
        let now = app.get(&path, Some(&app.admin_token)).await;
        assert_eq!(now.body["status"], "suspended", "round {i}: {}", now.body);
        let back = app.put(&path, Some(&app.admin_token), json!({"status": "active"})).await;
        assert_eq!(back.status, 200, "{}", back.body);
    }
    // A plan change leaves the status alone too.
    assert_eq!(suspend(&app, &p).await.status, 200);
    let r = app.put(&path, Some(&app.admin_token), json!({"plan": "starter"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "suspended");
    app.teardown().await;
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let app = TestApp::spawn().await;
    for round in 0..6 {
        let p = app.project("Admin race").await;
        let owner =
            app.get("/api/v1/projects/me", Some(&p.admin_token)).await.body["ownerId"].as_str().map(str::to_string);
        let (other, other_token) = second_admin(&app, &p).await;
        let owner = match owner {
            Some(o) => o,
            None => {
                let list =
                    app.request(Method::GET, "/api/v1/users?role=admin", Auth::Key(&p.key, &p.secret), None).await;
                list.body["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u["id"].as_str().unwrap().to_string())
                    .find(|id| *id != other)
                    .unwrap()
            }
        };
        let (path_a, path_b) = (format!("/api/v1/users/{other}"), format!("/api/v1/users/{owner}"));
        let a = app.put(&path_a, Some(&p.admin_token), json!({"roles": []}));
        let b = app.put(&path_b, Some(&other_token), json!({"roles": []}));
        let (a, b) = tokio::join!(a, b);
        assert!(
            !(a.status == 200 && b.status == 200),
            "round {round}: both admins were demoted ({} / {})",
            a.body,
            b.body
        );
    }
    app.teardown().await;
}

#[tokio::test]
async fn browsers_from_a_projects_allowed_origins_pass_cors() {
    let app = TestApp::spawn().await;
    let p = app.project("Browser").await;
    let bad = app.put("/api/v1/projects/me", Some(&p.admin_token), json!({"allowedOrigins": ["not an origin"]})).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    let r = app
        .put("/api/v1/projects/me", Some(&p.admin_token), json!({"allowedOrigins": ["https://app.example.com"]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["settings"]["allowedOrigins"], json!(["https://app.example.com"]));
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, format!("{}/api/v1/realtime/auth", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    // The set of allowed origins is re-read within seconds.
    let mut allowed = None;
    for _ in 0..70 {
        let res = preflight("https://app.example.com").await.unwrap();
        if res.headers().get("access-control-allow-origin").is_some() {
            allowed = Some(res);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let allowed = allowed.expect("the allowed origin passes the preflight");
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://app.example.com");
    let other = preflight("https://evil.example.net").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    app.teardown().await;
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let r = app.get("/api/v1/nothing-here", None).await;
    let id = r.headers.get("x-request-id").expect("a request id").to_str().unwrap().to_string();
    assert!(!id.is_empty());
    let mine =
        app.client.get(format!("{}/healthz", app.base)).header("x-request-id", "client-chosen-1").send().await.unwrap();
    assert_eq!(mine.headers()["x-request-id"], "client-chosen-1");
    app.teardown().await;
}

#[tokio::test]
async fn metrics_take_the_metrics_token_when_one_is_set() {
    let app = TestApp::spawn_with(|s| s.auth.metrics_token = Some("metrics-secret-token".into())).await;
    let none = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = app.client.get(format!("{}/metrics", app.base)).bearer_auth("nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right =
        app.client.get(format!("{}/metrics", app.base)).bearer_auth("metrics-secret-token").send().await.unwrap();
    assert_eq!(right.status(), 200);
    app.teardown().await;
}

#[tokio::test]
async fn a_short_app_secret_is_refused_at_start_up() {
    let app = TestApp::spawn().await;
    let mut settings = app.svc.settings.clone();
    settings.app_secret = "12345".into();
    settings.bootstrap_admin = None;
    let err = domain::Services::start(settings).await.err().expect("a 5-byte APP_SECRET is refused");
    assert!(err.to_string().contains("APP_SECRET must be at least 32 bytes"), "{err}");
    app.teardown().await;
}

#[tokio::test]
async fn webhooks_use_the_webs_ports_unless_any_port_is_allowed() {
    let app = TestApp::spawn_with(|s| s.auth.webhook_allow_any_port = false).await;
    let p = app.project("Ports").await;
    let r = app
        .put("/api/v1/projects/me/webhook", Some(&p.admin_token), json!({"url": "https://hooks.example.com:6379/x"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body["error"]["details"]["fields"]["url"].as_str().unwrap_or("").contains("port"), "{}", r.body);
    let r = app.put("/api/v1/projects/me/webhook", Some(&p.admin_token), json!({"url": "https://[2001::1]/x"})).await;
    assert_eq!(r.status, 400, "Teredo is refused: {}", r.body);
    let r = app
        .put("/api/v1/projects/me/webhook", Some(&p.admin_token), json!({"url": "https://hooks.example.com/x"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.teardown().await;
}
