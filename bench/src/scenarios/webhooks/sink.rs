//! The webhook receiver of the `webhooks` scenario: an HTTP/1.1 server on loopback that checks
//! each POST's Standard Webhooks signature, answers 204 (valid) or 400, and keeps the first
//! valid arrival of each `webhook-id` (delivery is at-least-once, so an id may come twice).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// The HMAC key of a `whsec_<base64>` secret.
pub(super) fn secret_key(secret: &str) -> crate::Result<Vec<u8>> {
    let b64 = secret.strip_prefix("whsec_").ok_or("the webhook secret does not start with whsec_")?;
    Ok(STANDARD.decode(b64).map_err(|e| format!("the webhook secret is not base64 after whsec_: {e}"))?)
}

/// The Standard Webhooks check: one of the space-separated `v1,<base64>` signatures is the
/// HMAC-SHA256 of `{id}.{timestamp}.{body}` under `key` (during a rotation there are two).
fn verify(key: &[u8], id: &str, timestamp: &str, body: &[u8], signatures: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    signatures.split(' ').filter_map(|s| s.strip_prefix("v1,")).any(|s| s == expected)
}

/// The webhook receiver's records.
pub(super) struct Sink {
    key: Vec<u8>,
    state: Mutex<SinkState>,
}

#[derive(Default)]
struct SinkState {
    /// The first valid arrival of each `webhook-id`.
    first_valid: HashMap<String, Instant>,
    duplicates: u64,
    invalid: u64,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct SinkCounts {
    /// Distinct `webhook-id`s with a valid signature.
    pub distinct: u64,
    pub duplicates: u64,
    pub invalid: u64,
}

impl Sink {
    pub(super) fn new(key: Vec<u8>) -> Sink {
        Sink { key, state: Mutex::new(SinkState::default()) }
    }

    /// Checks one POST and records it: 204 when the signature verifies, else 400 (and the server
    /// retries later).
    async fn handle(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let arrived = Instant::now();
        let (parts, body) = req.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
        let id = header("webhook-id");
        let valid =
            !id.is_empty() && verify(&self.key, id, header("webhook-timestamp"), &body, header("webhook-signature"));
        self.record(id, valid, arrived);
        let status = if valid { StatusCode::NO_CONTENT } else { StatusCode::BAD_REQUEST };
        let mut reply = Response::new(Full::new(Bytes::new()));
        *reply.status_mut() = status;
        reply
    }

    fn state(&self) -> MutexGuard<'_, SinkState> {
        // Nothing panics while holding it.
        self.state.lock().expect("the sink's lock is never poisoned")
    }

    fn record(&self, id: &str, valid: bool, at: Instant) {
        let mut guard = self.state();
        let state = &mut *guard;
        if !valid {
            state.invalid += 1;
            return;
        }
        match state.first_valid.entry(id.to_string()) {
            Entry::Occupied(_) => state.duplicates += 1,
            Entry::Vacant(slot) => {
                slot.insert(at);
            }
        }
    }

    pub(super) fn counts(&self) -> SinkCounts {
        let state = self.state();
        SinkCounts { distinct: state.first_valid.len() as u64, duplicates: state.duplicates, invalid: state.invalid }
    }

    /// Distinct valid deliveries that first arrived in `[start, end)`.
    pub(super) fn valid_between(&self, start: Instant, end: Instant) -> u64 {
        let state = self.state();
        count_between(state.first_valid.values().copied(), start, end)
    }
}

fn count_between(arrivals: impl Iterator<Item = Instant>, start: Instant, end: Instant) -> u64 {
    arrivals.filter(|t| *t >= start && *t < end).count() as u64
}

