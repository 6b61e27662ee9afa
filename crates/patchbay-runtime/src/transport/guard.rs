//! The guard against server-side request forgery (SSRF).
//!
//! A destination is checked twice: the literal IP address in a URL before anything is sent
//! ([`check_url`]), and every address a host name resolves to ([`GuardedResolver`], installed as
//! the client's DNS resolver), so a name that resolves (or re-binds) to 127.0.0.1 is refused too.
//! The resolver keeps the allowed addresses and fails only when none remain.
//!
//! Loopback needs `allow_loopback`; private, shared (CGNAT) and link-local ranges need
//! `allow_private`; unspecified, multicast, broadcast and reserved addresses are always refused,
//! as nothing legitimate is served there. IPv6 addresses that embed an IPv4 address
//! (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by the embedded address.

use super::origin::is_http;
use super::{TransportError, TransportOptions};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use url::{Host, Url};

/// What kind of network an address belongs to, as far as the guard cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// A public address: always allowed.
    Public,
    /// 127.0.0.0/8 and ::1.
    Loopback,
    /// RFC 1918, CGNAT 100.64/10, benchmarking 198.18/15, 192.0.0/24, ULA fc00::/7, site-local fec0::/10.
    Private,
    /// 169.254/16 and fe80::/10 (cloud metadata endpoints live here).
    LinkLocal,
    /// 0.0.0.0/8 and `::`.
    Unspecified,
    /// 224.0.0.0/4 and ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// Reserved or documentation ranges (240/4, 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 100::/64).
    Reserved,
}

impl AddressClass {
    /// The words used in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            AddressClass::Public => "public",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
        }
    }
}

/// Classifies an IP address.
pub fn classify_ip(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        _ if ip.is_broadcast() => AddressClass::Broadcast,
        (0, _, _) => AddressClass::Unspecified,
        (127, _, _) => AddressClass::Loopback,
        (10, _, _) | (192, 168, _) | (192, 0, 0) => AddressClass::Private,
        (172, 16..=31, _) | (100, 64..=127, _) | (198, 18..=19, _) => AddressClass::Private,
        (169, 254, _) => AddressClass::LinkLocal,
        (224..=239, _, _) => AddressClass::Multicast,
        (240..=255, _, _) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let s = ip.segments();
    match s[0] {
        0xff00..=0xffff => AddressClass::Multicast,
        0xfe80..=0xfebf => AddressClass::LinkLocal,
        0xfec0..=0xfeff | 0xfc00..=0xfdff => AddressClass::Private,
        0x2001 if s[1] == 0x0db8 => AddressClass::Reserved,
        0x0100 if s[1..4] == [0, 0, 0] => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

/// The IPv4 address carried inside an IPv6 one: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d),
/// NAT64 (64:ff9b::a.b.c.d) or 6to4 (2002:aabb:ccdd::).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)),
        _ => None,
    }
}

/// Why an address is refused under these options, or `None` when it is allowed.
pub fn refusal(ip: IpAddr, options: &TransportOptions) -> Option<String> {
    let class = classify_ip(ip);
    let switch = match class {
        AddressClass::Public => return None,
        AddressClass::Loopback if options.allow_loopback => return None,
        AddressClass::Private | AddressClass::LinkLocal if options.allow_private => return None,
        AddressClass::Loopback => " (allow_loopback is off)",
        AddressClass::Private | AddressClass::LinkLocal => " (allow_private is off)",
        _ => "",
    };
    Some(format!("{} address {ip} is not allowed{switch}", class.describe()))
}

/// Checks a URL before sending: the scheme must be http or https, and a literal IP host must be allowed.
pub fn check_url(url: &Url, options: &TransportOptions) -> Result<(), TransportError> {
    let host_text = url.host_str().unwrap_or_default().to_owned();
    let forbidden = |reason: String| TransportError::Forbidden { host: host_text.clone(), reason };
    if !is_http(url) {
        return Err(forbidden(format!("scheme {:?} is not http or https", url.scheme())));
    }
    let ip = match url.host() {
        None => return Err(forbidden("the URL has no host".to_owned())),
        Some(Host::Domain(_)) => return Ok(()),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    match refusal(ip, options) {
        None => Ok(()),
        Some(reason) => Err(forbidden(reason)),
    }
}

/// The error the resolver reports when no resolved address is allowed; found again in the
/// client's error chain and turned into [`TransportError::Forbidden`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("refused to call {host}: {reason}")]
pub struct GuardError {
    /// The host name that was resolved.
    pub host: String,
    /// Why its addresses were refused.
    pub reason: String,
}

/// Keeps the allowed addresses of a resolved set; errors when none remain.
pub fn filter_addrs(
    host: &str,
    addrs: impl IntoIterator<Item = SocketAddr>,
    options: &TransportOptions,
) -> Result<Vec<SocketAddr>, GuardError> {
    let mut allowed = Vec::new();
    let mut refused = Vec::new();
    for addr in addrs {
        match refusal(addr.ip(), options) {
            None => allowed.push(addr),
            Some(reason) => refused.push(reason),
        }
    }
    if !allowed.is_empty() {
        return Ok(allowed);
    }
    let reason = if refused.is_empty() {
        "the name resolved to no address".to_owned()
    } else {
        format!("it resolves only to refused addresses: {}", refused.join("; "))
    };
    Err(GuardError { host: host.to_owned(), reason })
}

/// A DNS resolver (the system's, through tokio) that drops refused addresses.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    options: TransportOptions,
}

