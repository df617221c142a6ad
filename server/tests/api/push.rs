//! Mobile push as a client sees it: FCM and APNs credentials saved and never shown again; a
//! recipient with no live socket gets one FCM v1 and one APNs request at once, well-formed and
//! signed; a connected one gets them only when the acknowledgement is overdue, and none when
//! they acknowledge; a token the services call dead is removed from the user. Stand-ins for
//! Google's token endpoint, FCM and APNs (HTTP/2, h2c) record what arrives.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Json;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Method;
use serde_json::{json, Value};

use crate::delivery::{listening_user, notification};
use crate::engine::{finance_rule, processed};
use crate::helpers::{Auth, TestApp, TestProject};

// Throwaway keys made for these tests only (openssl genpkey); they sign nothing real.
const RSA_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC7oBoE3+N2ijGz\n8cdxLNxxLQI8rC79xyR4XtYVATSq+jQK+HoIqV0R1bjY2r1ITivxp+usuFZ+gFya\nNdWJsiBJv4ISokzDIycwn3qyO2iwozOWwviufvmepx/IzesPUm1uChj0VK72gwc0\nUnzDKw58DgVQP7k+umVcvqIOcd35EbIOtSX/FfVvc7Cyqi2BEGqKVNR/SWDzEbrv\ntcIuVKtEzH8ztKTcpCCKexlndXiOWBEh6bJWO5GdTsuTlaKIvrxgnazmZ+PEovF1\nlnmJ5iGBv3x5IcqlfXDTIfJvtgX1Pao923I82rO4CtSgNyoVAON4hhQMy6aBB3zd\nf8umkY4ZAgMBAAECggEAFhiGt+g9+2nO7Kgemr9zvohUaRzF8/EN5HcWsyaPM0t/\n8YLNrFN1uHH48ODhxbAfELh70r1qwj8PqMGKQksN7mF1Sgh/DcQIC3vckTzZ2WN+\n4dRYQQSHFR4NajKF6ioE5R6fTbbjW/iWUp0cQEfDzuw/x/GZOT/uS/vPTfAu+fPd\npCJDkT4hwNRcGa6dXphfEnPV6vR48VqinpuQLZpXWm2HN/sIqW67JheqMg7wQCgy\nDS489dbpMzSPjq+p2XLA+QiyX50JJ7APbpfSbGs9Lnf7JYPn6QL2AAMgAG8UxDjX\neB9m/RnaWLzeEo1v63MKrfdbDUTSfjOY01uZlomAAQKBgQDzJsbaxc03todvWHa8\nZADKsvjUZQfZKx/cIO2RQSAO1ULk64oEfm3vzpsUoz/ti8CVb3YePPtRInJxbIaK\nAuiruDV92IZZdt+b0IYodNJ2loM4W8XBz4c78bWyn/TxbmfXXwXArJqSfHuNIlqy\nPfcPS2JKFV+L2uv4HuIRgMfmGQKBgQDFijKh4Mx0yNcg+lF1Ua0Od2dl+N/zME8k\nnvIoQ4+YfwgOMQGKqO3LvU66WAo2uVbc1lS5+a2cBen+GY1A884oJhAbJHSnRQhK\nFIl7ut4lUq9PRrhDlMnb43EoaKDdwRfoMw4+USJ+rxS5regPyrvge1oFHqHplz6k\n0hsCUbvoAQKBgQCuRN2DEP+rbZQWFqZLEbWLkchLmfmNCZ51C9iZIb8TQoAGSFaM\nL/0lQcPef76ix2YI9HEI7RYGqZSyfGDU647M/GLCRnzMBCnxp/tvZYMuYWO88fGD\nnfTD3tImKwTIQSQFtWIPHOZQFQ4MMlIkq8q12IaiqDzppMc49xF6D/21iQKBgGfz\n6eE2I2HxrwQztlo+uQs72rXW2kNn0L48xsJZi198ugh90YnejAUDgkKdwgI6VnOw\ndrXHpozMr+6AE81yf7KxFRizfo/nzAzv8cmi9PQ/JvJZDO7DhdapQgs5xC3uR15y\nP7SbjcOM7yMnWU+2KFhhkWXQUPRUGysxRfVafcABAoGBAJdRZkOl8wJC4VA6HB4M\nOEKCSbOCaISo/cyKYJ5dARTugn5Da4VSHZNSj/4rvfRtk8m19reoE5vd/ay2LySa\n4zMHmsrjr2mJ6SZpukgl+80+W98+DsCFVqycTSgl0NPevIKhenE03HwzDf4a70tl\nWg92Ro4Xj+CKc3j2ySrvfXFz\n-----END PRIVATE KEY-----";
const RSA_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu6AaBN/jdooxs/HHcSzc\ncS0CPKwu/cckeF7WFQE0qvo0Cvh6CKldEdW42Nq9SE4r8afrrLhWfoBcmjXVibIg\nSb+CEqJMwyMnMJ96sjtosKMzlsL4rn75nqcfyM3rD1JtbgoY9FSu9oMHNFJ8wysO\nfA4FUD+5PrplXL6iDnHd+RGyDrUl/xX1b3OwsqotgRBqilTUf0lg8xG677XCLlSr\nRMx/M7Sk3KQginsZZ3V4jlgRIemyVjuRnU7Lk5WiiL68YJ2s5mfjxKLxdZZ5ieYh\ngb98eSHKpX1w0yHyb7YF9T2qPdtyPNqzuArUoDcqFQDjeIYUDMumgQd83X/LppGO\nGQIDAQAB\n-----END PUBLIC KEY-----";
const EC_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYQTd5vWHJeT9CREK\nQBeZ7nZU7eAIU/PRTgUIcbgirbChRANCAAR25CSOw4YweMUWbzZEwKAg7vzC57Gz\nTfiu2rbZYJ9KUnHNTtZCHC+2aoaNihRejLdrzU85X6q/nhey5/GV19XM\n-----END PRIVATE KEY-----";
const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEduQkjsOGMHjFFm82RMCgIO78wuex\ns034rtq22WCfSlJxzU7WQhwvtmqGjYoUXoy3a81POV+qv54XsufxldfVzA==\n-----END PUBLIC KEY-----";

