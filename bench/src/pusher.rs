//! The Pusher HTTP API as the official server libraries call it: the project's credentials from
//! `GET /api/v1/projects/me/realtime`, and signed `POST /apps/{appId}/events` requests.
//!
//! Signature: hex HMAC-SHA256 under the app secret of
//! `"POST\n/apps/{appId}/events\n" + query` where the query is every parameter but
//! `auth_signature`, sorted by name, `k=v` joined with `&`, values not escaped; `body_md5` is the
//! hex MD5 of the body.

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request};
use md5::{Digest, Md5};
use serde_json::Value;
use sha2::Sha256;

use crate::http::Target;
use crate::setup::{bearer, request_json, string_at};

/// What `GET /api/v1/projects/me/realtime` answers. No `Debug`: it holds the secret.
#[derive(Clone)]
pub struct Credentials {
    pub app_id: String,
    pub key: String,
    pub secret: String,
}

/// Fetches the project's realtime credentials with the owner's (project admin) token.
pub async fn credentials(target: &Target, owner_token: &str) -> crate::Result<Credentials> {
    let (status, body) =
        request_json(target, Method::GET, "/api/v1/projects/me/realtime", &bearer(owner_token)?, None).await?;
    if !status.is_success() {
        // Only the error envelope: a success body would hold the secret.
        return Err(format!(
            "GET /api/v1/projects/me/realtime answered {status}: {}",
            body.get("error").unwrap_or(&Value::Null)
        )
        .into());
    }
    let what = "realtime credentials";
    let app_id = match body.get("appId") {
        // The contract says all digits; accept a number too rather than fail the bench on it.
        Some(Value::Number(n)) => n.to_string(),
        _ => string_at(&body, "/appId", what)?,
    };
    Ok(Credentials { app_id, key: string_at(&body, "/key", what)?, secret: string_at(&body, "/secret", what)? })
}

fn hex_hmac_sha256(secret: &str, msg: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(msg.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The signed query string (without the leading `?`) of a request to `path` with `body`,
/// timestamped `now` (Unix seconds).
pub fn signed_query(creds: &Credentials, method: &str, path: &str, body: &[u8], now: u64) -> String {
    let mut params =
        vec![("auth_key", creds.key.clone()), ("auth_timestamp", now.to_string()), ("auth_version", "1.0".to_string())];
    if !body.is_empty() {
        params.push(("body_md5", hex::encode(Md5::digest(body))));
    }
    params.sort();
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let query = query.join("&");
    let signature = hex_hmac_sha256(&creds.secret, &format!("{method}\n{path}\n{query}"));
    format!("{query}&auth_signature={signature}")
}

/// A trigger body: one event `name` on `channels` with `data` (a string, as the libraries send).
pub fn event_body(name: &str, channels: &[&str], data: &str) -> String {
    serde_json::json!({ "name": name, "channels": channels, "data": data }).to_string()
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A signed `POST /apps/{appId}/events` carrying `body`.
pub fn trigger_request(target: &Target, creds: &Credentials, body: String) -> Request<Full<Bytes>> {
    let path = format!("/apps/{}/events", creds.app_id);
    let query = signed_query(creds, "POST", &path, body.as_bytes(), unix_now());
    let mut req = target.request(Method::POST, &format!("{path}?{query}"), &[], Some(Bytes::from(body)));
    req.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pusher's documented example (the same one the server's own signing tests use).
    #[test]
    fn signs_like_the_pusher_documentation() {
        let creds = Credentials {
            app_id: "3".into(),
            key: "278d425bdf160c739803".into(),
            secret: "7ad3773142a6692b25b8".into(),
        };
        let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        let q = signed_query(&creds, "POST", "/apps/3/events", body, 1353088179);
        assert_eq!(
            q,
            "auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0\
             &body_md5=ec365a775a4cd0599faeb73354201b6f\
             &auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
        );
    }

    #[test]
    fn event_bodies_carry_data_as_a_string() {
        let v: Value = serde_json::from_str(&event_body("bench", &["c"], r#"{"n":1}"#)).unwrap();
        assert_eq!(v["data"], r#"{"n":1}"#);
        assert_eq!(v["channels"][0], "c");
    }
}