impl GuardedResolver {
    /// A resolver enforcing these options' `allow_loopback` and `allow_private`.
    pub fn new(options: TransportOptions) -> Self {
        GuardedResolver { options }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let options = self.options.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed = filter_addrs(&host, resolved, &options)?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> AddressClass {
        classify_ip(s.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges() {
        assert_eq!(v4("127.0.0.1"), AddressClass::Loopback);
        assert_eq!(v4("127.255.255.254"), AddressClass::Loopback);
        for private in ["10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1"] {
            assert_eq!(v4(private), AddressClass::Private, "{private}");
        }
        assert_eq!(v4("100.127.255.255"), AddressClass::Private);
        assert_eq!(v4("198.18.0.1"), AddressClass::Private);
        assert_eq!(v4("169.254.169.254"), AddressClass::LinkLocal);
        assert_eq!(v4("0.0.0.0"), AddressClass::Unspecified);
        assert_eq!(v4("0.1.2.3"), AddressClass::Unspecified);
        assert_eq!(v4("224.0.0.1"), AddressClass::Multicast);
        assert_eq!(v4("239.255.255.255"), AddressClass::Multicast);
        assert_eq!(v4("255.255.255.255"), AddressClass::Broadcast);
        assert_eq!(v4("240.0.0.1"), AddressClass::Reserved);
        assert_eq!(v4("192.0.2.10"), AddressClass::Reserved);
    }

    #[test]
    fn ipv4_public_neighbours_of_private_ranges() {
        for public in ["172.15.255.255", "172.32.0.0", "100.63.255.255", "100.128.0.0", "11.0.0.1"] {
            assert_eq!(v4(public), AddressClass::Public, "{public}");
        }
        assert_eq!(v4("8.8.8.8"), AddressClass::Public);
        assert_eq!(v4("169.253.0.1"), AddressClass::Public);
    }

    #[test]
    fn ipv6_ranges() {
        assert_eq!(v4("::1"), AddressClass::Loopback);
        assert_eq!(v4("::"), AddressClass::Unspecified);
        assert_eq!(v4("fc00::1"), AddressClass::Private);
        assert_eq!(v4("fdff:ffff::1"), AddressClass::Private);
        assert_eq!(v4("fe80::1"), AddressClass::LinkLocal);
        assert_eq!(v4("febf::1"), AddressClass::LinkLocal);
        assert_eq!(v4("ff02::1"), AddressClass::Multicast);
        assert_eq!(v4("2001:db8::1"), AddressClass::Reserved);
        assert_eq!(v4("2606:4700::1111"), AddressClass::Public);
    }

    #[test]
    fn ipv6_embedding_ipv4_is_judged_by_the_ipv4_address() {
        assert_eq!(v4("::ffff:127.0.0.1"), AddressClass::Loopback);
        assert_eq!(v4("::ffff:10.1.2.3"), AddressClass::Private);
        assert_eq!(v4("::ffff:169.254.169.254"), AddressClass::LinkLocal);
        assert_eq!(v4("::ffff:0.0.0.0"), AddressClass::Unspecified);
        assert_eq!(v4("::127.0.0.1"), AddressClass::Loopback);
        assert_eq!(v4("64:ff9b::7f00:1"), AddressClass::Loopback);
        assert_eq!(v4("2002:c0a8:0101::1"), AddressClass::Private);
        assert_eq!(v4("::ffff:8.8.8.8"), AddressClass::Public);
    }

    #[test]
    fn options_switch_loopback_and_private_only() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let none = TransportOptions::default();
        let all = TransportOptions { allow_loopback: true, allow_private: true, ..Default::default() };
        assert!(refusal(ip("127.0.0.1"), &none).unwrap().contains("allow_loopback"));
        assert!(refusal(ip("10.0.0.1"), &none).unwrap().contains("allow_private"));
        assert_eq!(refusal(ip("127.0.0.1"), &all), None);
        assert_eq!(refusal(ip("fe80::1"), &all), None);
        assert_eq!(refusal(ip("8.8.8.8"), &none), None);
        for always in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "::", "ff02::1"] {
            assert!(refusal(ip(always), &all).is_some(), "{always}");
        }
        let loopback_only = TransportOptions { allow_loopback: true, ..Default::default() };
        assert!(refusal(ip("192.168.0.1"), &loopback_only).is_some());
    }

    #[test]
    fn check_url_refuses_literal_addresses_and_odd_schemes() {
        let none = TransportOptions::default();
        let url = |s: &str| Url::parse(s).unwrap();
        match check_url(&url("http://[::ffff:127.0.0.1]:8080/x"), &none) {
            Err(TransportError::Forbidden { host, reason }) => {
                assert_eq!(host, "[::ffff:7f00:1]");
                assert!(reason.contains("loopback"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // WHATWG URL parsing normalises numeric hosts, so 2130706433 is 127.0.0.1.
        assert!(check_url(&url("http://2130706433/"), &none).is_err());
        assert!(check_url(&url("http://0x7f.1/"), &none).is_err());
        assert!(check_url(&url("file:///etc/passwd"), &none).is_err());
        assert!(check_url(&url("https://example.com/"), &none).is_ok());
        assert!(check_url(&url("https://93.184.215.14/"), &none).is_ok());
    }

    #[test]
    fn filter_keeps_allowed_addresses_and_fails_when_none_remain() {
        let none = TransportOptions::default();
        let sa = |s: &str| s.parse::<SocketAddr>().unwrap();
        let kept = filter_addrs("mixed.test", [sa("127.0.0.1:0"), sa("93.184.215.14:0")], &none).unwrap();
        assert_eq!(kept, vec![sa("93.184.215.14:0")]);
        let err = filter_addrs("rebound.test", [sa("127.0.0.1:0"), sa("[::1]:0")], &none).unwrap_err();
        assert_eq!(err.host, "rebound.test");
        assert!(err.reason.contains("loopback address 127.0.0.1"), "{}", err.reason);
        assert!(filter_addrs("empty.test", [], &none).is_err());
    }
}
