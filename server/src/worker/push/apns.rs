//! APNs over HTTP/2 with token-based authentication: an ES256 provider token per signing key,
//! reused for at most 50 minutes (Apple refuses one older than an hour and throttles fresh ones),
//! and one `POST /3/device/{token}` per push. 410, and 400 `BadDeviceToken`, mean the token is
//! dead.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use domain::push::credentials::ApnsCredentials;
use domain::push::delivery::{Due, Outcome};
use domain::push::signing::apns_provider_token;
use domain::push::{Urgency, APNS_PRODUCTION_URL, APNS_SANDBOX_URL};
use serde_json::{json, Value};
use tokio::sync::Mutex;

/// How long a provider token is reused.
const TOKEN_LIFETIME: Duration = Duration::from_secs(50 * 60);

/// How long APNs keeps trying to reach an offline device.
const EXPIRATION: u64 = 24 * 3600;

pub struct Apns {
    /// HTTP/2 only (`http2_prior_knowledge`), as APNs requires.
    client: reqwest::Client,
    /// `APNS_BASE_URL`, overriding Apple's hosts.
    base_url: Option<String>,
    /// Provider tokens by project and signing key (see [`domain::crypto::credential_slot`]).
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl Apns {
    pub fn new(client: reqwest::Client, base_url: Option<String>) -> Self {
        Apns { client, base_url, tokens: Mutex::default() }
    }

    /// Pushes the job's message to one device token.
    pub async fn send(&self, due: &Due, creds: &ApnsCredentials, device: &str) -> Outcome {
        let slot = cache_key(&due.project_id, creds);
        let jwt = match self.provider_token(&slot, creds).await {
            Ok(t) => t,
            Err(e) => return Outcome::Failed(e),
        };
        let base =
            self.base_url.as_deref().unwrap_or(if creds.sandbox { APNS_SANDBOX_URL } else { APNS_PRODUCTION_URL });
        let res = self
            .client
            .post(format!("{base}/3/device/{device}"))
            .header("authorization", format!("bearer {jwt}"))
            .header("apns-topic", &creds.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", due.urgency.apns_priority().to_string())
            .header("apns-expiration", (super::unix_now() as u64 + EXPIRATION).to_string())
            .header("apns-id", uuid_of(&due.notification_id))
            .json(&payload(due))
            .send()
            .await;
        let res = match res {
            Ok(r) => r,
            Err(e) => return Outcome::Retry(super::describe(&e)),
        };
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or_default();
        let reason = body["reason"].as_str().unwrap_or("").to_string();
        if status == 403 && reason.ends_with("ProviderToken") {
            self.tokens.lock().await.remove(&slot);
        }
        classify(status, &reason)
    }

    async fn provider_token(&self, slot: &str, creds: &ApnsCredentials) -> Result<String, String> {
        let mut tokens = self.tokens.lock().await;
        if let Some((t, issued)) = tokens.get(slot) {
            if issued.elapsed() < TOKEN_LIFETIME {
                return Ok(t.clone());
            }
        }
        let t = apns_provider_token(&creds.key, super::unix_now())?;
        tokens.insert(slot.to_string(), (t.clone(), Instant::now()));
        Ok(t)
    }
}

/// Team and key ids are not secret: another project could name them. The slot is the project's
/// and the key's own.
fn cache_key(project_id: &str, c: &ApnsCredentials) -> String {
    domain::crypto::credential_slot(project_id, &[&c.key.team_id, &c.key.key_id, &c.key.private_key_pem])
}

/// `apns-id` must be a UUID; notification ids are.
fn uuid_of(id: &str) -> String {
    id.parse::<uuid::Uuid>().map(|u| u.hyphenated().to_string()).unwrap_or_else(|_| uuid::Uuid::new_v4().to_string())
}

fn payload(due: &Due) -> Value {
    let mut aps = json!({
        "alert": {"title": due.title, "body": due.body},
        "interruption-level": due.urgency.interruption_level(),
    });
    // A passive notification arrives silently unless its rule names a sound.
    match (&due.apns_sound(), due.urgency) {
        (Some(s), _) => aps["sound"] = json!(s),
        (None, Urgency::Passive) => {}
        (None, _) => aps["sound"] = json!("default"),
    }
    let mut body = json!({"aps": aps});
    for (k, v) in &due.data {
        body[k] = json!(v);
    }
    body
}

fn classify(status: u16, reason: &str) -> Outcome {
    let why = format!("APNs answered HTTP {status} {reason}");
    match (status, reason) {
        (200, _) => Outcome::Sent,
        (410, _) | (400, "BadDeviceToken") => Outcome::DeadToken(why),
        (403, "ExpiredProviderToken") | (429, _) | (500..=599, _) => Outcome::Retry(why),
        _ => Outcome::Failed(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_sorted() {
        assert_eq!(classify(200, ""), Outcome::Sent);
        assert!(matches!(classify(410, "Unregistered"), Outcome::DeadToken(_)));
        assert!(matches!(classify(400, "BadDeviceToken"), Outcome::DeadToken(_)));
        assert!(matches!(classify(400, "BadTopic"), Outcome::Failed(_)));
        assert!(matches!(classify(503, "ServiceUnavailable"), Outcome::Retry(_)));
    }
}
