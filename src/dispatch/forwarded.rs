//! `X-Forwarded-For` / `X-Forwarded-Proto`, believed only from the proxies the server was told
//! to trust (`--forwarded-allow-ips`, uvicorn's name and rule).
//!
//! From a trusted peer, the client is the last address in `X-Forwarded-For` that is not itself
//! a trusted proxy (walking from the right, as each proxy appends the address it saw; if all
//! are trusted, the first), with port 0; the scheme is the last `X-Forwarded-Proto` value.
//! From any other peer both headers are ignored, so a client cannot pose as another address.
//! Nothing is trusted by default (uvicorn trusts 127.0.0.1 by default; fastcore trusts no one
//! unless told, so a server reached directly cannot be fooled).

use std::net::{IpAddr, SocketAddr};

use hyper::header::HeaderName;
use hyper::HeaderMap;



static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// The trusted proxies: addresses and networks, or everyone (`*`).
#[derive(Debug, PartialEq)]
pub(crate) enum Proxies {
    Any,
    Nets(Vec<(IpAddr, u8)>),
}

impl Proxies {
    /// `"127.0.0.1, 10.0.0.0/8, ::1"` or `"*"`.
    pub(crate) fn parse(spec: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item == "*" {
                return Ok(Self::Any);
            }
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b.parse::<u8>().map_err(|_| format!("bad prefix length in {item:?}"))?)),
                None => (item, None),
            };
            let ip: IpAddr = addr.parse().map_err(|_| format!("not an IP address or network: {item:?}"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = bits.unwrap_or(max);
            if bits > max {
                return Err(format!("prefix length over {max} in {item:?}"));
            }
            nets.push((ip, bits));
        }
        Ok(Self::Nets(nets))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match self {
            Self::Any => true,
            Self::Nets(nets) => nets.iter().any(|&(net, bits)| within(ip, canonical(net), bits)),
        }
    }

    /// The client and whether the original request was https, for a request from `peer`.
    pub(crate) fn resolve(&self, headers: &HeaderMap, peer: SocketAddr) -> (SocketAddr, bool) {
        if !self.trusts(peer.ip()) {
            return (peer, false);
        }
        let https = headers
            .get_all(&X_FORWARDED_PROTO)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https") || p.trim().eq_ignore_ascii_case("wss"));
        let hops: Vec<IpAddr> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|h| parse_hop(h.trim()))
            .collect();
        let client = hops.iter().rev().find(|ip| !self.trusts(**ip)).or(hops.first());
        (client.map_or(peer, |ip| SocketAddr::new(*ip, 0)), https)
    }
}

/// One `X-Forwarded-For` entry: an address, possibly bracketed or with a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(sock) = hop.parse::<SocketAddr>() {
        return Some(sock.ip());
    }
    hop.strip_prefix('[').and_then(|h| h.strip_suffix(']')).and_then(|h| h.parse().ok())
}

/// IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1`, a dual-stack socket's peers) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

fn within(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (a, b, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn trusted_peer_only() {
        let proxies = Proxies::parse("10.0.0.0/8, ::1").unwrap();
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 10.1.1.1"), ("x-forwarded-proto", "https")]);
        let from_proxy: SocketAddr = "10.9.9.9:5000".parse().unwrap();
        assert_eq!(proxies.resolve(&h, from_proxy), ("1.2.3.4:0".parse().unwrap(), true));
        let direct: SocketAddr = "8.8.8.8:5000".parse().unwrap();
        assert_eq!(proxies.resolve(&h, direct), (direct, false));
        let v6: SocketAddr = "[::1]:1".parse().unwrap();
        assert_eq!(proxies.resolve(&h, v6).0, "1.2.3.4:0".parse().unwrap());
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:1".parse().unwrap();
        assert!(proxies.resolve(&h, mapped).1);
    }

    #[test]
    fn spoofed_hops_on_the_left_are_ignored() {
        let proxies = Proxies::parse("127.0.0.1").unwrap();
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 5.5.5.5")]);
        assert_eq!(proxies.resolve(&h, peer).0, "5.5.5.5:0".parse().unwrap());
        let h = headers(&[("x-forwarded-for", "garbage, [2001:db8::1]:80")]);
        assert_eq!(proxies.resolve(&h, peer).0, "[2001:db8::1]:0".parse().unwrap());
        let h = headers(&[("x-forwarded-for", "127.0.0.1")]);
        assert_eq!(proxies.resolve(&h, peer).0, "127.0.0.1:0".parse().unwrap());
        assert_eq!(proxies.resolve(&headers(&[]), peer), (peer, false));
    }

    #[test]
    fn specs() {
        assert_eq!(Proxies::parse("*").unwrap(), Proxies::Any);
        assert!(Proxies::parse("10.0.0.0/33").is_err());
        assert!(Proxies::parse("nope").is_err());
        assert!(Proxies::parse("0.0.0.0/0").unwrap().trusts("9.9.9.9".parse().unwrap()));
    }
}
