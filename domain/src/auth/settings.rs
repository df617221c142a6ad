//! Settings of authentication and abuse limits, read from the environment (README "Configuration").

use std::net::IpAddr;

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// How long the state of a project, a token's user and a key is trusted before it is read
    /// again (`AUTH_STATE_CACHE_SECS`, default 2): a suspension, a disabled admin or a revoked key
    /// applies in other processes within this time.
    pub state_cache_secs: u64,
    /// Peers whose `X-Forwarded-For` / `Forwarded` headers name the client (`TRUSTED_PROXIES`,
    /// comma-separated addresses or CIDR ranges); empty trusts no header.
    pub trusted_proxies: Vec<IpRange>,
    /// When set, `/metrics` answers only `Authorization: Bearer <token>` (`METRICS_TOKEN`).
    pub metrics_token: Option<String>,
    /// Failed sign-ins allowed per account per minute before 429 (`LOGIN_ATTEMPTS_PER_ACCOUNT`).
    pub login_attempts_per_account: u32,
    /// Sign-in attempts allowed per client address per minute before 429 (`LOGIN_ATTEMPTS_PER_ADDRESS`).
    pub login_attempts_per_address: u32,
    /// Self-service sign-ups allowed per client address per hour (`SIGNUPS_PER_ADDRESS_PER_HOUR`).
    pub signups_per_address_per_hour: u32,
    /// Password hashes (argon2id) computed at once, at most (`PASSWORD_HASH_CONCURRENCY`).
    pub password_hash_concurrency: usize,
    /// Lets webhooks target ports other than 80 and 443 (`WEBHOOK_ALLOW_ANY_PORT=true`).
    pub webhook_allow_any_port: bool,
    /// Longest an API request may take before it answers 503 (`REQUEST_TIMEOUT_SECS`, default 30).
    pub request_timeout_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            state_cache_secs: 2,
            trusted_proxies: vec![],
            metrics_token: None,
            login_attempts_per_account: 10,
            login_attempts_per_address: 30,
            signups_per_address_per_hour: 10,
            password_hash_concurrency: 2,
            webhook_allow_any_port: false,
            request_timeout_secs: 30,
        }
    }
}

impl AuthSettings {
    pub fn from_env() -> Result<Self> {
        let d = AuthSettings::default();
        Ok(AuthSettings {
            state_cache_secs: number("AUTH_STATE_CACHE_SECS", d.state_cache_secs)?,
            trusted_proxies: match var("TRUSTED_PROXIES") {
                Some(s) => parse_ranges(&s)?,
                None => d.trusted_proxies,
            },
            metrics_token: var("METRICS_TOKEN"),
            login_attempts_per_account: number("LOGIN_ATTEMPTS_PER_ACCOUNT", d.login_attempts_per_account)?,
            login_attempts_per_address: number("LOGIN_ATTEMPTS_PER_ADDRESS", d.login_attempts_per_address)?,
            signups_per_address_per_hour: number("SIGNUPS_PER_ADDRESS_PER_HOUR", d.signups_per_address_per_hour)?,
            password_hash_concurrency: number("PASSWORD_HASH_CONCURRENCY", d.password_hash_concurrency)?.max(1),
            webhook_allow_any_port: var("WEBHOOK_ALLOW_ANY_PORT")
                .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes")),
            request_timeout_secs: number("REQUEST_TIMEOUT_SECS", d.request_timeout_secs)?.max(1),
        })
    }

    /// Whether `peer` is one of the trusted proxies.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|r| r.contains(peer))
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T> {
    match var(name) {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| Error::Internal(format!("{name} must be a whole number, not {s:?}"))),
    }
}

/// An address range: an address and how many leading bits must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    addr: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// `10.0.0.0/8`, `::1`, `192.168.1.7`.
    pub fn parse(s: &str) -> Option<IpRange> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpRange { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            _ => ip,
        };
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => prefix_eq(u32::from(a).into(), u32::from(b).into(), 32, self.prefix),
            (IpAddr::V6(a), IpAddr::V6(b)) => prefix_eq(u128::from(a), u128::from(b), 128, self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, width: u32, prefix: u8) -> bool {
    let prefix = u32::from(prefix);
    if prefix == 0 {
        return true;
    }
    let shift = width - prefix;
    (a >> shift) == (b >> shift)
}

fn parse_ranges(s: &str) -> Result<Vec<IpRange>> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            IpRange::parse(p)
                .ok_or_else(|| Error::Internal(format!("TRUSTED_PROXIES: {p:?} is not an address or a CIDR range")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_match_their_addresses_only() {
        let r = IpRange::parse("10.1.0.0/16").unwrap();
        assert!(r.contains("10.1.200.3".parse().unwrap()));
        assert!(!r.contains("10.2.0.1".parse().unwrap()));
        assert!(r.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = IpRange::parse("::1").unwrap();
        assert!(one.contains("::1".parse().unwrap()));
        assert!(!one.contains("::2".parse().unwrap()));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(IpRange::parse("10.0.0.0/33").is_none());
        assert!(IpRange::parse("nope").is_none());
    }
}
