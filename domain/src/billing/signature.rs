//! Stripe's webhook signature scheme: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=…]`, each
//! `v1` an HMAC-SHA256 under the endpoint secret of `"{t}.{raw body}"`; any matching `v1` with a
//! timestamp within the tolerance passes (as Stripe's own libraries check it).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Checks `header` for `body` at `now` (unix seconds).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> Result<(), &'static str> {
    let mut timestamp: Option<i64> = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => timestamp = v.parse().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let t = timestamp.ok_or("the Stripe-Signature header has no timestamp")?;
    if signatures.is_empty() {
        return Err("the Stripe-Signature header has no v1 signature");
    }
    if (now - t).abs() > tolerance_secs {
        return Err("the Stripe-Signature timestamp is outside the tolerance");
    }
    // Compared through the MAC, in constant time.
    let ok = signatures.iter().any(|s| {
        hex::decode(s).is_ok_and(|given| {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
            mac.update(format!("{t}.").as_bytes());
            mac.update(body);
            mac.verify_slice(&given).is_ok()
        })
    });
    if ok {
        Ok(())
    } else {
        Err("no signature in Stripe-Signature matches")
    }
}

/// The `v1` signature of `body` at `t`, hex.
pub fn sign_at(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_signatures_pass_and_forgeries_and_stale_ones_fail() {
        let body = br#"{"id":"evt_1"}"#;
        let header = format!("t=1000,v1={},v1=00", sign_at("whsec_x", 1000, body));
        assert!(verify("whsec_x", &header, body, 1100, 300).is_ok());
        assert!(verify("whsec_x", &header, body, 1400, 300).is_err(), "stale");
        assert!(verify("whsec_y", &header, body, 1100, 300).is_err(), "other secret");
        assert!(verify("whsec_x", &header, b"{}", 1100, 300).is_err(), "other body");
        assert!(verify("whsec_x", "v1=ab", body, 1000, 300).is_err(), "no timestamp");
    }
}
