//! Fixture set-up through the public API: log in as the bootstrap platform admin, create a
//! project (with an owner, who holds the project's `admin` role) whose first key pair the
//! scenarios send with, and sign the owner in. Also the small JSON calls scenarios use to add
//! their own fixtures (roles, users, rules, channel auth).

use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderName, HeaderValue, AUTHORIZATION};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

use crate::http::{Conn, Target};
use crate::ws::{self, Ws};

/// What the scenarios need to talk to the platform as one tenant.
/// No `Debug`: it holds a secret and a token.
#[derive(Clone)]
pub struct Fixture {
    /// Bearer token of the platform admin.
    #[allow(dead_code)] // kept for scenarios that manage projects
    pub admin_token: String,
    pub project_id: String,
    /// Bearer token of the project's owner (a project admin): `/api/v1/projects/me/*`. An `Err`
    /// says why there is none; only the scenarios that need it fail then.
    pub owner_token: std::result::Result<String, String>,
    /// `pk_…`: names the project (also to the realtime socket).
    pub api_key: String,
    /// `sk_…`: shown once at creation.
    pub api_secret: String,
}

impl Fixture {
    /// The two headers of server-to-server calls.
    pub fn key_headers(&self) -> crate::Result<Vec<(HeaderName, HeaderValue)>> {
        Ok(vec![
            (HeaderName::from_static("x-api-key"), HeaderValue::from_str(&self.api_key)?),
            (HeaderName::from_static("x-api-secret"), HeaderValue::from_str(&self.api_secret)?),
        ])
    }
}