const TEAM_ID: &str = "TEAM123456";
const KEY_ID: &str = "KEY1234567";
const TOPIC: &str = "com.example.app";
const CLIENT_EMAIL: &str = "push@example-project.iam.gserviceaccount.com";

/// One request the stand-in received.
#[derive(Clone, Debug)]
struct Seen {
    version: axum::http::Version,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// Google's token endpoint, FCM and APNs on one local port (HTTP/1.1 and h2c).
#[derive(Clone, Default)]
struct Stand(Arc<Mutex<Vec<Seen>>>);

impl Stand {
    async fn start() -> (Stand, String) {
        let stand = Stand::default();
        let router = axum::Router::new().fallback(record).with_state(stand.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        (stand, base)
    }

    fn seen(&self, prefix: &str) -> Vec<Seen> {
        self.0.lock().unwrap().iter().filter(|s| s.path.starts_with(prefix)).cloned().collect()
    }

    /// Waits until `n` requests under `prefix` arrived (at most `within`).
    async fn wait(&self, prefix: &str, n: usize, within: Duration) -> Vec<Seen> {
        let until = std::time::Instant::now() + within;
        loop {
            let seen = self.seen(prefix);
            if seen.len() >= n || std::time::Instant::now() > until {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn record(State(s): State<Stand>, req: axum::extract::Request) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let uri: Uri = parts.uri.clone();
    let path = uri.path().to_string();
    s.0.lock().unwrap().push(Seen { version: parts.version, path: path.clone(), headers: parts.headers, body });
    if path == "/token" {
        return Json(json!({"access_token": "ya29.test-access", "expires_in": 3600, "token_type": "Bearer"}))
            .into_response();
    }
    if path.starts_with("/v1/projects/") {
        let sent: Value = serde_json::from_slice(&s.0.lock().unwrap().last().unwrap().body).unwrap_or_default();
        if sent["message"]["token"] == "dead-fcm" {
            let e = json!({"error": {"code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
                "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}});
            return (StatusCode::NOT_FOUND, Json(e)).into_response();
        }
        return Json(json!({"name": "projects/example-project/messages/1"})).into_response();
    }
    if path == "/3/device/dead-apns" {
        return (StatusCode::GONE, Json(json!({"reason": "Unregistered", "timestamp": 1}))).into_response();
    }
    if path.starts_with("/3/device/") {
        return StatusCode::OK.into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}

async fn app_with(base: &str) -> TestApp {
    let base = base.to_string();
    TestApp::spawn_with(move |s| {
        s.fcm_base_url = base.clone();
        s.fcm_token_url = format!("{base}/token");
        s.apns_base_url = Some(base);
    })
    .await
}

fn service_account() -> Value {
    json!({"type": "service_account", "project_id": "example-project", "private_key_id": "kid-1",
        "private_key": RSA_KEY, "client_email": CLIENT_EMAIL, "token_uri": "https://oauth2.googleapis.com/token"})
}

/// A project with the finance rule and both push services configured.
async fn push_project(app: &TestApp) -> TestProject {
    let p = app.project("Push").await;
    finance_rule(app, &p).await;
    let r = app
        .put(
            "/api/v1/projects/me/push",
            Some(&p.admin_token),
            json!({"fcm": {"serviceAccountJson": service_account().to_string()},
                "apns": {"teamId": TEAM_ID, "keyId": KEY_ID, "privateKeyPem": EC_KEY, "topic": TOPIC, "sandbox": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    p
}

async fn set_tokens(app: &TestApp, p: &TestProject, user: &str, fcm: &str, apns: &str) {
    let r = app
        .request(
            Method::PUT,
            &format!("/api/v1/users/{user}"),
            Auth::Key(&p.key, &p.secret),
            Some(json!({"pushTokens": {"fcm": fcm, "apns": apns}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn offline_user(app: &TestApp, p: &TestProject, name: &str, fcm: &str, apns: &str) -> String {
    let r = app
        .request(
            Method::POST,
            "/api/v1/users",
            Auth::Key(&p.key, &p.secret),
            Some(json!({"email": format!("{name}@example.com"), "externalUserId": name, "roles": ["finance"],
                "pushTokens": {"fcm": fcm, "apns": apns}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

async fn send(app: &TestApp, p: &TestProject) -> String {
    let sent =
        app.send_event(p, json!({"type": "pending_transaction", "payload": {"amount": 5000, "currency": "EUR"}})).await;
    let done = processed(app, p, sent.body["id"].as_str().unwrap()).await;
    done["notificationIds"][0].as_str().expect("a notification").to_string()
}

#[tokio::test]
async fn credentials_are_checked_sealed_and_never_shown() {
    let app = TestApp::spawn().await;
    let p = app.project("Push creds").await;
    let empty = app.get("/api/v1/projects/me/push", Some(&p.admin_token)).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.body["fcm"]["configured"], false);
    assert_eq!(empty.body["apns"]["configured"], false);

    let bad = app
        .put(
            "/api/v1/projects/me/push",
            Some(&p.admin_token),
            json!({"fcm": {"serviceAccountJson": "{\"project_id\": \"x\"}"},
                "apns": {"teamId": "short", "keyId": KEY_ID, "privateKeyPem": "not a key", "topic": TOPIC}}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.code(), "validation_failed");
    let details = bad.body["error"]["details"].to_string();
    for field in ["fcm.serviceAccountJson", "apns.teamId", "apns.privateKeyPem"] {
        assert!(details.contains(field), "{field} named in {details}");
    }
    let swapped = app
        .put(
            "/api/v1/projects/me/push",
            Some(&p.admin_token),
            json!({"apns": {"teamId": TEAM_ID, "keyId": KEY_ID, "privateKeyPem": RSA_KEY, "topic": TOPIC}}),
        )
        .await;
    assert_eq!(swapped.status, 400, "an RSA key is not an APNs key: {}", swapped.body);

    let r = app
        .put(
            "/api/v1/projects/me/push",
            Some(&p.admin_token),
            json!({"fcm": {"serviceAccountJson": service_account()},
                "apns": {"teamId": TEAM_ID, "keyId": KEY_ID, "privateKeyPem": EC_KEY, "topic": TOPIC}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let shown = app.get("/api/v1/projects/me/push", Some(&p.admin_token)).await;
    assert_eq!(
        shown.body["fcm"],
        json!({"configured": true, "projectId": "example-project", "clientEmail": CLIENT_EMAIL})
    );
    assert_eq!(
        shown.body["apns"],
        json!({"configured": true, "teamId": TEAM_ID, "keyId": KEY_ID, "topic": TOPIC, "sandbox": false})
    );
    assert!(!shown.body.to_string().contains("PRIVATE KEY"));
    let stored: String = sqlx::query_scalar("SELECT fcm_sealed FROM push_credentials WHERE project_id = $1")
        .bind(&p.id)
        .fetch_one(app.svc.db.pool())
        .await
        .unwrap();
    assert!(!stored.contains("PRIVATE KEY"), "sealed at rest");

    // An API key, even with every permission, is not a project admin.
    let by_key = app.request(Method::GET, "/api/v1/projects/me/push", Auth::Key(&p.key, &p.secret), None).await;
    assert_eq!(by_key.status, 403, "{}", by_key.body);

    // `null` removes one part and keeps the other.
    let removed = app.put("/api/v1/projects/me/push", Some(&p.admin_token), json!({"fcm": null})).await;
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.body["fcm"]["configured"], false);
    assert_eq!(removed.body["apns"]["configured"], true);
    let audit = app.get("/api/v1/audit", Some(&p.admin_token)).await;
    assert!(audit.body.to_string().contains("push.update"), "audited: {}", audit.body);
    app.teardown().await;
}

#[tokio::test]
async fn a_disconnected_user_gets_one_fcm_and_one_apns_push_at_once() {
    let (stand, base) = Stand::start().await;
    let app = app_with(&base).await;
    let p = push_project(&app).await;
    let _alice = offline_user(&app, &p, "alice", "fcm-token-alice", "apns-token-alice").await;
    let nid = send(&app, &p).await;

    let fcm = stand.wait("/v1/projects/", 1, Duration::from_secs(5)).await;
    let apns = stand.wait("/3/device/", 1, Duration::from_secs(5)).await;
    assert_eq!(fcm.len(), 1, "one FCM request");
    assert_eq!(apns.len(), 1, "one APNs request");

    // The OAuth2 exchange: a JWT-bearer grant whose assertion the service account signed.
    let token_req = &stand.seen("/token")[0];
    let form: std::collections::HashMap<String, String> = serde_urlencoded_pairs(&token_req.body);
    assert_eq!(form["grant_type"], "urn:ietf:params:oauth:grant-type:jwt-bearer");
    let header = jsonwebtoken::decode_header(&form["assertion"]).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some("kid-1"));
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[format!("{base}/token")]);
    v.set_issuer(&[CLIENT_EMAIL]);
    let claims = jsonwebtoken::decode::<Value>(
        &form["assertion"],
        &DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes()).unwrap(),
        &v,
    )
    .expect("the assertion verifies")
    .claims;
    assert_eq!(claims["scope"], "https://www.googleapis.com/auth/firebase.messaging");
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());

    // FCM v1.
    let f = &fcm[0];
    assert_eq!(f.path, "/v1/projects/example-project/messages:send");
    assert_eq!(f.header("authorization"), "Bearer ya29.test-access");
    let m = &f.json()["message"];
    assert_eq!(m["token"], "fcm-token-alice");
    assert_eq!(m["notification"]["title"], "Large EUR payment");
    assert!(m["notification"]["body"].as_str().unwrap().starts_with("5000"));
    assert_eq!(m["data"]["notificationId"], nid.as_str());
    assert_eq!(m["android"]["priority"], "high");
    // Android names a raw resource without its extension; APNs wants the bundled file's name.
    assert_eq!(m["android"]["notification"]["sound"], "alarm");

    // APNs, over HTTP/2.
    let a = &apns[0];
    assert_eq!(a.version, axum::http::Version::HTTP_2);
    assert_eq!(a.path, "/3/device/apns-token-alice");
    assert_eq!(a.header("apns-topic"), TOPIC);
    assert_eq!(a.header("apns-push-type"), "alert");
    assert_eq!(a.header("apns-priority"), "10", "priority 5 is active");
    assert!(a.header("apns-expiration").parse::<i64>().unwrap() > chrono::Utc::now().timestamp());
    let jwt = a.header("authorization").strip_prefix("bearer ").expect("a bearer provider token");
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    assert_eq!(header.kid.as_deref(), Some(KEY_ID));
    let mut v = Validation::new(Algorithm::ES256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.set_issuer(&[TEAM_ID]);
    let claims = jsonwebtoken::decode::<Value>(jwt, &DecodingKey::from_ec_pem(EC_PUBLIC.as_bytes()).unwrap(), &v)
        .expect("the provider token verifies")
        .claims;
    assert!((claims["iat"].as_i64().unwrap() - chrono::Utc::now().timestamp()).abs() < 60);
    let body = a.json();
    assert_eq!(body["aps"]["alert"]["title"], "Large EUR payment");
    assert_eq!(body["aps"]["sound"], "alarm.wav");
    assert_eq!(body["aps"]["interruption-level"], "active");
    assert_eq!(body["notificationId"], nid.as_str());

    // The notification records the push.
    let mut n = Value::Null;
    for _ in 0..80 {
        n = app.get(&format!("/api/v1/notifications/{nid}"), Some(&p.admin_token)).await.body;
        if n["delivered"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(n["delivered"], true, "{n}");
    assert!(n["deliveredAt"].is_string() && n["lastDeliveryAttempt"].is_string(), "{n}");
    assert!(n["deliveryAttempts"].as_i64().unwrap() >= 2, "the publish and the push: {n}");
    // Nothing more follows.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(stand.seen("/v1/projects/").len() + stand.seen("/3/device/").len(), 2);
    app.teardown().await;
}

#[tokio::test]
async fn a_connected_user_is_pushed_only_when_the_acknowledgement_is_overdue() {
    let (stand, base) = Stand::start().await;
    let app = app_with(&base).await;
    let p = push_project(&app).await;
    let r = app.put("/api/v1/projects/me", Some(&p.admin_token), json!({"ackTimeoutSeconds": 1})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["settings"]["ackTimeoutSeconds"], 1);
    let (bob, mut bob_ws) = listening_user(&app, &p, &app.base, "bob", &["finance"]).await;
    set_tokens(&app, &p, &bob, "fcm-token-bob", "apns-token-bob").await;
    let (carol, mut carol_ws) = listening_user(&app, &p, &app.base, "carol", &["finance"]).await;
    set_tokens(&app, &p, &carol, "fcm-token-carol", "apns-token-carol").await;

    let started = std::time::Instant::now();
    app.send_event(&p, json!({"type": "pending_transaction", "payload": {"amount": 5000, "currency": "EUR"}})).await;
    let n = notification(&mut bob_ws, Duration::from_secs(2)).await;
    notification(&mut carol_ws, Duration::from_secs(2)).await;
    let nid = n["id"].as_str().unwrap();
    // Carol acknowledges at once; Bob never does.
    let carol_token =
        app.request(Method::POST, &format!("/api/v1/users/{carol}/token"), Auth::Key(&p.key, &p.secret), None).await;
    let ack = app
        .post(&format!("/api/v1/notifications/{nid}/acknowledge"), carol_token.body["token"].as_str(), json!({}))
        .await;
    assert_eq!(ack.status, 200, "{}", ack.body);
    assert!(
        stand.seen("/v1/projects/").is_empty() && stand.seen("/3/device/").is_empty(),
        "nothing before the timeout"
    );

    let fcm = stand.wait("/v1/projects/", 1, Duration::from_secs(5)).await;
    let apns = stand.wait("/3/device/", 1, Duration::from_secs(5)).await;
    assert!(started.elapsed() >= Duration::from_secs(1), "not before ackTimeoutSeconds");
    // Only Bob's devices, once each.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let fcm_all = stand.seen("/v1/projects/");
    let apns_all = stand.seen("/3/device/");
    assert_eq!((fcm.len(), fcm_all.len(), apns.len(), apns_all.len()), (1, 1, 1, 1));
    assert_eq!(fcm_all[0].json()["message"]["token"], "fcm-token-bob");
    assert_eq!(apns_all[0].path, "/3/device/apns-token-bob");
    app.teardown().await;
}

#[tokio::test]
async fn dead_tokens_are_removed_from_the_user() {
    let (stand, base) = Stand::start().await;
    let app = app_with(&base).await;
    let p = push_project(&app).await;
    let dave = offline_user(&app, &p, "dave", "dead-fcm", "dead-apns").await;
    send(&app, &p).await;
    stand.wait("/v1/projects/", 1, Duration::from_secs(5)).await;
    stand.wait("/3/device/", 1, Duration::from_secs(5)).await;
    let mut tokens = Value::Null;
    for _ in 0..80 {
        let u = app.request(Method::GET, &format!("/api/v1/users/{dave}"), Auth::Key(&p.key, &p.secret), None).await;
        tokens = u.body["pushTokens"].clone();
        if tokens == json!({}) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(tokens, json!({}), "both dead tokens are gone");
    app.teardown().await;
}

/// `a=b&c=d` form fields, percent-decoded.
fn serde_urlencoded_pairs(body: &[u8]) -> std::collections::HashMap<String, String> {
    let decode = |s: &str| {
        let b = s.replace('+', " ").into_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                out.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

#[tokio::test]
async fn provider_tokens_are_cached_per_project_not_per_named_account() {
    let (stand, base) = Stand::start().await;
    let app = app_with(&base).await;
    let a = push_project(&app).await;
    offline_user(&app, &a, "alice", "fcm-token-a", "apns-token-a").await;
    send(&app, &a).await;
    assert_eq!(stand.wait("/v1/projects/", 1, Duration::from_secs(5)).await.len(), 1);
    // Another project uploads credentials naming the same (public) client email.
    let b = push_project(&app).await;
    offline_user(&app, &b, "bob", "fcm-token-b", "apns-token-b").await;
    send(&app, &b).await;
    assert_eq!(stand.wait("/v1/projects/", 2, Duration::from_secs(5)).await.len(), 2);
    assert_eq!(stand.seen("/token").len(), 2, "the second project got an access token of its own, not the first's");
    app.teardown().await;
}
