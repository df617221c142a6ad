//! Standard Webhooks signing: secrets are `whsec_<base64 key>`; a delivery is signed over
//! `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256, and during a rotation's overlap with
//! the previous secret too, the signatures space-separated (`v1,<sig> v1,<sig>`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;

use crate::crypto::hmac_sha256;

/// A new signing secret: `whsec_` and 24 random bytes in base64.
pub fn new_secret() -> String {
    let mut key = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

/// The HMAC key inside a secret (the base64 after `whsec_`).
fn key_of(secret: &str) -> Vec<u8> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    STANDARD.decode(b64).unwrap_or_else(|_| b64.as_bytes().to_vec())
}

/// The headers one attempt carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// `webhook-signature`: `v1,<base64>` per secret, space-separated.
    pub signature: String,
    /// `x-webhook-signature`: `sha256=<hex>` of the same HMAC under the current secret, for
    /// receivers written against the seed's single-signature form.
    pub legacy: String,
}

/// Signs `{id}.{timestamp}.{body}` with each secret (current first).
pub fn sign(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> Signed {
    let content = format!("{id}.{timestamp}.{body}");
    let macs: Vec<[u8; 32]> = secrets.iter().map(|s| hmac_sha256(&key_of(s), content.as_bytes())).collect();
    Signed {
        signature: macs.iter().map(|m| format!("v1,{}", STANDARD.encode(m))).collect::<Vec<_>>().join(" "),
        legacy: macs.first().map(|m| format!("sha256={}", hex::encode(m))).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // The example from the Standard Webhooks specification's reference libraries.
        let s = sign(
            &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(s.signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_whsec_and_rotation_signs_twice() {
        let a = new_secret();
        assert!(a.starts_with("whsec_") && STANDARD.decode(&a[6..]).unwrap().len() == 24);
        let b = new_secret();
        let both = sign(&[&b, &a], "msg_1", 1, "{}");
        let parts: Vec<&str> = both.signature.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], sign(&[&a], "msg_1", 1, "{}").signature);
        assert!(both.legacy.starts_with("sha256=") && both.legacy.len() == 7 + 64);
    }
}