/// Serves the sink over HTTP/1.1 keep-alive until aborted (which drops, and so aborts, the
/// connection tasks too).
pub(super) async fn serve(listener: TcpListener, sink: Arc<Sink>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors, most likely: the server retries what it could not send.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let sink = sink.clone();
        let service = service_fn(move |req| {
            let sink = sink.clone();
            async move { Ok::<_, Infallible>(sink.handle(req).await) }
        });
        connections.spawn(async move {
            // A connection the server drops mid-request is its retry to make.
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use hyper::header::{HeaderName, HeaderValue};
    use hyper::Method;

    use super::*;
    use crate::http::{Conn, Target};

    /// `v1,` and the base64 HMAC-SHA256 of `{id}.{ts}.{body}`, computed independently.
    fn sign(key: &[u8], id: &str, ts: &str, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(format!("{id}.{ts}.{body}").as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn verifies_standard_webhooks_signatures() {
        // The Standard Webhooks reference vector (also domain::webhooks::signing's test).
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let (id, ts, body) = ("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", r#"{"test": 2432232314}"#);
        let reference = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
        assert_eq!(sign(&key, id, ts, body), reference);
        assert!(verify(&key, id, ts, body.as_bytes(), reference));

        // During a rotation: the previous secret's signature too, either order.
        let other = sign(b"another key", id, ts, body);
        assert!(verify(&key, id, ts, body.as_bytes(), &format!("{other} {reference}")));

        // Wrong key, tampered body, id or timestamp, a missing `v1,` or no header at all.
        assert!(!verify(&key, id, ts, body.as_bytes(), &other));
        assert!(!verify(&key, id, ts, br#"{"test": 2432232315}"#, reference));
        assert!(!verify(&key, "msg_other", ts, body.as_bytes(), reference));
        assert!(!verify(&key, id, "1614265331", body.as_bytes(), reference));
        assert!(!verify(&key, id, ts, body.as_bytes(), &reference[3..]));
        assert!(!verify(&key, id, ts, body.as_bytes(), ""));

        assert!(secret_key("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(secret_key("whsec_not base64!").is_err());
    }

    #[test]
    fn the_sink_dedupes_and_counts_the_window() {
        let sink = Sink::new(b"k".to_vec());
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        sink.record("msg_1", true, at(5));
        sink.record("msg_2", true, at(15));
        sink.record("msg_1", true, at(16)); // a redelivery: its first arrival counts
        sink.record("msg_3", true, at(20)); // on the window's end: outside
        sink.record("msg_4", false, at(12));
        let c = sink.counts();
        assert_eq!((c.distinct, c.duplicates, c.invalid), (3, 1, 1));
        assert_eq!(sink.valid_between(at(10), at(20)), 1);
        assert_eq!(sink.valid_between(at(0), at(21)), 3);
        assert_eq!(count_between([at(1), at(2)].into_iter(), at(2), at(3)), 1);
    }

    #[tokio::test]
    async fn the_sink_answers_204_to_a_signed_post_and_400_otherwise() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let target = Target::loopback(listener.local_addr().unwrap()).unwrap();
        let sink = Arc::new(Sink::new(b"sink key".to_vec()));
        let server = tokio::spawn(serve(listener, sink.clone()));
        let body = r#"{"event":"notification.delivered"}"#;
        let post = |signature: String| {
            let h = |name: &'static str, v: &str| (HeaderName::from_static(name), HeaderValue::from_str(v).unwrap());
            let headers =
                [h("webhook-id", "msg_1"), h("webhook-timestamp", "1700000000"), h("webhook-signature", &signature)];
            target.request(Method::POST, "/hook", &headers, Some(Bytes::from(body)))
        };
        let mut conn = Conn::connect(&target).await.unwrap();
        let good = sign(b"sink key", "msg_1", "1700000000", body);
        for (signature, status) in [
            (good.clone(), StatusCode::NO_CONTENT),
            (good, StatusCode::NO_CONTENT),
            (sign(b"wrong", "msg_1", "1700000000", body), StatusCode::BAD_REQUEST),
        ] {
            let reply = conn.send(post(signature)).await.unwrap();
            assert_eq!(reply.status(), status);
        }
        let c = sink.counts();
        assert_eq!((c.distinct, c.duplicates, c.invalid), (1, 1, 1));
        server.abort();
    }
}
