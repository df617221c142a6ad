//! Signed bearer tokens (JWT, HS256 under a key derived from APP_SECRET).

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::crypto::Keys;
use crate::error::{Error, Result};
use crate::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenType {
    PlatformAdmin,
    ProjectAdmin,
    User,
}

/// The token payload of SPEC §6.2, plus the platform admin's role.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(rename = "type")]
    pub token_type: TokenType,
    /// The API key a client backend minted this token with (`POST /users/{id}/token`): the token
    /// stops working when that key is revoked or expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

/// How long a login token lives.
pub const TOKEN_TTL_SECS: i64 = 12 * 3600;

pub fn issue(
    keys: &Keys,
    sub: String,
    project_id: Option<String>,
    roles: Vec<String>,
    token_type: TokenType,
) -> (String, Timestamp) {
    issue_via(keys, sub, project_id, roles, token_type, None)
}

/// [`issue`], naming the API key the token was minted through.
pub fn issue_via(
    keys: &Keys,
    sub: String,
    project_id: Option<String>,
    roles: Vec<String>,
    token_type: TokenType,
    kid: Option<String>,
) -> (String, Timestamp) {
    let now = crate::time::now();
    let exp = now + chrono::Duration::seconds(TOKEN_TTL_SECS);
    let claims = Claims { sub, project_id, roles, token_type, kid, iat: now.timestamp(), exp: exp.timestamp() };
    let token = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&keys.jwt))
        .expect("HS256 encoding of plain claims cannot fail");
    (token, exp)
}

pub fn verify(keys: &Keys, token: &str) -> Result<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 5;
    decode::<Claims>(token, &DecodingKey::from_secret(&keys.jwt), &validation)
        .map(|d| d.claims)
        .map_err(|_| Error::Unauthenticated("invalid or expired token"))
}
