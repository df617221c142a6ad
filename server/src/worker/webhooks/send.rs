//! One delivery attempt: check the target again, sign, POST, and describe what came back.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use domain::webhooks::delivery::{Attempt, Due};
use domain::webhooks::{guard, signing};
use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};

/// How much of a response body the log keeps.
const BODY_LIMIT: usize = 2048;

pub async fn attempt(client: &reqwest::Client, due: &Due, allow_private: bool, timeout: Duration) -> Attempt {
    let started = Instant::now();
    let mut out = send(client, due, allow_private, timeout).await;
    out.duration_ms = started.elapsed().as_millis() as i64;
    if out.success() {
        tracing::debug!(webhook.id = %due.id, project.id = %due.project_id, attempt = due.attempt, "webhook delivered");
    } else {
        tracing::info!(webhook.id = %due.id, project.id = %due.project_id, attempt = due.attempt,
            status = out.response_status, error = out.error.as_deref(), "webhook attempt failed");
    }
    out
}

async fn send(client: &reqwest::Client, due: &Due, allow_private: bool, timeout: Duration) -> Attempt {
    // Hosts are checked again at each attempt: IP literals never reach the guarded resolver.
    if let Err(problem) = guard::check_url(&due.url, allow_private) {
        return Attempt { error: Some(format!("refused: the URL {problem}")), ..Default::default() };
    }
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default();
    let secrets: Vec<&str> = due.secrets.iter().map(String::as_str).collect();
    let signed = signing::sign(&secrets, &due.id, timestamp, &due.body);
    let res = client
        .post(&due.url)
        .header(CONTENT_TYPE, "application/json")
        .header("webhook-id", &due.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", &signed.signature)
        .header("x-webhook-signature", &signed.legacy)
        .body(due.body.clone())
        .send()
        .await;
    let mut resp = match res {
        Ok(r) => r,
        Err(e) => return Attempt { error: Some(describe(&e, timeout)), ..Default::default() },
    };
    let status = resp.status();
    let retry_after = retry_after(resp.headers());
    let mut body = Vec::new();
    let mut error = None;
    while body.len() < BODY_LIMIT {
        match resp.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => {
                error = Some(format!("reading the answer: {}", describe(&e, timeout)));
                break;
            }
        }
    }
    body.truncate(BODY_LIMIT);
    if status.is_redirection() {
        error = Some(format!("answered a redirect (HTTP {}), which is not followed", status.as_u16()));
    }
    Attempt {
        response_status: Some(status.as_u16()),
        response_body: Some(String::from_utf8_lossy(&body).into_owned()),
        error,
        retry_after,
        duration_ms: 0,
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from webhook receivers and ignored).
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The error and its causes, without the URL (it is in the log row already).
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timed out after {} ms", timeout.as_millis());
    }
    let mut parts = vec![];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    let kind = if e.is_connect() { "could not connect" } else { "request failed" };
    match parts.last() {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_string(),
    }
}
