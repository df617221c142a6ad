//! Fixture set-up through the public API: log in as the bootstrap platform admin and create a
//! project whose first key pair the scenarios send with.

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use crate::http::{Conn, Target};

/// What the scenarios need to talk to the platform as one tenant.
/// No `Debug`: it holds a secret and a token.
#[derive(Clone)]
pub struct Fixture {
    /// Bearer token of the platform admin, for scenarios that set up more (rules, users).
    #[allow(dead_code)] // for the scenarios still to come
    pub admin_token: String,
    pub project_id: String,
    /// `pk_…`: names the project (also to the realtime socket).
    pub api_key: String,
    /// `sk_…`: shown once at creation.
    pub api_secret: String,
}

impl Fixture {
    /// The two headers of server-to-server calls.
    pub fn key_headers(&self) -> crate::Result<Vec<(HeaderName, HeaderValue)>> {
        Ok(vec![
            (
                HeaderName::from_static("x-api-key"),
                HeaderValue::from_str(&self.api_key)?,
            ),
            (
                HeaderName::from_static("x-api-secret"),
                HeaderValue::from_str(&self.api_secret)?,
            ),
        ])
    }
}

/// Logs in and creates a fresh project on the `enterprise` plan, so monthly event quotas do not
/// turn the measurement into a count of 429s.
pub async fn create_fixture(
    target: &Target,
    email: &str,
    password: &str,
) -> crate::Result<Fixture> {
    let mut conn = Conn::connect(target).await?;

    let login = json!({ "email": email, "password": password });
    let (status, body) = call(
        &mut conn,
        target,
        "/api/v1/platform/auth/login",
        &[],
        &login,
    )
    .await?;
    expect(status, &[StatusCode::OK], "platform login", &body)?;
    let admin_token = string_at(&body, "/token", "platform login")?;

    let bearer = HeaderValue::from_str(&format!("Bearer {admin_token}"))?;
    let auth = [(AUTHORIZATION, bearer)];
    let name = format!("bench-{}", crate::random_token(8).to_lowercase());
    let project = json!({ "name": name, "plan": "enterprise" });
    let (status, body) = call(
        &mut conn,
        target,
        "/api/v1/platform/projects",
        &auth,
        &project,
    )
    .await?;
    expect(
        status,
        &[StatusCode::CREATED, StatusCode::OK],
        "create project",
        &body,
    )?;
    let project_id = string_at(&body, "/project/id", "create project")?;
    let api_key = string_at(&body, "/apiKey/key", "create project")?;
    let api_secret = string_at(&body, "/apiKey/secret", "create project")?;

    if let Some(plan) = body.pointer("/project/plan").and_then(Value::as_str) {
        if plan != "enterprise" {
            eprintln!(
                "warning: the bench project is on the `{plan}` plan; its quotas may show up as \
                 429 errors"
            );
        }
    }
    Ok(Fixture {
        admin_token,
        project_id,
        api_key,
        api_secret,
    })
}

async fn call(
    conn: &mut Conn,
    target: &Target,
    path: &str,
    headers: &[(HeaderName, HeaderValue)],
    body: &Value,
) -> crate::Result<(StatusCode, Value)> {
    let req = target.request(
        Method::POST,
        path,
        headers,
        Some(Bytes::from(body.to_string())),
    );
    let reply = conn.send(req).await?;
    let json = serde_json::from_slice(reply.body()).unwrap_or(Value::Null);
    Ok((reply.status(), json))
}

fn expect(status: StatusCode, ok: &[StatusCode], what: &str, body: &Value) -> crate::Result<()> {
    if ok.contains(&status) {
        Ok(())
    } else {
        Err(format!("{what}: expected {ok:?}, got {status}: {body}").into())
    }
}

fn string_at(body: &Value, pointer: &str, what: &str) -> crate::Result<String> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| {
            // Name the fields only: the body may hold a secret.
            let fields: Vec<&String> = body
                .as_object()
                .map(|o| o.keys().collect())
                .unwrap_or_default();
            format!("{what}: no string at {pointer} (top-level fields: {fields:?})").into()
        })
}
