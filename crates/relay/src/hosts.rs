//! The defence against DNS rebinding: a request is answered only when the
//! name it was sent to is one of the relay's own. A web page whose name an
//! attacker points at 127.0.0.1 is same-origin with a relay on loopback,
//! but its requests still carry the attacker's name in `Host`.

use std::net::{IpAddr, SocketAddr};

use axum::http::{Request, header};

use anyhow::Context;
use serde::Deserialize;

use crate::RelayError;

/// The address a connection arrived at. Its port is the relay's, and an
/// IP-literal `Host` equal to it names the relay (as health checks send).
#[derive(Clone, Copy, Debug)]
pub struct LocalAddr(pub SocketAddr);

/// The names the relay answers to besides loopback and the address a
/// connection arrived at.
pub struct AllowedHosts {
    /// `public_url`'s host, its port, and whether that port is its scheme's
    /// default (so that a `Host` without a port means it).
    public: Option<(String, u16, bool)>,
    configured: Vec<HostPattern>,
}

impl AllowedHosts {
    pub fn new(public_url: Option<&reqwest::Url>, configured: Vec<HostPattern>) -> Self {
        let public = public_url.and_then(|url| {
            let (name, _) = split_authority(url.host_str()?)?;
            let port = url.port_or_known_default()?;
            Some((name, port, url.port().is_none()))
        });
        Self { public, configured }
    }

    /// Whether `authority` (a `Host` value or a URI's authority) names the
    /// relay, for a connection that arrived at `local`.
    pub fn allows(&self, authority: &str, local: SocketAddr) -> bool {
        let Some((name, port)) = split_authority(authority) else { return false };
        // Without a port the browser meant its scheme's default; on plain
        // HTTP, the relay's own listener, that is 80.
        if port.unwrap_or(80) == local.port() && is_own_address(&name, local.ip()) {
            return true;
        }
        if let Some((public, public_port, default)) = &self.public
            && name == *public
            && port.map_or(*default, |port| port == *public_port)
        {
            return true;
        }
        self.configured.iter().any(|pattern| match pattern {
            HostPattern::Name { name: allowed, port: allowed_port } => {
                name == *allowed
                    && match (allowed_port, port) {
                        (None, _) => true,
                        (Some(allowed), Some(port)) => *allowed == port,
                        (Some(allowed), None) => matches!(allowed, 80 | 443),
                    }
            }
            HostPattern::WithSubdomains { domain } => {
                name == *domain || name.strip_suffix(domain.as_str()).is_some_and(|rest| rest.ends_with('.'))
            }
        })
    }
}

/// Loopback by any of its usual names, or the very address the
/// connection arrived at.
fn is_own_address(name: &str, local: IpAddr) -> bool {
    if matches!(name, "localhost" | "127.0.0.1" | "[::1]") {
        return true;
    }
    let literal = name.strip_prefix('[').and_then(|inner| inner.strip_suffix(']')).unwrap_or(name);
    literal.parse::<IpAddr>().is_ok_and(|address| address.to_canonical() == local.to_canonical())
}

/// A host and optional port, the name lowercased and without a trailing
/// dot (`Billing.Example.` is `billing.example`); an IPv6 literal keeps its
/// brackets. `None` for anything that is not a plain authority: userinfo,
/// a path, a bad port, characters no host name has.
pub fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let (name, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let (name, rest) = authority.split_at(end + 1);
        match rest {
            "" => (name, None),
            _ => (name, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(port) if !port.is_empty() && port.bytes().all(|byte| byte.is_ascii_digit()) => {
            Some(port.parse().ok()?)
        }
        Some(_) => return None,
        None => None,
    };
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let plain = |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_');
    let ipv6 = name.starts_with('[')
        && name[1..name.len() - 1]
            .bytes()
            .all(|byte| byte.is_ascii_hexdigit() || matches!(byte, b':' | b'.'));
    (!name.is_empty() && (ipv6 || name.bytes().all(plain))).then_some((name, port))
}

impl AllowedHosts {
    /// Why `request` is refused, with 421 and its own code, when its `Host`
    /// or request target names anything but the relay; `None` when it
    /// names only the relay.
    pub fn refusal<B>(&self, request: &Request<B>) -> Option<RelayError> {
        let Some(local) = request.extensions().get::<LocalAddr>().map(|local| local.0) else {
            tracing::error!("a request without its connection's address: refused");
            return Some(RelayError::HostNotAllowed { host: String::new() });
        };
        let mut named = false;
        let target = request.uri().authority().map(|authority| Some(authority.as_str()));
        let headers = request.headers().get_all(header::HOST).iter().map(|value| value.to_str().ok());
        for authority in target.into_iter().chain(headers) {
            named = true;
            match authority {
                Some(authority) if self.allows(authority, local) => {}
                refused => {
                    let host: String = refused.unwrap_or("?").chars().take(100).collect();
                    tracing::warn!(%host, "refused: a name that is not the relay's");
                    return Some(RelayError::HostNotAllowed { host });
                }
            }
        }
        (!named).then(|| RelayError::HostNotAllowed { host: String::new() })
    }
}

/// One `allowed_hosts` entry: `billing.corp.example` (any port),
/// `billing.corp.example:8443` (that port only) or `.corp.example` (the
/// name and every name under it). Case and a trailing dot do not count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostPattern {
    Name { name: String, port: Option<u16> },
    WithSubdomains { domain: String },
}

