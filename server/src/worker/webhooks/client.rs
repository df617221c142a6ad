//! The HTTP client webhooks go out on: rustls, the configured timeout (`WEBHOOK_TIMEOUT_MS`;
//! own-Pusher triggers use it with `PUSHER_TIMEOUT_MS`), no redirects (a 3xx is a
//! failure), no proxy from the environment, and a resolver that drops every forbidden address
//! (guard::forbidden_ip), so a public name that resolves inward is refused at connect time.
//! IP-literal hosts never reach a resolver; `send` checks those before each attempt.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use domain::webhooks::guard::forbidden_ip;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

pub fn build(allow_private: bool, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("notify-webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .build()
        .expect("a rustls client builds")
}

struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> =
                found.into_iter().filter(|a| allow_private || !forbidden_ip(a.ip())).collect();
            if allowed.is_empty() {
                let e = std::io::Error::other(format!("{} resolves to no public address", name.as_str()));
                return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
