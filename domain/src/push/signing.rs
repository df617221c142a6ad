//! The JWTs the push services take: an RS256 assertion a Google service account signs to buy an
//! FCM access token, and the ES256 provider token APNs reads (`kid` = key id, `iss` = team id).
//! Nothing here logs a key or a token.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use super::FCM_SCOPE;

/// The fields of a Google service account JSON key the platform uses.
#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    pub project_id: String,
    pub client_email: String,
    pub private_key: String,
    #[serde(default)]
    pub private_key_id: Option<String>,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .finish()
    }
}

impl ServiceAccount {
    /// Parses the JSON key file and checks that its private key is an RSA PEM.
    pub fn parse(json: &str) -> Result<Self, &'static str> {
        let sa: ServiceAccount = serde_json::from_str(json)
            .map_err(|_| "must be a service account JSON key with project_id, client_email and private_key")?;
        if sa.project_id.trim().is_empty() || sa.client_email.trim().is_empty() {
            return Err("project_id and client_email must not be empty");
        }
        // Signing once proves the key works, not only that the PEM parses.
        fcm_assertion(&sa, super::FCM_TOKEN_URL, 0)
            .map_err(|_| "private_key must be an RSA private key in PEM form")?;
        Ok(sa)
    }
}

/// An APNs token-based signing key (the `.p8` file) and whose it is.
#[derive(Clone)]
pub struct ApnsKey {
    pub team_id: String,
    pub key_id: String,
    pub private_key_pem: String,
}

impl std::fmt::Debug for ApnsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsKey").field("team_id", &self.team_id).field("key_id", &self.key_id).finish()
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

/// The assertion exchanged at `token_url` (grant `urn:ietf:params:oauth:grant-type:jwt-bearer`),
/// valid for an hour from `now` (Unix seconds).
pub fn fcm_assertion(sa: &ServiceAccount, token_url: &str, now: i64) -> Result<String, String> {
    let key =
        EncodingKey::from_rsa_pem(sa.private_key.as_bytes()).map_err(|e| format!("the service account key: {e}"))?;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = sa.private_key_id.clone();
    let claims = AssertionClaims { iss: &sa.client_email, scope: FCM_SCOPE, aud: token_url, iat: now, exp: now + 3600 };
    jsonwebtoken::encode(&header, &claims, &key).map_err(|e| format!("signing the assertion: {e}"))
}

#[derive(Serialize)]
struct ProviderClaims<'a> {
    iss: &'a str,
    iat: i64,
}

/// APNs' provider token, issued at `now` (Unix seconds). Apple refuses one older than an hour
/// and throttles fresh ones issued more often than every 20 minutes, so callers cache it.
pub fn apns_provider_token(key: &ApnsKey, now: i64) -> Result<String, String> {
    let pem = EncodingKey::from_ec_pem(key.private_key_pem.as_bytes()).map_err(|e| format!("the APNs key: {e}"))?;
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.key_id.clone());
    jsonwebtoken::encode(&header, &ProviderClaims { iss: &key.team_id, iat: now }, &pem)
        .map_err(|e| format!("signing the provider token: {e}"))
}

/// Checks that `pem` is an EC P-256 private key that signs, as Apple's `.p8` files are.
pub fn check_apns_key(pem: &str) -> bool {
    let key = ApnsKey { team_id: "T".into(), key_id: "K".into(), private_key_pem: pem.to_string() };
    apns_provider_token(&key, 0).is_ok()
}
