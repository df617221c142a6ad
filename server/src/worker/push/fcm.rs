//! FCM HTTP v1: a service account's signed assertion buys an OAuth2 access token (cached until
//! shortly before it expires), which sends `messages:send` requests. Answers are sorted into
//! sent, dead token (404 `UNREGISTERED`, 400 `INVALID_ARGUMENT` about the token), worth a retry
//! (429, 5xx, 401, no answer) and failed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use domain::push::delivery::{Due, Outcome};
use domain::push::signing::{fcm_assertion, ServiceAccount};
use serde_json::{json, Value};
use tokio::sync::Mutex;

/// An access token is renewed this long before Google says it expires.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

pub struct Fcm {
    client: reqwest::Client,
    base_url: String,
    token_url: String,
    /// Access tokens by project and service account key (see [`domain::crypto::credential_slot`]):
    /// a client email is not secret, another project could name it.
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl Fcm {
    pub fn new(client: reqwest::Client, base_url: &str, token_url: &str) -> Self {
        Fcm { client, base_url: base_url.to_string(), token_url: token_url.to_string(), tokens: Mutex::default() }
    }

    /// Pushes the job's message to one FCM registration token.
    pub async fn send(&self, due: &Due, sa: &ServiceAccount, token: &str) -> Outcome {
        let slot = domain::crypto::credential_slot(&due.project_id, &[&sa.client_email, &sa.private_key]);
        let access = match self.access_token(&slot, sa).await {
            Ok(a) => a,
            Err(o) => return o,
        };
        let url = format!("{}/v1/projects/{}/messages:send", self.base_url, sa.project_id);
        let res = self.client.post(&url).bearer_auth(&access).json(&message(due, token)).send().await;
        let res = match res {
            Ok(r) => r,
            Err(e) => return Outcome::Retry(super::describe(&e)),
        };
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or_default();
        let outcome = classify(status, &body);
        if status == 401 {
            self.tokens.lock().await.remove(&slot);
        }
        outcome
    }

    async fn access_token(&self, slot: &str, sa: &ServiceAccount) -> Result<String, Outcome> {
        if let Some((token, until)) = self.tokens.lock().await.get(slot) {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let assertion = fcm_assertion(sa, &self.token_url, super::unix_now()).map_err(Outcome::Failed)?;
        let res = self
            .client
            .post(&self.token_url)
            .form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())])
            .send()
            .await
            .map_err(|e| Outcome::Retry(format!("token endpoint: {}", super::describe(&e))))?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or_default();
        let Some(token) = body["access_token"].as_str().filter(|_| status.is_success()) else {
            let why = format!(
                "token endpoint answered HTTP {}: {}",
                status.as_u16(),
                body["error"].as_str().unwrap_or("no access_token")
            );
            // A refused grant (bad key, disabled account) will not fix itself by retrying.
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                Outcome::Retry(why)
            } else {
                Outcome::Failed(why)
            });
        };
        let lifetime = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(3600));
        let until = Instant::now() + lifetime.saturating_sub(RENEW_BEFORE);
        self.tokens.lock().await.insert(slot.to_string(), (token.to_string(), until));
        Ok(token.to_string())
    }
}

/// The v1 `messages:send` body.
fn message(due: &Due, token: &str) -> Value {
    let mut android = json!({"priority": due.urgency.android_priority()});
    let mut aps = json!({"interruption-level": due.urgency.interruption_level()});
    if let Some(sound) = &due.sound {
        android["notification"] = json!({"sound": sound});
        aps["sound"] = json!(due.apns_sound());
    }
    json!({"message": {
        "token": token,
        "notification": {"title": due.title, "body": due.body},
        "data": due.data,
        "android": android,
        "apns": {"headers": {"apns-priority": due.urgency.apns_priority().to_string()}, "payload": {"aps": aps}},
    }})
}

/// What an FCM answer means for the job and the token.
fn classify(status: u16, body: &Value) -> Outcome {
    let err = &body["error"];
    let code = err["details"]
        .as_array()
        .and_then(|d| d.iter().find_map(|x| x["errorCode"].as_str()))
        .or_else(|| err["status"].as_str())
        .unwrap_or("")
        .to_string();
    let message = err["message"].as_str().unwrap_or("").to_string();
    let why = format!("FCM answered HTTP {status} {code}: {message}");
    match status {
        200..=299 => Outcome::Sent,
        404 => Outcome::DeadToken(why),
        400 if code == "INVALID_ARGUMENT" && message.to_ascii_lowercase().contains("token") => Outcome::DeadToken(why),
        401 | 429 | 500..=599 => Outcome::Retry(why),
        _ => Outcome::Failed(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_sorted() {
        assert_eq!(classify(200, &json!({"name": "projects/p/messages/1"})), Outcome::Sent);
        let unregistered = json!({"error": {"status": "NOT_FOUND", "message": "Requested entity was not found.",
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}});
        assert!(matches!(classify(404, &unregistered), Outcome::DeadToken(_)));
        let invalid = json!({"error": {"status": "INVALID_ARGUMENT", "message": "The registration token is not a valid FCM registration token"}});
        assert!(matches!(classify(400, &invalid), Outcome::DeadToken(_)));
        let other = json!({"error": {"status": "INVALID_ARGUMENT", "message": "Invalid JSON payload received."}});
        assert!(matches!(classify(400, &other), Outcome::Failed(_)));
        assert!(matches!(classify(503, &Value::Null), Outcome::Retry(_)));
    }
}
