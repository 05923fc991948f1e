//! Where alerts may be sent. A webhook URL is checked when it is added and again at each
//! delivery (DNS can change): loopback, private, link-local and other non-public
//! addresses are refused unless explicitly allowed, so a site's alert settings cannot be
//! used to reach the server's own network.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};

/// Why a target is refused.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Not an http(s) URL.
    #[error("not an http(s) URL: {0}")]
    NotHttp(String),
    /// The host did not resolve.
    #[error("cannot resolve {0}")]
    Unresolved(String),
    /// The host resolves to a non-public address.
    #[error("{0} resolves to a private or loopback address ({1}); refused")]
    Private(String, IpAddr),
}

/// The `host:port` of an http(s) URL.
pub fn host_port(url: &str) -> Result<(String, u16), TargetError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| TargetError::NotHttp(url.into()))?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(TargetError::NotHttp(url.into())),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(TargetError::NotHttp(url.into()));
    }
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, port) = v6
            .split_once(']')
            .ok_or_else(|| TargetError::NotHttp(url.into()))?;
        let port = port
            .strip_prefix(':')
            .and_then(|p| p.parse().ok())
            .unwrap_or(default_port);
        return Ok((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Ok((
            host.to_owned(),
            port.parse().map_err(|_| TargetError::NotHttp(url.into()))?,
        )),
        None => Ok((authority.to_owned(), default_port)),
    }
}

/// Resolves the URL's host and refuses non-public addresses unless `allow_private`.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), TargetError> {
    let (host, port) = host_port(url)?;
    let addrs: Vec<IpAddr> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|_| TargetError::Unresolved(host.clone()))?
        .map(|a| a.ip())
        .collect();
    if addrs.is_empty() {
        return Err(TargetError::Unresolved(host));
    }
    if !allow_private {
        if let Some(ip) = addrs.into_iter().find(|ip| !is_public(*ip)) {
            return Err(TargetError::Private(host, ip));
        }
    }
    Ok(())
}

/// Looks up a host's addresses: the system's resolver, or a table in tests.
pub trait Names: Send + Sync + 'static {
    /// The addresses of `host` (a name, or an address without brackets) at `port`.
    fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// The system's resolver.
pub struct SystemNames;

impl Names for SystemNames {
    fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok((host, port).to_socket_addrs()?.collect())
    }
}

/// The alert client's resolver. It refuses a non-public address where it looks the name
/// up, so the address checked is the address connected to: a second lookup, as a
/// check before the request would need, could answer differently (DNS rebinding).
pub(crate) struct CheckedNames {
    pub names: Arc<dyn Names>,
    pub allow_private: bool,
}

impl std::fmt::Debug for CheckedNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedNames")
            .field("allow_private", &self.allow_private)
            .finish_non_exhaustive()
    }
}

impl Resolver for CheckedNames {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (host, port) = host_port(&uri.to_string()).map_err(|_| ureq::Error::HostNotFound)?;
        let addrs = self
            .names
            .lookup(&host, port)
            .map_err(|_| ureq::Error::HostNotFound)?;
        if !self.allow_private {
            if let Some(addr) = addrs.iter().find(|a| !is_public(a.ip())) {
                let refused = TargetError::Private(host, addr.ip());
                return Err(ureq::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    refused,
                )));
            }
        }
        let mut resolved = self.empty();
        for addr in addrs.into_iter().take(16) {
            resolved.push(addr);
        }
        match resolved.is_empty() {
            true => Err(ureq::Error::HostNotFound),
            false => Ok(resolved),
        }
    }
}

/// The refusal `CheckedNames` made, if that is why a request failed.
pub(crate) fn refusal(err: &ureq::Error) -> Option<&TargetError> {
    match err {
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<TargetError>(),
        _ => None,
    }
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || (a == 198 && (18..20).contains(&b)) // benchmarking
                || (a == 192 && b == 0 && v4.octets()[2] == 0) // IETF protocol assignments
                || a >= 224)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // Forms that carry an IPv4 address inside: judged by that address.
            let embedded = |hi: u16, lo: u16| {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d))
            };
            if s[..6] == [0; 6] {
                // IPv4-compatible (::a.b.c.d), deprecated but still routed by some stacks.
                return !v6.is_loopback()
                    && !v6.is_unspecified()
                    && is_public(embedded(s[6], s[7]));
            }
            if s[0] == 0x64 && s[1] == 0xff9b {
                // NAT64 (64:ff9b::/96 and the local-use 64:ff9b:1::/48).
                return s[2] == 0 && s[3..6] == [0; 3] && is_public(embedded(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                // 6to4: the IPv4 address is in the second and third groups.
                return is_public(embedded(s[1], s[2]));
            }
            let first = s[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || (first & 0xffc0) == 0xfec0 // site local (deprecated)
                || (first == 0x2001 && s[1] == 0x0db8) // documentation
                || (first == 0x0100 && s[1..4] == [0; 3])) // discard-only
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_loopback_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "::7f00:1",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "fec0::1",
            "198.18.0.1",
            "198.19.255.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "2606:4700::1111",
            "64:ff9b::5db8:d822",
            "2002:5db8:d822::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(matches!(
            check_url("http://127.0.0.1:9/hook", false),
            Err(TargetError::Private(..))
        ));
        assert!(check_url("http://127.0.0.1:9/hook", true).is_ok());
        assert!(matches!(
            check_url("ftp://example.com", true),
            Err(TargetError::NotHttp(_))
        ));
    }

    #[test]
    fn host_and_port_come_from_the_url() {
        assert_eq!(
            host_port("https://hooks.example.com/x").unwrap(),
            ("hooks.example.com".into(), 443)
        );
        assert_eq!(
            host_port("http://u:p@h.example:8080/x?y").unwrap(),
            ("h.example".into(), 8080)
        );
        assert_eq!(host_port("http://[::1]:81/").unwrap(), ("::1".into(), 81));
    }
}
