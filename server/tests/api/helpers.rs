//! The test app: the real server on 127.0.0.1:0 with a fresh database, SQLite by default, a new
//! PostgreSQL database when TEST_DATABASE_URL is set, and Redis when TEST_REDIS_URL is set.

use std::sync::Arc;

use domain::config::Settings;
use domain::Services;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Executor;

pub const ADMIN_EMAIL: &str = "root@platform.test";
pub const ADMIN_PASSWORD: &str = "root-password-1";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub svc: Arc<Services>,
    pub admin_token: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
    server: tokio::task::JoinHandle<()>,
}

/// A project made through the API, with its first key pair and its owner's token.
pub struct TestProject {
    pub id: String,
    pub slug: String,
    pub key: String,
    pub secret: String,
    pub admin_token: String,
}

/// An answer: status and JSON body (`Null` when the body is not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub fn uses_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").map(|u| u.starts_with("postgres")).unwrap_or(false)
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_inner(tweak, true).await
    }

    /// An app whose queued events stay queued: no worker consumes them.
    pub async fn spawn_without_worker(tweak: impl FnOnce(&mut Settings)) -> TestApp {
        Self::spawn_inner(tweak, false).await
    }

    async fn spawn_inner(tweak: impl FnOnce(&mut Settings), worker: bool) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pg) = match std::env::var("TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) {
            Some(admin_url) => {
                let name = format!("t_{}", uuid::Uuid::new_v4().simple());
                sqlx::any::install_default_drivers();
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await.expect("postgres");
                conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create database");
                let (base, _) = admin_url.rsplit_once('/').expect("database url has a path");
                (format!("{base}/{name}"), Some((admin_url, name)))
            }
            None => (format!("sqlite://{}/test.db", dir.path().display()), None),
        };
        // Bound first: sound URLs start with the address the tests reach the app at.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut settings = Settings {
            database_url,
            redis_url: std::env::var("TEST_REDIS_URL").ok().filter(|s| !s.is_empty()),
            app_secret: format!("test-secret-{}", uuid::Uuid::new_v4()),
            data_dir: dir.path().to_path_buf(),
            bootstrap_admin: Some((ADMIN_EMAIL.into(), ADMIN_PASSWORD.into())),
            api_key_cache_secs: 10,
            stream_claim_idle: std::time::Duration::from_secs(30),
            // Test apps share one Redis; each reads only its own projects' streams.
            redis_namespace: format!("test-{}:", uuid::Uuid::new_v4().simple()),
            // Fast retries: three attempts, a second apart.
            webhook_retry_schedule: vec![0, 1, 1],
            webhook_allow_private_targets: false,
            // Mail stays in the outbox unless a test points this at its SMTP stub.
            smtp_url: None,
            mail_from: "Notify <no-reply@platform.test>".into(),
            // Nothing leaves the machine: tests that push point these at local stand-ins.
            fcm_base_url: "http://127.0.0.1:9".into(),
            fcm_token_url: "http://127.0.0.1:9/token".into(),
            apns_base_url: Some("http://127.0.0.1:9".into()),
            // Rules run in sandbox processes of the server binary (the test binary is not one).
            rule_limits: domain::rules::sandbox::Limits {
                // TEST_SANDBOX_EXE: another build of the server binary to use instead.
                exe: Some(
                    std::env::var("TEST_SANDBOX_EXE").unwrap_or_else(|_| env!("CARGO_BIN_EXE_server").into()).into(),
                ),
                ..Default::default()
            },
            jobs: domain::config::JobSettings::default(),
            // Test stand-ins listen on random local ports.
            auth: domain::auth::settings::AuthSettings { webhook_allow_any_port: true, ..Default::default() },
            usage: domain::config::UsageSettings { flush_interval: std::time::Duration::from_millis(100) },
            // Billing is off unless a test points it at its Stripe stand-in.
            billing: domain::config::BillingSettings {
                stripe_secret_key: None,
                stripe_webhook_secret: None,
                price_starter: None,
                price_professional: None,
                price_overage: None,
                api_base: "http://127.0.0.1:9".into(),
                grace: std::time::Duration::from_secs(7 * 86_400),
                sweep_interval: std::time::Duration::from_secs(60),
                return_url: "http://127.0.0.1:9/billing".into(),
                webhook_tolerance_secs: 300,
            },
            public_url: format!("http://{addr}"),
            // Sounds in the test's own folder unless a test points this at its object store.
            storage_url: None,
            audit_retention_days: 365,
            webhook_source_ips: vec![],
        };
        tweak(&mut settings);
        let svc = Services::start(settings).await.expect("services start");
        let options = leptos::config::LeptosOptions::builder().output_name("notify").site_addr(addr).build();
        let hub = server::realtime::Hub::connect(svc.settings.redis_url.as_deref()).await.expect("realtime hub");
        if worker {
            server::worker::spawn(svc.clone(), hub.clone());
        }
        let router = server::startup::app(svc.clone(), hub.clone(), options);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        let mut app = TestApp {
            base: format!("http://{addr}"),
            // A user agent, as every real client sends (the audit log keeps it).
            client: reqwest::Client::builder().user_agent("notify-tests").build().expect("client"),
            svc,
            admin_token: String::new(),
            _dir: dir,
            pg,
            server,
        };
        if app.svc.settings.bootstrap_admin.is_none() {
            return app;
        }
        let r = app
            .post("/api/v1/platform/auth/login", None, json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .await;
        assert_eq!(r.status, 200, "bootstrap admin signs in: {}", r.body);
        app.admin_token = r.body["token"].as_str().expect("token").to_string();
        app
    }

    /// Another server process on the same database (and Redis): its own services, hub, worker
    /// and listener, as a second node of a cluster would have.
    pub async fn sibling(&self, worker: bool, tweak: impl FnOnce(&mut Settings)) -> Sibling {
        let mut settings = self.svc.settings.clone();
        settings.bootstrap_admin = None;
        tweak(&mut settings);
        let svc = Services::start(settings).await.expect("sibling services start");
        let hub = server::realtime::Hub::connect(svc.settings.redis_url.as_deref()).await.expect("realtime hub");
        if worker {
            server::worker::spawn(svc.clone(), hub.clone());
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let options = leptos::config::LeptosOptions::builder().output_name("notify").site_addr(addr).build();
        let router = server::startup::app(svc.clone(), hub, options);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await;
        });
        Sibling { base: format!("http://{addr}"), svc, server }
    }

    /// Stops the server and drops a PostgreSQL test database.
    pub async fn teardown(self) {
        self.server.abort();
        self.svc.db.close().await;
        if let Some((admin_url, name)) = self.pg {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await.expect("postgres");
            conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.expect("drop database");
        }
    }

    pub async fn request(&self, method: Method, path: &str, auth: Auth<'_>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        req = match auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Key(k, s) => req.header("X-API-Key", k).header("X-API-Secret", s),
        };
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), headers }
    }

    pub async fn get(&self, path: &str, auth: Option<&str>) -> Reply {
        self.request(Method::GET, path, Auth::from(auth), None).await
    }

    pub async fn post(&self, path: &str, auth: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, Auth::from(auth), Some(body)).await
    }

    pub async fn put(&self, path: &str, auth: Option<&str>, body: Value) -> Reply {
        self.request(Method::PUT, path, Auth::from(auth), Some(body)).await
    }

    pub async fn delete(&self, path: &str, auth: Option<&str>) -> Reply {
        self.request(Method::DELETE, path, Auth::from(auth), None).await
    }

    /// Creates a project with an owner through the platform API and signs the owner in. It is on
    /// the `enterprise` plan (no quotas, no rate limit, every feature), so tests of other areas
    /// meet no limits; quota tests pick their plan with [`TestApp::project_on`].
    pub async fn project(&self, name: &str) -> TestProject {
        self.project_on(name, "enterprise").await
    }

    /// [`TestApp::project`] on `plan`.
    pub async fn project_on(&self, name: &str, plan: &str) -> TestProject {
        let owner = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
        let r = self
            .post(
                "/api/v1/platform/projects",
                Some(&self.admin_token),
                json!({"name": name, "plan": plan, "ownerEmail": owner, "ownerPassword": "owner-password"}),
            )
            .await;
        assert_eq!(r.status, 201, "project created: {}", r.body);
        let slug = r.body["project"]["slug"].as_str().unwrap().to_string();
        let login = self
            .post("/api/v1/auth/login", None, json!({"project": slug, "email": owner, "password": "owner-password"}))
            .await;
        assert_eq!(login.status, 200, "owner signs in: {}", login.body);
        TestProject {
            id: r.body["project"]["id"].as_str().unwrap().to_string(),
            slug,
            key: r.body["apiKey"]["key"].as_str().unwrap().to_string(),
            secret: r.body["apiKey"]["secret"].as_str().unwrap().to_string(),
            admin_token: login.body["token"].as_str().unwrap().to_string(),
        }
    }

    /// Uploads a sound as the panel's form does: `file` (named `file_name`) and, when given,
    /// `name`.
    pub async fn upload_sound(&self, token: &str, name: Option<&str>, file_name: &str, bytes: Vec<u8>) -> Reply {
        let mut form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()));
        if let Some(name) = name {
            form = form.text("name", name.to_string());
        }
        let res = self
            .client
            .post(format!("{}/api/v1/sounds", self.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), headers }
    }

    /// Sends an event with a project's key.
    pub async fn send_event(&self, p: &TestProject, body: Value) -> Reply {
        self.request(Method::POST, "/api/v1/events", Auth::Key(&p.key, &p.secret), Some(body)).await
    }
}

/// A mono 16-bit PCM wav of `ms` milliseconds of a 440 Hz tone at `rate` Hz.
pub fn wav(ms: u32, rate: u32) -> Vec<u8> {
    let samples = (rate as u64 * ms as u64 / 1000) as u32;
    let data_len = samples * 2;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        let v = ((i as f64 * 440.0 * std::f64::consts::TAU / rate as f64).sin() * 8000.0) as i16;
        b.extend_from_slice(&v.to_le_bytes());
    }
    b
}

/// A second node started by [`TestApp::sibling`].
pub struct Sibling {
    pub base: String,
    pub svc: Arc<Services>,
    server: tokio::task::JoinHandle<()>,
}

impl Sibling {
    pub async fn stop(self) {
        self.server.abort();
        self.svc.db.close().await;
    }
}

#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    Key(&'a str, &'a str),
}

impl<'a> From<Option<&'a str>> for Auth<'a> {
    fn from(t: Option<&'a str>) -> Self {
        t.map(Auth::Bearer).unwrap_or(Auth::None)
    }
}
