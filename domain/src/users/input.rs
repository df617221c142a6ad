//! A user's fields as clients send them, checked and normalised before anything is written. The
//! same shape serves create, self-registration, update and each item of a sync: a field left out
//! keeps its value (or its default on create), `null` clears it.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{User, ADMIN_ROLE, STATUSES};
use crate::error::{Error, Result, Validator};
use crate::patch::nullable;
use crate::{roles, validate};

const MAX_ROLES: usize = 50;
const MAX_METADATA_BYTES: usize = 16 * 1024;
const MAX_PUSH_TOKEN_CHARS: usize = 4096;
const PUSH_PROVIDERS: [&str; 2] = ["fcm", "apns"];

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFields {
    #[serde(default, deserialize_with = "nullable")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub phone: Option<Option<String>>,
    /// Stored as an argon2id hash, never returned.
    #[serde(default, deserialize_with = "nullable")]
    pub password: Option<Option<String>>,
    /// A user changing their own password with their own token proves they know the one set.
    #[serde(default)]
    pub current_password: Option<String>,
    /// Role names; `null` means none.
    #[serde(default, deserialize_with = "nullable")]
    pub roles: Option<Option<Vec<String>>>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub external_user_id: Option<Option<String>>,
    /// A JSON object; replaces the stored one (`null` empties it).
    #[serde(default, deserialize_with = "nullable")]
    pub metadata: Option<Option<Value>>,
    /// `{fcm?, apns?}`, merged into the stored tokens: a provider left out keeps its token, a
    /// provider set to `null` loses it; `pushTokens: null` clears them all.
    #[serde(default, deserialize_with = "nullable")]
    pub push_tokens: Option<Option<Value>>,
}

/// Checked and normalised fields. Role existence is checked by the caller, against the project.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub password: Option<Option<String>>,
    pub current_password: Option<String>,
    pub roles: Option<Vec<String>>,
    pub status: Option<String>,
    pub external_user_id: Option<Option<String>>,
    pub metadata: Option<Value>,
    pub push_tokens: Option<Option<Map<String, Value>>>,
}

impl UserFields {
    /// Field errors for everything wrong at once; otherwise the normalised values.
    pub(crate) fn check(self) -> Result<Checked> {
        let mut v = Validator::new();
        let email = self.email.map(|e| e.map(|e| e.trim().to_lowercase()));
        if let Some(Some(e)) = &email {
            v.check(validate::email(e), "email", "must be an email address of at most 255 characters");
        }
        let phone = self.phone.map(|p| p.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()));
        if let Some(Some(p)) = &phone {
            v.check(valid_phone(p), "phone", "must be at most 20 of digits, spaces, +, -, . and ()");
        }
        if let Some(Some(p)) = &self.password {
            v.check(validate::password(p), "password", "must be 8 to 256 characters");
        }
        let roles = self.roles.map(|r| dedup(r.unwrap_or_default()));
        if let Some(r) = &roles {
            v.check(r.len() <= MAX_ROLES, "roles", "must hold at most 50 roles").check(
                r.iter().all(|n| roles::valid_name(n)),
                "roles",
                "each role must be 1 to 50 of a-z, 0-9, _ and -",
            );
        }
        if let Some(s) = &self.status {
            v.check(STATUSES.contains(&s.as_str()), "status", "must be one of pending, active, disabled, unverified");
        }
        let external_user_id = self.external_user_id.map(|e| e.map(|e| e.trim().to_string()));
        if let Some(Some(e)) = &external_user_id {
            v.check(validate::name(e, 255), "externalUserId", "must be 1 to 255 characters");
        }
        let metadata = self.metadata.map(|m| m.unwrap_or_else(|| Value::Object(Map::new())));
        if let Some(m) = &metadata {
            v.check(m.is_object(), "metadata", "must be a JSON object").check(
                m.to_string().len() <= MAX_METADATA_BYTES,
                "metadata",
                "must be at most 16 KiB of JSON",
            );
        }
        let push_tokens = match self.push_tokens {
            None => None,
            Some(None) => Some(None),
            Some(Some(Value::Object(m))) => {
                v.check(
                    valid_push_tokens(&m),
                    "pushTokens",
                    "must be {fcm?, apns?} with string tokens of at most 4096 characters",
                );
                Some(Some(m))
            }
            Some(Some(_)) => {
                v.check(false, "pushTokens", "must be an object {fcm?, apns?}");
                None
            }
        };
        v.finish()?;
        Ok(Checked {
            email,
            phone,
            password: self.password,
            current_password: self.current_password,
            roles,
            status: self.status,
            external_user_id,
            metadata,
            push_tokens,
        })
    }
}

