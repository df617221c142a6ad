//! Pusher's signatures, as the official client and server libraries compute them: channel auth
//! (`{key}:{hex HMAC-SHA256(secret, "socket_id:channel_name[:channel_data]")}`) and the signed
//! query of the HTTP API (`auth_key`, `auth_timestamp`, `auth_version`, `body_md5`,
//! `auth_signature`). Pure functions; the secret never leaves them.

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;

/// How far a request's `auth_timestamp` may be from the server's clock (Pusher's window).
pub const MAX_CLOCK_SKEW_SECS: i64 = 600;

/// The longest channel name Pusher accepts.
pub const MAX_CHANNEL_NAME: usize = 164;

/// Hex HMAC-SHA256 of `msg` under `secret`.
pub fn hmac_hex(secret: &str, msg: &str) -> String {
    hex::encode(crate::crypto::hmac_sha256(secret.as_bytes(), msg.as_bytes()))
}

/// Constant-time check of a hex signature.
fn verify_hex(secret: &str, msg: &str, sig_hex: &str) -> bool {
    let Ok(sig) = hex::decode(sig_hex.trim()) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac takes any key length");
    mac.update(msg.as_bytes());
    mac.verify_slice(&sig).is_ok()
}

/// `socket_id:channel_name[:channel_data]`, what a channel auth signs.
fn channel_string(socket_id: &str, channel: &str, channel_data: Option<&str>) -> String {
    match channel_data {
        Some(d) => format!("{socket_id}:{channel}:{d}"),
        None => format!("{socket_id}:{channel}"),
    }
}

/// The `auth` field a client sends with `pusher:subscribe`: `{key}:{hex hmac}`.
pub fn sign_channel(key: &str, secret: &str, socket_id: &str, channel: &str, channel_data: Option<&str>) -> String {
    format!("{key}:{}", hmac_hex(secret, &channel_string(socket_id, channel, channel_data)))
}

/// Checks a subscription's `auth` field: it names one of `keys` and is signed with `secret`.
pub fn verify_channel_auth(
    auth: &str,
    keys: &[&str],
    secret: &str,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> bool {
    let Some((key, sig)) = auth.split_once(':') else { return false };
    keys.contains(&key) && verify_hex(secret, &channel_string(socket_id, channel, channel_data), sig)
}

/// `123.456`: what the official libraries accept as a socket id.
pub fn valid_socket_id(s: &str) -> bool {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    s.len() <= 40 && s.split_once('.').is_some_and(|(a, b)| digits(a) && digits(b))
}

/// Letters, digits and `_ - = @ , . ;`, at most 164 characters (Pusher's rule).
pub fn valid_channel_name(s: &str) -> bool {
    (1..=MAX_CHANNEL_NAME).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-=@,.;".contains(&b))
}

/// Hex MD5 of a request body, as `body_md5` carries it.
pub fn body_md5(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// Why a signed HTTP API request is refused. The texts follow Pusher's answers.
#[derive(Debug, PartialEq, Eq)]
pub enum ApiAuthError {
    Missing(&'static str),
    UnknownKey,
    UnsupportedVersion,
    BadTimestamp,
    Stale {
        given: i64,
        now: i64,
    },
    BodyMd5,
    /// Carries the string that should have been signed, which tells a developer what went wrong.
    Signature(String),
}

impl std::fmt::Display for ApiAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiAuthError::Missing(p) => write!(f, "Missing parameter: {p}"),
            ApiAuthError::UnknownKey => write!(f, "Unknown auth_key"),
            ApiAuthError::UnsupportedVersion => write!(f, "Unsupported auth_version: use 1.0"),
            ApiAuthError::BadTimestamp => write!(f, "auth_timestamp must be a Unix time in seconds"),
            ApiAuthError::Stale { given, now } => write!(
                f,
                "Timestamp expired: Given timestamp ({given}) not within {MAX_CLOCK_SKEW_SECS}s of server time ({now})"
            ),
            ApiAuthError::BodyMd5 => write!(f, "body_md5 does not match the body"),
            ApiAuthError::Signature(s) => {
                write!(f, "Invalid signature: you should have sent HmacSHA256Hex({s:?}, your_secret_key)")
            }
        }
    }
}

/// `METHOD\n/path\nk=v&…`: the query sorted by (lower-cased) name, without `auth_signature`, values
/// not escaped.
pub fn api_string_to_sign(method: &str, path: &str, query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, &str)> =
        query.iter().filter(|(k, _)| k != "auth_signature").map(|(k, v)| (k.to_lowercase(), v.as_str())).collect();
    pairs.sort();
    let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}\n{}\n{}", method.to_uppercase(), path, q.join("&"))
}

/// A request to the Pusher HTTP API as it arrived.
pub struct ApiRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The decoded query pairs.
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
}