/// Logs in and creates a fresh project on the `enterprise` plan, so monthly event quotas do not
/// turn the measurement into a count of 429s.
pub async fn create_fixture(target: &Target, email: &str, password: &str) -> crate::Result<Fixture> {
    let mut conn = Conn::connect(target).await?;

    let login = json!({ "email": email, "password": password });
    let (status, body) = call(&mut conn, target, "/api/v1/platform/auth/login", &[], &login).await?;
    expect(status, &[StatusCode::OK], "platform login", &body)?;
    let admin_token = string_at(&body, "/token", "platform login")?;

    let bearer = HeaderValue::from_str(&format!("Bearer {admin_token}"))?;
    let auth = [(AUTHORIZATION, bearer)];
    let name = format!("bench-{}", crate::random_token(8).to_lowercase());
    let owner_email = format!("{name}-owner@example.com");
    let owner_password = format!("{}Aa1!", crate::random_token(24));
    let project = json!({
        "name": name,
        "plan": "enterprise",
        "ownerEmail": owner_email,
        "ownerPassword": owner_password,
    });
    let (status, body) = call(&mut conn, target, "/api/v1/platform/projects", &auth, &project).await?;
    expect(status, &[StatusCode::CREATED, StatusCode::OK], "create project", &body)?;
    let project_id = string_at(&body, "/project/id", "create project")?;
    let api_key = string_at(&body, "/apiKey/key", "create project")?;
    let api_secret = string_at(&body, "/apiKey/secret", "create project")?;

    let owner_token = match string_at(&body, "/project/slug", "create project") {
        Ok(slug) => {
            let login = json!({ "project": slug, "email": owner_email, "password": owner_password });
            let (status, reply) = call(&mut conn, target, "/api/v1/auth/login", &[], &login).await?;
            expect(status, &[StatusCode::OK], "owner login", &reply)
                .and_then(|()| string_at(&reply, "/token", "owner login"))
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = &owner_token {
        eprintln!("warning: no project admin token ({e}); the realtime API scenarios will fail");
    }

    if let Some(plan) = body.pointer("/project/plan").and_then(Value::as_str) {
        if plan != "enterprise" {
            eprintln!(
                "warning: the bench project is on the `{plan}` plan; its quotas may show up as \
                 429 errors"
            );
        }
    }
    Ok(Fixture { admin_token, project_id, owner_token, api_key, api_secret })
}

/// One JSON request on a fresh connection: the status and the parsed body (`Null` when the body
/// is not JSON). For set-up calls, not for load.
pub async fn request_json(
    target: &Target,
    method: Method,
    path: &str,
    headers: &[(HeaderName, HeaderValue)],
    body: Option<&Value>,
) -> crate::Result<(StatusCode, Value)> {
    let mut conn = Conn::connect(target).await?;
    let req = target.request(method, path, headers, body.map(|b| Bytes::from(b.to_string())));
    let reply = tokio::time::timeout(std::time::Duration::from_secs(30), conn.send(req))
        .await
        .map_err(|_| format!("{path}: no answer within 30 s"))??;
    let json = serde_json::from_slice(reply.body()).unwrap_or(Value::Null);
    Ok((reply.status(), json))
}

/// Sends a ready request on a fresh connection: the status and the raw body.
pub async fn send_raw(
    target: &Target,
    req: hyper::Request<http_body_util::Full<Bytes>>,
) -> crate::Result<(StatusCode, Bytes)> {
    let mut conn = Conn::connect(target).await?;
    let reply = tokio::time::timeout(std::time::Duration::from_secs(30), conn.send(req))
        .await
        .map_err(|_| "no answer within 30 s")??;
    Ok((reply.status(), reply.body().clone()))
}

/// The start of a (text) body, for error messages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    text.chars().take(300).collect()
}

/// `Authorization: Bearer …`.
pub fn bearer(token: &str) -> crate::Result<Vec<(HeaderName, HeaderValue)>> {
    Ok(vec![(AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}"))?)])
}

/// A POST that must answer one of `ok`; answers the body.
pub async fn post_expect(
    target: &Target,
    path: &str,
    headers: &[(HeaderName, HeaderValue)],
    body: &Value,
    ok: &[StatusCode],
    what: &str,
) -> crate::Result<Value> {
    let (status, reply) = request_json(target, Method::POST, path, headers, Some(body)).await?;
    expect(status, ok, what, &reply)?;
    Ok(reply)
}

async fn call(
    conn: &mut Conn,
    target: &Target,
    path: &str,
    headers: &[(HeaderName, HeaderValue)],
    body: &Value,
) -> crate::Result<(StatusCode, Value)> {
    let req = target.request(Method::POST, path, headers, Some(Bytes::from(body.to_string())));
    let reply = conn.send(req).await?;
    let json = serde_json::from_slice(reply.body()).unwrap_or(Value::Null);
    Ok((reply.status(), json))
}

pub fn expect(status: StatusCode, ok: &[StatusCode], what: &str, body: &Value) -> crate::Result<()> {
    if ok.contains(&status) {
        Ok(())
    } else {
        Err(format!("{what}: expected {ok:?}, got {status}: {body}").into())
    }
}

pub fn string_at(body: &Value, pointer: &str, what: &str) -> crate::Result<String> {
    body.pointer(pointer).and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
        // Name the fields only: the body may hold a secret.
        let fields: Vec<&String> = body.as_object().map(|o| o.keys().collect()).unwrap_or_default();
        format!("{what}: no string at {pointer} (top-level fields: {fields:?})").into()
    })
}

/// Creates `role` (if missing), an end user holding it and a WebSocket subscribed to that user's
/// `private-user-{id}` channel (authorised with the user's token); answers the socket and the
/// channel. `tag` makes the user's email unique to this run.
pub async fn listening_user(
    target: &Target,
    api_key: &str,
    key: &[(HeaderName, HeaderValue)],
    role: &str,
    tag: &str,
    timeout: Duration,
) -> crate::Result<(Ws, String)> {
    let created = [StatusCode::CREATED, StatusCode::OK];
    // The role may exist already (another run against the same database): that is fine.
    let (status, body) =
        request_json(target, Method::POST, "/api/v1/roles", key, Some(&json!({ "name": role }))).await?;
    if !(status.is_success() || status == StatusCode::CONFLICT) {
        return Err(format!("create role {role}: {status}: {body}").into());
    }
    let user = json!({
        "email": format!("bench-{role}-{tag}@example.com"),
        "externalUserId": format!("bench-{role}-{tag}"),
        "roles": [role],
    });
    let user = post_expect(target, "/api/v1/users", key, &user, &created, "create user").await?;
    let user_id = string_at(&user, "/id", "create user")?;
    let token_path = format!("/api/v1/users/{user_id}/token");
    let (status, body) = request_json(target, Method::POST, &token_path, key, None).await?;
    // Only the error of the answer goes into a message: a success holds the token.
    expect(status, &created, "user token", &Value::Null)
        .map_err(|e| format!("{e} ({})", body.get("error").unwrap_or(&Value::Null)))?;
    let token = string_at(&body, "/token", "user token")?;

    let channel = format!("private-user-{user_id}");
    let (mut socket, socket_id) = ws::connect(target, api_key, None, timeout).await?;
    let auth = post_expect(
        target,
        "/api/v1/realtime/auth",
        &bearer(&token)?,
        &json!({ "socket_id": socket_id, "channel_name": channel }),
        &[StatusCode::OK],
        "channel auth",
    )
    .await?;
    let auth = string_at(&auth, "/auth", "channel auth")?;
    ws::subscribe(&mut socket, &channel, Some(&auth), timeout).await?;
    Ok((socket, channel))
}