impl std::str::FromStr for HostPattern {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        if let Some(domain) = text.strip_prefix('.') {
            let (domain, port) = split_authority(domain)
                .with_context(|| format!("allowed_hosts: `{text}` is not a host name"))?;
            anyhow::ensure!(port.is_none(), "allowed_hosts: `{text}`: a `.domain` entry takes no port");
            return Ok(Self::WithSubdomains { domain });
        }
        let (name, port) = split_authority(text)
            .with_context(|| format!("allowed_hosts: `{text}` is not a host name or host:port"))?;
        Ok(Self::Name { name, port })
    }
}

impl<'de> Deserialize<'de> for HostPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(|error| serde::de::Error::custom(format!("{error:#}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn hosts(public: Option<&str>, configured: &[&str]) -> AllowedHosts {
        let public = public.map(|url| reqwest::Url::parse(url).unwrap());
        AllowedHosts::new(public.as_ref(), configured.iter().map(|entry| entry.parse().unwrap()).collect())
    }

    #[test]
    fn loopback_names_and_the_arrival_address_with_the_relays_port() {
        let laptop = hosts(None, &[]);
        let at = local("127.0.0.1:18794");
        for allowed in
            ["localhost:18794", "127.0.0.1:18794", "[::1]:18794", "LOCALHOST.:18794", "LocalHost:18794"]
        {
            assert!(laptop.allows(allowed, at), "{allowed}");
        }
        for refused in [
            "rebind.evil.example:18794",
            "127.0.0.1.evil.example:18794",
            "localhost:18795",
            "localhost",
            "localhost:",
            "user@localhost:18794",
            "localhost:18794/x",
            "",
            "10.0.0.11:18794",
        ] {
            assert!(!laptop.allows(refused, at), "{refused}");
        }
        let pod = local("[::ffff:10.0.0.11]:8080");
        assert!(laptop.allows("10.0.0.11:8080", pod), "a health check by the pod's address");
        assert!(!laptop.allows("10.0.0.12:8080", pod));
        assert!(hosts(None, &[]).allows("localhost", local("127.0.0.1:80")), "no port is port 80");
    }

    #[test]
    fn the_public_urls_host_at_its_port_without_one_meaning_the_default() {
        let behind_nginx = hosts(Some("https://Billing.Example.com"), &[]);
        let at = local("127.0.0.1:8080");
        for allowed in ["billing.example.com", "billing.example.com:443", "BILLING.example.com."] {
            assert!(behind_nginx.allows(allowed, at), "{allowed}");
        }
        for refused in ["billing.example.com:8443", "example.com", "evil.billing.example.com"] {
            assert!(!behind_nginx.allows(refused, at), "{refused}");
        }
        let explicit = hosts(Some("http://localhost:9000"), &[]);
        assert!(explicit.allows("localhost:9000", at));
        assert!(!explicit.allows("localhost", at));
    }

    #[test]
    fn configured_names_ports_and_domains() {
        let team = hosts(None, &["billing.corp.example", "reports.corp.example:8443", ".intra.example"]);
        let at = local("127.0.0.1:8080");
        for allowed in [
            "billing.corp.example",
            "billing.corp.example:1234",
            "reports.corp.example:8443",
            "intra.example",
            "billing.intra.example:99",
        ] {
            assert!(team.allows(allowed, at), "{allowed}");
        }
        for refused in
            ["reports.corp.example:8444", "reports.corp.example", "evilintra.example", "corp.example"]
        {
            assert!(!team.allows(refused, at), "{refused}");
        }
        assert!(".a.example:80".parse::<HostPattern>().is_err());
        assert!("a b".parse::<HostPattern>().is_err());
    }
}
