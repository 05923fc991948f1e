//! The client's address behind a load balancer: `X-Forwarded-For` is believed only when
//! the connection comes from a configured proxy (`serve --trusted-proxy`), since any
//! client can send the header. The rate limits and the logs then see the customer, not
//! the proxy.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

/// A proxy's address, or a network of them (`10.0.0.0/8`, `2001:db8::/32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Network, String> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or network (like 10.0.0.0/8)"))?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {bits}"))?,
        };
        Ok(Network { address, prefix })
    }
}

impl Network {
    fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix)
                    == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix)
                    == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// The first `prefix` of a `bits`-wide address.
fn masked(value: u128, bits: u8, prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p => value >> (bits - p.min(bits)),
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Vec<Network>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client behind `peer`: the peer itself unless it is a trusted proxy; then the
    /// last address in `X-Forwarded-For` that is not a trusted proxy (each proxy appends
    /// the address it saw, so earlier entries are the client's word and not believed).
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops = forwarded_for
            .iter()
            .rev()
            .flat_map(|header| header.rsplit(','));
        let mut client = peer;
        for hop in hops {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if self.trusts(ip) => client = ip,
                Ok(ip) => return ip,
                // An address this proxy chain cannot vouch for ends the walk.
                Err(_) => return client,
            }
        }
        client
    }
}

/// Middleware: the connection's address becomes the client's, as the trusted proxies
/// say, before anything reads it.
pub async fn client_address(
    State(proxies): State<std::sync::Arc<TrustedProxies>>,
    mut request: Request,
    next: Next,
) -> Response {
    if proxies.0.is_empty() {
        return next.run(request).await;
    }
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let forwarded: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        let client = proxies.client(peer.ip(), &forwarded);
        let port = peer.port();
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(client, port)));
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(networks: &[&str]) -> TrustedProxies {
        TrustedProxies(networks.iter().map(|n| n.parse().unwrap()).collect())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_anyone_else_is_the_client() {
        let proxies = trusted(&["10.0.0.0/8"]);
        assert_eq!(
            proxies.client(ip("10.1.2.3"), &["198.51.100.7"]),
            ip("198.51.100.7")
        );
        // A client claiming to be someone else, straight to the server: not believed.
        assert_eq!(
            proxies.client(ip("203.0.113.9"), &["198.51.100.7"]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn what_the_client_wrote_before_the_proxies_is_not_believed() {
        let proxies = trusted(&["10.0.0.0/8", "192.0.2.10"]);
        // The client sent "1.2.3.4" itself; the edge proxy appended the address it saw,
        // and an inner proxy appended the edge proxy's.
        let chain = ["1.2.3.4, 198.51.100.7, 192.0.2.10"];
        assert_eq!(proxies.client(ip("10.0.0.5"), &chain), ip("198.51.100.7"));
        // The same in separate header lines.
        let lines = ["1.2.3.4", "198.51.100.7", "192.0.2.10"];
        assert_eq!(proxies.client(ip("10.0.0.5"), &lines), ip("198.51.100.7"));
        // No header: the proxy is the client.
        assert_eq!(proxies.client(ip("10.0.0.5"), &[]), ip("10.0.0.5"));
        // Garbage ends the walk at the last address vouched for.
        assert_eq!(
            proxies.client(ip("10.0.0.5"), &["evil, 10.9.9.9"]),
            ip("10.9.9.9")
        );
    }

    #[test]
    fn networks_parse_and_match_both_families() {
        let six = trusted(&["2001:db8::/32"]);
        assert_eq!(
            six.client(ip("2001:db8:1::1"), &["2001:db9::1"]),
            ip("2001:db9::1")
        );
        assert_eq!(
            six.client(ip("2001:db9::1"), &["198.51.100.7"]),
            ip("2001:db9::1")
        );
        let mapped = trusted(&["10.0.0.1"]);
        assert_eq!(
            mapped.client(ip("::ffff:10.0.0.1"), &["198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            trusted(&["0.0.0.0/0"]).client(ip("8.8.8.8"), &["1.1.1.1"]),
            ip("1.1.1.1")
        );
        assert!("10.0.0.0/33".parse::<Network>().is_err());
        assert!("proxy.local".parse::<Network>().is_err());
    }
}
