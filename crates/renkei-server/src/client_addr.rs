//! The client's address: the socket peer, or behind a trusted load balancer the rightmost
//! address of `X-Forwarded-For` that is not itself a trusted proxy.

use std::net::{IpAddr, SocketAddr};

/// The proxies whose `X-Forwarded-For` is believed (`trusted_proxies`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses addresses and CIDRs (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`).
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .map(|entry| {
                let bad = || format!("trusted_proxies: {entry:?} is not an address or CIDR");
                let (addr, bits) = match entry.trim().split_once('/') {
                    Some((addr, bits)) => (addr, Some(bits.parse::<u8>().map_err(|_| bad())?)),
                    None => (entry.trim(), None),
                };
                let ip = addr.parse::<IpAddr>().map_err(|_| bad())?.to_canonical();
                let max = if ip.is_ipv4() { 32 } else { 128 };
                match bits.unwrap_or(max) {
                    b if b <= max => Ok((ip, b)),
                    _ => Err(bad()),
                }
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|(net, bits)| match (net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(&net.octets(), &ip.octets(), *bits),
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(&net.octets(), &ip.octets(), *bits),
            _ => false,
        })
    }

    /// The client behind `peer`, given the `X-Forwarded-For` header values in order: the peer
    /// unless it is trusted; else the rightmost hop that is not a trusted proxy (a hop that is
    /// not an address ends the walk at the last trusted one).
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let hops = forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .collect::<Vec<_>>();
        for hop in hops.into_iter().rev() {
            let Some(ip) = parse_hop(hop.trim()) else {
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` hop: an address, possibly with a port (`192.0.2.1:4711`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// Whether the first `bits` bits of `a` and `b` are equal.
fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = ((bits / 8) as usize, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn cidrs_match_their_networks_only() {
        let p = proxies(&["10.1.0.0/16", "192.0.2.7", "fd00::/8", "172.16.0.0/12"]);
        assert!(p.contains(ip("10.1.200.3")));
        assert!(!p.contains(ip("10.2.0.1")));
        assert!(p.contains(ip("192.0.2.7")));
        assert!(!p.contains(ip("192.0.2.8")));
        assert!(p.contains(ip("fd12::1")));
        assert!(p.contains(ip("172.31.255.1")));
        assert!(!p.contains(ip("172.32.0.1")));
        assert!(p.contains(ip("::ffff:10.1.0.9")), "an IPv4-mapped peer");
        for bad in ["10.0.0.0/33", "nonsense", "10.0.0.0/x", "::/129"] {
            assert!(TrustedProxies::parse(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let p = proxies(&["10.0.0.0/8"]);
        let forged = ["198.51.100.9"];
        assert_eq!(p.client(ip("203.0.113.5"), &forged), ip("203.0.113.5"));
        assert_eq!(p.client(ip("10.0.0.2"), &forged), ip("198.51.100.9"));
        assert_eq!(p.client(ip("10.0.0.2"), &[]), ip("10.0.0.2"), "no header");
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let p = proxies(&["10.0.0.0/8"]);
        // The client put a forged address first; the balancer appended the real one, then an
        // inner proxy its own.
        let chain = ["1.1.1.1, 203.0.113.5", "10.0.0.7"];
        assert_eq!(p.client(ip("10.0.0.2"), &chain), ip("203.0.113.5"));
        assert_eq!(
            p.client(ip("10.0.0.2"), &["10.0.0.8, 10.0.0.7"]),
            ip("10.0.0.8"),
            "only proxies: the farthest"
        );
        assert_eq!(
            p.client(ip("10.0.0.2"), &["203.0.113.5, garbage, 10.0.0.7"]),
            ip("10.0.0.7"),
            "a hop that is no address stops the walk"
        );
        assert_eq!(
            p.client(ip("10.0.0.2"), &["[2001:db8::1]:443"]),
            ip("2001:db8::1")
        );
    }
}
