//! One HTTP/1.1 keep-alive connection to the server under test, and request builders.
//!
//! The load generator owns its connections (one per task) instead of going through a pool, so
//! `--concurrency` is exactly the number of sockets the server sees.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// Where requests go: always a loopback address (checked when it is made).
#[derive(Clone, Debug)]
pub struct Target {
    addr: SocketAddr,
    host: HeaderValue,
}

impl Target {
    /// Refuses anything but 127.0.0.1: the benchmark only ever loads a server it started itself.
    pub fn loopback(addr: SocketAddr) -> crate::Result<Self> {
        if addr.ip() != std::net::Ipv4Addr::LOCALHOST {
            return Err(format!("refusing to load {addr}: only 127.0.0.1 targets are allowed").into());
        }
        let host = HeaderValue::from_str(&addr.to_string())?;
        Ok(Target { addr, host })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A request with the Host header set; the bare connection API does not add one.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(HeaderName, HeaderValue)],
        json: Option<Bytes>,
    ) -> Request<Full<Bytes>> {
        let mut builder = Request::builder().method(method).uri(path).header(HOST, self.host.clone());
        for (name, value) in headers {
            builder = builder.header(name, value.clone());
        }
        let body = match json {
            Some(bytes) => {
                builder = builder.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                bytes
            }
            None => Bytes::new(),
        };
        builder.body(Full::new(body)).expect("method, path and headers were valid")
    }
}

/// A response with its body read in full.
pub type Reply = Response<Bytes>;

/// One open keep-alive connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
}

impl Conn {
    pub async fn connect(target: &Target) -> crate::Result<Self> {
        let stream = TcpStream::connect(target.addr()).await?;
        // Small request/response pairs: Nagle would add delay, not throughput.
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        let driver = tokio::spawn(async move {
            // An error here shows up as a failed `send`; nothing more to report.
            let _ = connection.await;
        });
        Ok(Conn { sender, driver })
    }

    /// True once the server (or an error) has closed the connection.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Sends one request and reads the whole response body.
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Reply, hyper::Error> {
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await?.to_bytes();
        Ok(Response::from_parts(parts, bytes))
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// A short label for a transport failure, used as an error bucket.
pub fn failure_label(err: &hyper::Error) -> &'static str {
    if err.is_incomplete_message() || err.is_closed() || err.is_canceled() {
        "connection closed"
    } else if err.is_parse() {
        "bad response"
    } else if err.is_timeout() {
        "timeout"
    } else {
        "transport error"
    }
}

/// The `error.code` of a JSON error body, if there is one.
pub fn error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.pointer("/error/code")?.as_str().map(str::to_string)
}

/// An error bucket for an unexpected status, e.g. `429 rate_limited`.
pub fn status_label(status: hyper::StatusCode, body: &[u8]) -> String {
    match error_code(body) {
        Some(code) => format!("{} {code}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        assert!(Target::loopback("127.0.0.1:3000".parse().unwrap()).is_ok());
        assert!(Target::loopback("10.0.0.1:3000".parse().unwrap()).is_err());
    }

    #[test]
    fn status_labels_name_the_error_code() {
        let body = br#"{"error":{"code":"rate_limited","message":"slow down"}}"#;
        assert_eq!(status_label(hyper::StatusCode::TOO_MANY_REQUESTS, body), "429 rate_limited");
        assert_eq!(status_label(hyper::StatusCode::BAD_GATEWAY, b"<html>"), "502");
    }
}
