//! The client's address behind proxies. `X-Forwarded-For` and `Forwarded` are believed only when
//! the TCP peer is a trusted proxy (`TRUSTED_PROXIES`); then the client is the right-most address
//! in the chain that is not itself a trusted proxy (what came before it, the client could write).

use std::net::IpAddr;

use http::HeaderMap;

use super::settings::AuthSettings;
use crate::audit::RequestMeta;

/// What the audit log records of a request: the client's address ([`resolve`]d from the TCP
/// `peer`, when known) and its `User-Agent`. The REST API and the panels' server functions both
/// build it here.
pub fn request_meta(peer: Option<IpAddr>, headers: &HeaderMap, settings: &AuthSettings) -> RequestMeta {
    RequestMeta {
        ip: peer.map(|p| resolve(p, headers, settings).to_string()),
        user_agent: headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
    }
}

pub fn resolve(peer: IpAddr, headers: &HeaderMap, settings: &AuthSettings) -> IpAddr {
    if !settings.trusts(peer) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    chain.into_iter().rev().find(|ip| !settings.trusts(*ip)).unwrap_or(peer)
}

/// The addresses the proxies recorded, first hop first: `Forwarded: for=…` when sent, else
/// `X-Forwarded-For`. Entries that are not addresses (`unknown`, obfuscated ids) are skipped.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| parse_node(v.trim().trim_matches('"')))?
                })
            })
            .collect();
    }
    values("x-forwarded-for").iter().flat_map(|v| v.split(',')).filter_map(|s| parse_node(s.trim())).collect()
}

/// `203.0.113.7`, `203.0.113.7:4711`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    s.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::settings::IpRange;

    fn settings(trusted: &[&str]) -> AuthSettings {
        AuthSettings {
            trusted_proxies: trusted.iter().map(|t| IpRange::parse(t).unwrap()).collect(),
            ..Default::default()
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_peers() {
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 5.6.7.8")]);
        assert_eq!(resolve(peer, &h, &settings(&[])), peer);
        assert_eq!(resolve(peer, &h, &settings(&["10.0.0.0/8"])), "5.6.7.8".parse::<IpAddr>().unwrap());
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 10.0.0.9")]);
        assert_eq!(resolve(peer, &h, &settings(&["10.0.0.0/8"])), "1.2.3.4".parse::<IpAddr>().unwrap());
        let h = headers(&[("forwarded", "for=192.0.2.60;proto=https, for=\"[2001:db8::1]:4711\"")]);
        assert_eq!(resolve(peer, &h, &settings(&["10.0.0.0/8"])), "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(resolve(peer, &headers(&[]), &settings(&["10.0.0.0/8"])), peer);
    }
}
