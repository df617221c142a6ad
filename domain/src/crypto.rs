//! Keys derived from APP_SECRET, random credentials, keyed hashes for API secrets and argon2id for
//! passwords. Secrets the platform only checks are hashed here; nothing here logs them.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Sub-keys derived from APP_SECRET, one per purpose, so a key used for one thing never serves
/// another.
#[derive(Clone)]
pub struct Keys {
    pub jwt: [u8; 32],
    api_secret: [u8; 32],
    at_rest: [u8; 32],
}

impl Keys {
    pub fn derive(app_secret: &str) -> Self {
        Keys {
            jwt: derive(app_secret, "jwt-signing-v1"),
            api_secret: derive(app_secret, "api-secret-hash-v1"),
            at_rest: derive(app_secret, "encryption-at-rest-v1"),
        }
    }

    /// The keyed hash kept for an API secret (hex HMAC-SHA256): microseconds to check, useless
    /// without APP_SECRET.
    pub fn hash_api_secret(&self, secret: &str) -> String {
        hex::encode(hmac_sha256(&self.api_secret, secret.as_bytes()))
    }

    /// Encrypts a secret the platform must use later (webhook signing keys, Pusher and push
    /// credentials): XChaCha20-Poly1305 with a random nonce, as `v1.<base64 nonce+ciphertext>`.
    pub fn seal(&self, plaintext: &str) -> String {
        use base64::Engine;
        use chacha20poly1305::aead::{Aead, AeadCore, KeyInit};
        use chacha20poly1305::XChaCha20Poly1305;
        let cipher = XChaCha20Poly1305::new((&self.at_rest).into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut chacha20poly1305::aead::OsRng);
        let mut out = nonce.to_vec();
        out.extend(cipher.encrypt(&nonce, plaintext.as_bytes()).expect("encryption of a short secret cannot fail"));
        format!("v1.{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(out))
    }

    /// Decrypts what [`Keys::seal`] produced; `None` when it was sealed under another APP_SECRET
    /// or altered.
    pub fn open(&self, sealed: &str) -> Option<String> {
        use base64::Engine;
        use chacha20poly1305::aead::{Aead, KeyInit};
        use chacha20poly1305::{XChaCha20Poly1305, XNonce};
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD.decode(sealed.strip_prefix("v1.")?).ok()?;
        if raw.len() < 24 {
            return None;
        }
        let (nonce, ct) = raw.split_at(24);
        let cipher = XChaCha20Poly1305::new((&self.at_rest).into());
        String::from_utf8(cipher.decrypt(XNonce::from_slice(nonce), ct).ok()?).ok()
    }

    /// Constant-time check of an API secret against its stored hash.
    pub fn verify_api_secret(&self, secret: &str, stored_hex: &str) -> bool {
        let Ok(expected) = hex::decode(stored_hex) else { return false };
        let mut mac = HmacSha256::new_from_slice(&self.api_secret).expect("hmac takes any key length");
        mac.update(secret.as_bytes());
        mac.verify_slice(&expected).is_ok()
    }
}

/// Shortest APP_SECRET accepted, in bytes: every key is derived from it.
pub const MIN_APP_SECRET_BYTES: usize = 32;

/// Refuses an APP_SECRET too short to derive keys from, with an error that says what to do.
pub fn check_app_secret(secret: &str) -> crate::error::Result<()> {
    if secret.len() < MIN_APP_SECRET_BYTES {
        return Err(crate::error::Error::Internal(format!(
            "APP_SECRET must be at least {MIN_APP_SECRET_BYTES} bytes (it has {}); generate one with `openssl rand -hex 32`, \
             or leave it unset to have one generated and kept in DATA_DIR",
            secret.len()
        )));
    }
    Ok(())
}

fn derive(secret: &str, purpose: &str) -> [u8; 32] {
    hmac_sha256(secret.as_bytes(), purpose.as_bytes())
}

pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("hmac takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// A cache slot for something derived from a project's credential: the project and a hash of the
/// credential itself, so another project naming the same (public) identifiers never shares it.
pub fn credential_slot(project_id: &str, credential: &[&str]) -> String {
    use sha2::Digest;
    let mut h = Sha256::new();
    for part in credential {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    format!("{project_id}:{}", hex::encode(h.finalize()))
}

/// `n` random bytes from the OS generator, hex encoded.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// argon2id with the crate's default (OWASP) parameters.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters cannot fail")
        .to_string()
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A hash to verify against when the account does not exist, so a login's timing does not tell
/// whether an email is registered.
pub fn dummy_password_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not-a-real-password"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_secret_hash_verifies_only_the_same_secret() {
        let keys = Keys::derive("app-secret");
        let h = keys.hash_api_secret("sk_live_abc");
        assert!(keys.verify_api_secret("sk_live_abc", &h));
        assert!(!keys.verify_api_secret("sk_live_abd", &h));
        assert!(!Keys::derive("other").verify_api_secret("sk_live_abc", &h));
    }

    #[test]
    fn sealed_secrets_open_only_under_the_same_key() {
        let keys = Keys::derive("app-secret");
        let sealed = keys.seal("whsec_abc");
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(keys.open(&sealed).as_deref(), Some("whsec_abc"));
        assert_eq!(Keys::derive("other").open(&sealed), None);
        assert_eq!(keys.open("v1.AAAA"), None);
    }

    #[test]
    fn passwords_round_trip() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
    }
}
