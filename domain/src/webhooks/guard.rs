//! The SSRF guard: which addresses and hosts a webhook may never reach. Saving an endpoint checks
//! its URL ([`check_url`]); delivery checks IP-literal hosts again and filters every address the
//! resolver answers ([`forbidden_ip`]), so a name that later resolves inward is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Host names that answer with cloud instance metadata (credentials) on the major clouds.
const METADATA_HOSTS: [&str; 6] = [
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "metadata.azure.com",
    "instance-data",
    "instance-data.ec2.internal",
];

/// An address a webhook must not reach: loopback, private, link-local (cloud metadata included),
/// CGNAT, multicast, unspecified, broadcast, documentation and benchmarking ranges, IPv6 unique
/// local, and every IPv6 form that embeds such an IPv4 address.
pub fn forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0.0/24
        || (a == 198 && (18..20).contains(&b)) // benchmarking 198.18.0.0/15
        || a >= 240 // reserved 240.0.0.0/4
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || s[0] == 0x3fff && s[1] < 0x1000 // documentation 3fff::/20
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard 100::/64
        || (s[0] == 0x2001 && s[1] == 0) // Teredo 2001::/32 (embeds an IPv4 relay and client)
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1) // local-use NAT64 64:ff9b:1::/48
}

/// Webhooks go to the web's ports, 80 and 443, unless `allow_any_port`
/// (`WEBHOOK_ALLOW_ANY_PORT`): other ports are where internal services listen.
pub fn check_port(url: &url::Url, allow_any_port: bool) -> Result<(), &'static str> {
    match url.port_or_known_default() {
        Some(80 | 443) => Ok(()),
        _ if allow_any_port => Ok(()),
        _ => Err("must use port 80 or 443"),
    }
}

/// The IPv4 address inside IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] && !(s[6] == 0 && s[7] <= 1) {
        return Some(tail()); // IPv4-compatible; :: and ::1 are handled as IPv6
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail());
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8));
    }
    None
}

/// A host name (not an address) that must never be a webhook target.
pub fn forbidden_host_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host.ends_with(".internal")
        || METADATA_HOSTS.contains(&host.as_str())
}

/// Checks a webhook URL: http(s) with a host; unless `allow_private`, the host is neither a
/// forbidden name nor a forbidden IP literal. Answers the problem, for a field error.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, &'static str> {
    let url = url::Url::parse(raw).map_err(|_| "must be an absolute http(s) URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http(s) URL");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials");
    }
    let host = url.host().ok_or("must name a host")?;
    if allow_private {
        return Ok(url);
    }
    let refused = match host {
        url::Host::Ipv4(ip) => forbidden_ip(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => forbidden_ip(IpAddr::V6(ip)),
        url::Host::Domain(name) => forbidden_host_name(name),
    };
    if refused {
        return Err("must reach a public address (not loopback, private, link-local or metadata hosts)");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn inward_addresses_are_forbidden() {
        for a in [
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "192.168.255.255",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.0.0.8",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:192.168.1.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2002:a00:1::",
            "fec0::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "64:ff9b:1::a00:1",
            "64:ff9b:1:ffff::1",
        ] {
            assert!(forbidden_ip(ip(a)), "{a} must be forbidden");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "11.0.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert!(!forbidden_ip(ip(a)), "{a} must be allowed");
        }
    }

    #[test]
    fn urls_are_checked_by_scheme_and_host() {
        for u in [
            "http://localhost/hook",
            "http://LOCALHOST./x",
            "http://api.localhost/x",
            "http://127.0.0.1:8080/",
            "http://10.1.2.3/",
            "http://172.20.0.5/",
            "http://192.168.1.10/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fc00::1]/",
            "http://[fd00::5]:8443/",
            "http://[::ffff:127.0.0.1]/",
            "http://metadata.google.internal/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "http://user:pw@example.com/",
            "not a url",
            "https://",
        ] {
            assert!(check_url(u, false).is_err(), "{u} must be refused");
        }
        for u in [
            "https://example.com/hooks",
            "http://hooks.example.com:8080/x?y=1",
            "https://8.8.8.8/",
            "https://[2606:4700::1]/",
        ] {
            assert!(check_url(u, false).is_ok(), "{u} must be accepted");
        }
        assert!(check_url("http://127.0.0.1:9000/hook", true).is_ok());
        let port = |u: &str, any| check_port(&url::Url::parse(u).unwrap(), any);
        assert!(port("https://example.com/", false).is_ok());
        assert!(port("http://example.com:80/", false).is_ok());
        assert!(port("https://example.com:8443/", false).is_err());
        assert!(port("http://example.com:6379/", false).is_err());
        assert!(port("http://example.com:6379/", true).is_ok());
        assert!(check_url("ftp://127.0.0.1/", true).is_err());
    }
}
