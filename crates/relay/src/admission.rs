//! Who the client is and whether it may come in: the socket peer, or behind
//! a trusted proxy the rightmost `X-Forwarded-For` hop that is not one;
//! then the allowlist and the per-client rate limit. One layer does all a
//! request needs before its route (each layer costs every request a
//! little): the allowlist, the rate, the caller when nobody signs in, and
//! no caching of the API's and sign-in's answers.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use billing::api::routes;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use ipnet::IpNet;

use crate::{RelayError, config::RateLimit, identity::Caller};

/// The client's address as the relay decided it.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

/// The client behind `peer`. `None` when a trusted proxy forwarded a hop
/// that is not an address.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    let trusted = |address: &IpAddr| trusted_proxies.iter().any(|net| net.contains(address));
    let peer = peer.to_canonical();
    if !trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("?").split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        client = hop.parse::<IpAddr>().ok()?.to_canonical();
        if !trusted(&client) {
            break;
        }
    }
    Some(client)
}

/// Who is let in and how often: the allowlist (behind the trusted
/// proxies) and each client's rate.
pub struct Admission {
    pub allowlist: Vec<IpNet>,
    pub trusted_proxies: Vec<IpNet>,
    pub limiter: Limiter,
    /// Whether people sign in; if not, every admitted client is a caller.
    pub sign_in: bool,
}

/// The relay's paths as admission treats them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    App,
    Api {
        /// What reaches the vendor is rationed; the relay's own records are
        /// read as often as the page needs them.
        rationed: bool,
    },
    /// Each step there costs the provider a call: rationed as a whole.
    SignIn,
}

impl Part {
    fn of(path: &str) -> Self {
        let under = |prefix: &str| {
            path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        if under("/api") {
            Self::Api { rationed: under(routes::DOCUMENTS) }
        } else if under("/auth") {
            Self::SignIn
        } else {
            Self::App
        }
    }
}

/// Refuses clients outside the allowlist, and clients over their rate where
/// it is rationed; every route sees [`ClientAddr`], and with sign-in off
/// the API's see [`Caller::Admitted`]. The API's and sign-in's answers go
/// out marked not to be kept by any cache.
pub async fn admit(State(admission): State<Arc<Admission>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let client = peer.and_then(|peer| client_address(peer, request.headers(), &admission.trusted_proxies));
    let Some(client) = client.filter(|client| admission.allowlist.iter().any(|net| net.contains(client)))
    else {
        let seen = client
            .map_or_else(|| "an address the relay could not read".to_owned(), |client| client.to_string());
        tracing::warn!(client = %seen, path = request.uri().path(), "refused: not on the allowlist");
        return RelayError::NotAllowlisted { client: seen }.into_response();
    };
    tracing::Span::current().record("client", tracing::field::display(client));
    request.extensions_mut().insert(ClientAddr(client));
    let part = Part::of(request.uri().path());
    let mut response = match part {
        Part::App => return next.run(request).await,
        Part::Api { rationed: true } | Part::SignIn if let Err(refused) = admission.limiter.admit(client) => {
            refused.into_response()
        }
        Part::Api { .. } => {
            if !admission.sign_in {
                request.extensions_mut().insert(Caller::Admitted);
            }
            next.run(request).await
        }
        Part::SignIn => next.run(request).await,
    };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub struct Limiter(DefaultKeyedRateLimiter<IpAddr>);

impl Limiter {
    pub fn new(limit: RateLimit) -> Self {
        let per_minute = NonZeroU32::new(limit.per_minute.max(1)).expect("at least one");
        let burst = NonZeroU32::new(limit.burst.max(1)).expect("at least one");
        Self(RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)))
    }

    /// Counts one request of `client`, or says when it may come back.
    fn admit(&self, client: IpAddr) -> Result<(), RelayError> {
        if let Err(not_until) = self.0.check_key(&client) {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            tracing::warn!(%client, "refused: rate limit");
            return Err(RelayError::RateLimited { retry_after_seconds: wait.as_secs().max(1) });
        }
        // Idle clients' counters are dropped now and then so the map stays small.
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(client_address(ip("192.0.2.7"), &forwarded("127.0.0.1"), &trusted), Some(ip("192.0.2.7")));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let headers = forwarded("127.0.0.1, 198.51.100.4, 10.0.0.3");
        assert_eq!(client_address(ip("10.0.0.2"), &headers, &trusted), Some(ip("198.51.100.4")));
        assert_eq!(client_address(ip("10.0.0.2"), &forwarded("10.0.0.9, garbage, 10.0.0.3"), &trusted), None);
        assert_eq!(client_address(ip("10.0.0.2"), &HeaderMap::new(), &trusted), Some(ip("10.0.0.2")));
    }

    #[test]
    fn the_api_its_vendor_route_and_sign_in_are_told_apart_by_whole_segments() {
        assert_eq!(Part::of("/api/documents/demo/v3/invoices"), Part::Api { rationed: true });
        assert_eq!(Part::of("/api/documents"), Part::Api { rationed: true });
        assert_eq!(Part::of("/api/documentsX"), Part::Api { rationed: false });
        assert_eq!(Part::of("/api/archive"), Part::Api { rationed: false });
        assert_eq!(Part::of("/api"), Part::Api { rationed: false });
        assert_eq!(Part::of("/apix"), Part::App);
        assert_eq!(Part::of("/auth/login"), Part::SignIn);
        assert_eq!(Part::of("/authority"), Part::App);
        assert_eq!(Part::of("/index.html"), Part::App);
    }

    #[test]
    fn ipv4_mapped_addresses_are_their_ipv4_address() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_address(ip("::ffff:10.0.0.2"), &forwarded("::ffff:203.0.113.9"), &trusted),
            Some(ip("203.0.113.9"))
        );
    }
}