/// Checks a signed HTTP API request against the app's key(s) and secret at `now` (Unix seconds).
pub fn verify_api_request(req: &ApiRequest<'_>, keys: &[&str], secret: &str, now: i64) -> Result<(), ApiAuthError> {
    let get = |name: &'static str| {
        req.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).ok_or(ApiAuthError::Missing(name))
    };
    if !keys.contains(&get("auth_key")?) {
        return Err(ApiAuthError::UnknownKey);
    }
    let given: i64 = get("auth_timestamp")?.trim().parse().map_err(|_| ApiAuthError::BadTimestamp)?;
    if get("auth_version")? != "1.0" {
        return Err(ApiAuthError::UnsupportedVersion);
    }
    let signature = get("auth_signature")?;
    if (now - given).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(ApiAuthError::Stale { given, now });
    }
    if !req.body.is_empty() && !get("body_md5")?.eq_ignore_ascii_case(&body_md5(req.body)) {
        return Err(ApiAuthError::BodyMd5);
    }
    let to_sign = api_string_to_sign(req.method, req.path, req.query);
    if verify_hex(secret, &to_sign, signature) {
        Ok(())
    } else {
        Err(ApiAuthError::Signature(to_sign))
    }
}

/// Signs an HTTP API request as the official server libraries do: `params` plus the auth
/// parameters, `auth_signature` last. For the platform's own calls to a Pusher-compatible API.
pub fn sign_api_request(
    key: &str,
    secret: &str,
    method: &str,
    path: &str,
    params: &[(String, String)],
    body: &[u8],
    now: i64,
) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = params.to_vec();
    q.push(("auth_key".into(), key.into()));
    q.push(("auth_timestamp".into(), now.to_string()));
    q.push(("auth_version".into(), "1.0".into()));
    if !body.is_empty() {
        q.push(("body_md5".into(), body_md5(body)));
    }
    let sig = hmac_hex(secret, &api_string_to_sign(method, path, &q));
    q.push(("auth_signature".into(), sig));
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "278d425bdf160c739803";
    const SECRET: &str = "7ad3773142a6692b25b8";

    #[test]
    fn channel_auth_matches_pushers_documented_examples() {
        assert_eq!(
            sign_channel(KEY, SECRET, "1234.1234", "private-foobar", None),
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
        );
        let data = r#"{"user_id":10,"user_info":{"name":"Mr. Channels"}}"#;
        let auth = sign_channel(KEY, SECRET, "1234.1234", "presence-foobar", Some(data));
        assert!(verify_channel_auth(&auth, &[KEY], SECRET, "1234.1234", "presence-foobar", Some(data)));
        assert!(!verify_channel_auth(&auth, &[KEY], SECRET, "1234.1234", "presence-foobar", None));
        assert!(!verify_channel_auth(&auth, &["other"], SECRET, "1234.1234", "presence-foobar", Some(data)));
        assert!(!verify_channel_auth("no-colon", &[KEY], SECRET, "1.2", "private-x", None));
        assert!(!verify_channel_auth("k:zz", &["k"], SECRET, "1.2", "private-x", None));
    }

    #[test]
    fn api_signature_matches_pushers_documented_example() {
        let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        assert_eq!(body_md5(body), "ec365a775a4cd0599faeb73354201b6f");
        let q: Vec<(String, String)> = [
            ("auth_key", KEY),
            ("auth_timestamp", "1353088179"),
            ("auth_version", "1.0"),
            ("body_md5", "ec365a775a4cd0599faeb73354201b6f"),
            ("auth_signature", "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let req = ApiRequest { method: "POST", path: "/apps/3/events", query: &q, body };
        assert_eq!(verify_api_request(&req, &[KEY], SECRET, 1353088179 + 5), Ok(()));
        assert!(matches!(verify_api_request(&req, &[KEY], SECRET, 1353088179 + 601), Err(ApiAuthError::Stale { .. })));
        assert_eq!(verify_api_request(&req, &["x"], SECRET, 1353088179), Err(ApiAuthError::UnknownKey));
        let tampered = ApiRequest { body: b"{}", ..req };
        assert_eq!(verify_api_request(&tampered, &[KEY], SECRET, 1353088179), Err(ApiAuthError::BodyMd5));
    }

    #[test]
    fn signed_requests_verify_and_tampering_is_caught() {
        let params = vec![("info".to_string(), "user_count,subscription_count".to_string())];
        let q = sign_api_request("k", "s", "GET", "/apps/1/channels", &params, b"", 1000);
        let req = ApiRequest { method: "GET", path: "/apps/1/channels", query: &q, body: b"" };
        assert_eq!(verify_api_request(&req, &["k"], "s", 1000), Ok(()));
        let other_path = ApiRequest { path: "/apps/2/channels", ..req };
        assert!(matches!(verify_api_request(&other_path, &["k"], "s", 1000), Err(ApiAuthError::Signature(_))));
    }

    #[test]
    fn names_and_socket_ids() {
        assert!(valid_socket_id("123.456"));
        assert!(
            !valid_socket_id("123.") && !valid_socket_id("a.1") && !valid_socket_id("1.2.3") && !valid_socket_id("")
        );
        assert!(valid_channel_name("private-user-0b7e0d3c-1f1e-4f5e-9a54-7f3b7d1f2a11"));
        assert!(valid_channel_name("presence-room_1=@,.;"));
        assert!(!valid_channel_name("") && !valid_channel_name("a b") && !valid_channel_name(&"a".repeat(165)));
    }
}
