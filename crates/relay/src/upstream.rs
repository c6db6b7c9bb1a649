//! The relay's side of the vendor's HTTP: one client for every profile, and
//! what each profile's requests need, worked out once at start.

use std::{io, sync::Arc, time::Duration};

use anyhow::Context;
use axum::http::{HeaderName, HeaderValue, Request, Uri, header};
use billing::{ProfileSummary, Role, api::DocumentRequest};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{Client, Error, connect::HttpConnector},
    rt::TokioExecutor,
};
use secrecy::ExposeSecret;

use crate::Profile;

/// More of a vendor's error body than this is not read for its message.
const MESSAGE_BYTES: usize = 64 * 1024;

/// HTTP/1.1 straight on hyper-util's pooled client, TLS by rustls trusting
/// the system's roots and Mozilla's. It takes no proxy from the environment
/// and follows no redirect: a redirect could carry the key elsewhere.
pub struct VendorClient(Client<HttpsConnector<HttpConnector>, Empty<Bytes>>);

impl VendorClient {
    pub fn new(connect_timeout: Duration) -> anyhow::Result<Self> {
        let mut tcp = HttpConnector::new();
        tcp.set_connect_timeout(Some(connect_timeout));
        tcp.set_nodelay(true);
        tcp.enforce_http(false);
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Ok(Self(Client::builder(TokioExecutor::new()).build(tls)))
    }

    /// Asks `upstream`'s vendor for `request`: its URL, its key, and the
    /// media type asked for, nothing else.
    pub async fn get(
        &self,
        upstream: &Upstream,
        request: &DocumentRequest,
    ) -> Result<hyper::Response<Incoming>, Error> {
        let asked = Request::get(upstream.uri(request))
            .header(&upstream.key_header, &upstream.key)
            .header(header::ACCEPT, request.format().media_type())
            .body(Empty::new())
            .expect("a URI, header names and values checked when made");
        self.0.request(asked).await
    }
}

fn tls_config() -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let system = rustls_native_certs::load_native_certs();
    for error in &system.errors {
        tracing::warn!(%error, "a system root certificate could not be read");
    }
    roots.add_parsable_certificates(system.certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("rustls has no protocol version in common with ring")?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Whether the vendor call failed because a time limit passed: connecting,
/// or the vendor's answer.
pub fn timed_out(error: &Error) -> bool {
    crate::error::causes(error)
        .any(|cause| cause.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::TimedOut))
}

/// The start of a vendor's error body, for its message; what cannot be
/// read is none.
pub async fn start_of(body: Incoming) -> Bytes {
    match Limited::new(body, MESSAGE_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    }
}

/// What each request to a profile's vendor needs: the base URL, the key as
/// a header, what each role is offered.
pub struct Upstream {
    /// The profile's base URL with no `/` at its end, to which a vendor
    /// path is appended.
    base: String,
    key_header: HeaderName,
    /// Marked sensitive, so that no debug output of a request shows it.
    key: HeaderValue,
    /// In the order of [`Role::ALL`].
    summaries: [ProfileSummary; Role::ALL.len()],
    generation: billing::Generation,
}

impl Upstream {
    pub fn of(profile: &Profile) -> anyhow::Result<Self> {
        let name = &profile.name;
        let base =
            url::Url::parse(&profile.base_url).with_context(|| format!("profile {name}: bad base_url"))?;
        let key_header = HeaderName::from_bytes(profile.key_header.as_bytes())
            .with_context(|| format!("profile {name}: key_header is not a header name"))?;
        // The key itself is never part of the message.
        let mut key = HeaderValue::from_str(profile.key.expose_secret())
            .map_err(|_| anyhow::anyhow!("profile {name}: the key holds characters a header cannot carry"))?;
        key.set_sensitive(true);
        let upstream = Self {
            base: base.as_str().trim_end_matches('/').to_owned(),
            key_header,
            key,
            summaries: Role::ALL.map(|role| profile.summary(role)),
            generation: profile.generation,
        };
        Uri::try_from(&upstream.base).with_context(|| format!("profile {name}: base_url is not a URI"))?;
        Ok(upstream)
    }

    pub fn summary(&self, role: Role) -> &ProfileSummary {
        let index = Role::ALL.iter().position(|each| *each == role).unwrap_or_default();
        &self.summaries[index]
    }

    /// The vendor's URL for `request`, from configuration and checked
    /// values only.
    fn uri(&self, request: &DocumentRequest) -> Uri {
        let mut uri = self.base.clone();
        uri.push_str(&request.vendor_path(self.generation));
        uri.push('?');
        let start = uri.len();
        let uri =
            form_urlencoded::Serializer::for_suffix(uri, start).extend_pairs(request.vendor_query()).finish();
        Uri::try_from(uri).expect("a checked base URL, a vendor path and an encoded query")
    }
}

#[cfg(test)]
mod tests {
    use billing::{Endpoint, Format, Generation, api::Scope};
    use chrono::NaiveDate;
    use secrecy::SecretString;

    use super::*;

    fn upstream(base_url: &str) -> Upstream {
        let key = SecretString::from("k");
        Upstream::of(&Profile::whole_generation("p", "test", Generation::Legacy, base_url.to_owned(), key))
            .unwrap()
    }

    #[test]
    fn the_vendor_url_is_the_base_then_the_path_then_the_query() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
        let window = Scope::Window(billing::api::DateWindow::new(day(1), day(31)).unwrap());
        let invoices = DocumentRequest::new("p", "v3", Endpoint::Invoices, Format::Xml, window).unwrap();
        let uri = upstream("https://vendor.example/billing").uri(&invoices);
        assert_eq!(
            uri.to_string(),
            "https://vendor.example/billing/v3/invoices?startDate=20260101&endDate=20260131"
        );
        let uri = upstream("http://127.0.0.1:9").uri(&invoices);
        assert_eq!(uri.to_string(), "http://127.0.0.1:9/v3/invoices?startDate=20260101&endDate=20260131");
    }

    /// A listener whose one-place queue is full drops the next connection's
    /// SYN, so connecting to it waits: on loopback, a vendor that never
    /// answers the connection.
    #[tokio::test]
    async fn a_connection_never_answered_is_a_timeout() {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let address = listener.local_addr().unwrap();
        let _queued = tokio::net::TcpStream::connect(address).await.unwrap();
        let client = VendorClient::new(Duration::from_millis(200)).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let window = Scope::Window(billing::api::DateWindow::new(day, day).unwrap());
        let request = DocumentRequest::new("p", "v3", Endpoint::Invoices, Format::Json, window).unwrap();
        let error = client.get(&upstream(&format!("http://{address}")), &request).await.unwrap_err();
        assert!(timed_out(&error), "{}", crate::error::with_causes(&error));

        drop(listener);
        let refused = client.get(&upstream(&format!("http://{address}")), &request).await.unwrap_err();
        assert!(!timed_out(&refused), "{}", crate::error::with_causes(&refused));
    }
}