fn dedup(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for n in names {
        let n = n.trim().to_string();
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn valid_phone(p: &str) -> bool {
    p.chars().count() <= 20
        && p.chars().any(|c| c.is_ascii_digit())
        && p.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c))
}

fn valid_push_tokens(m: &Map<String, Value>) -> bool {
    m.iter().all(|(k, v)| {
        PUSH_PROVIDERS.contains(&k.as_str())
            && match v {
                Value::Null => true,
                Value::String(s) => !s.trim().is_empty() && s.chars().count() <= MAX_PUSH_TOKEN_CHARS,
                _ => false,
            }
    })
}

impl Checked {
    /// Whether the change grants or keeps the `admin` role.
    pub(crate) fn grants_admin(&self) -> bool {
        self.roles.as_ref().is_some_and(|r| r.iter().any(|n| n == ADMIN_ROLE))
    }

    /// The role names the change sets, if any.
    pub(crate) fn role_names(&self) -> &[String] {
        self.roles.as_deref().unwrap_or(&[])
    }

    /// The columns this change writes, by their names in `users`.
    pub(crate) fn columns(&self) -> Vec<&'static str> {
        let mut c = vec![];
        if self.email.is_some() {
            c.push("email")
        }
        if self.phone.is_some() {
            c.push("phone")
        }
        if self.password.is_some() {
            c.push("password_hash")
        }
        if self.roles.is_some() {
            c.push("roles")
        }
        if self.status.is_some() {
            c.push("status")
        }
        if self.external_user_id.is_some() {
            c.push("external_user_id")
        }
        if self.metadata.is_some() {
            c.push("metadata")
        }
        if self.push_tokens.is_some() {
            c.push("push_tokens")
        }
        c
    }

    /// The fields this change names, as the API spells them (for the audit log).
    pub(crate) fn field_names(&self) -> Vec<&'static str> {
        self.columns()
            .into_iter()
            .map(|c| match c {
                "password_hash" => "password",
                "external_user_id" => "externalUserId",
                "push_tokens" => "pushTokens",
                other => other,
            })
            .collect()
    }

    /// Applies everything but the password (hashed separately) to `u`.
    pub(crate) fn apply(&self, u: &mut User) {
        if let Some(e) = &self.email {
            u.email = e.clone();
        }
        if let Some(p) = &self.phone {
            u.phone = p.clone();
        }
        if let Some(r) = &self.roles {
            u.roles = r.clone();
        }
        if let Some(s) = &self.status {
            u.status = s.clone();
        }
        if let Some(e) = &self.external_user_id {
            u.external_user_id = e.clone();
        }
        if let Some(m) = &self.metadata {
            u.metadata = m.clone();
        }
        match &self.push_tokens {
            None => {}
            Some(None) => u.push_tokens = Value::Object(Map::new()),
            Some(Some(patch)) => {
                let mut tokens = u.push_tokens.as_object().cloned().unwrap_or_default();
                for (k, v) in patch {
                    match v {
                        Value::Null => tokens.remove(k),
                        v => tokens.insert(k.clone(), v.clone()),
                    };
                }
                u.push_tokens = Value::Object(tokens);
            }
        }
    }
}

/// A user is found by email or by the client's own id: one of them must remain.
pub(crate) fn ensure_identifiable(u: &User) -> Result<()> {
    if u.email.is_none() && u.external_user_id.is_none() {
        let mut fields = crate::error::FieldErrors::new();
        fields.insert("email".into(), "a user needs an email or an externalUserId".into());
        fields.insert("externalUserId".into(), "a user needs an email or an externalUserId".into());
        return Err(Error::Validation(fields));
    }
    Ok(())
}

/// argon2id of a new password, if one is set (see `auth::passwords`).
pub(crate) async fn hash_password(svc: &crate::services::Services, password: Option<String>) -> Result<Option<String>> {
    match password {
        None => Ok(None),
        Some(p) => crate::auth::passwords::hash(svc, p).await.map(Some),
    }
}
