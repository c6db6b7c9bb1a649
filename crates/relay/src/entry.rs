//! What every request passes on its way in and out, in one layer: its id,
//! its span in the log, the check that it was sent to the relay's own name,
//! the metrics, and the security headers on its answer. One layer rather
//! than five: each layer costs every request a clone of what it wraps and a
//! boxed future, and on small documents those were a tenth of the relay's
//! time.

use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    response::{IntoResponse, Response},
};
use futures_util::future::{self, BoxFuture, Either};
use tower::{Layer, Service};
use tracing::Instrument;

use crate::{
    hosts::AllowedHosts,
    observe::{
        audit::RequestId,
        metrics::{Answering, Metrics},
    },
    security::{self, SecurityHeaders},
};

/// The layer; see the module's description.
#[derive(Clone)]
pub struct Entry(Arc<Parts>);

struct Parts {
    hosts: Arc<AllowedHosts>,
    security_headers: SecurityHeaders,
    metrics: Arc<Metrics>,
}

impl Entry {
    pub fn new(hosts: Arc<AllowedHosts>, security_headers: SecurityHeaders, metrics: Arc<Metrics>) -> Self {
        Self(Arc::new(Parts { hosts, security_headers, metrics }))
    }
}

impl<S> Layer<S> for Entry {
    type Service = EntryService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EntryService { entry: self.0.clone(), inner }
    }
}

#[derive(Clone)]
pub struct EntryService<S> {
    entry: Arc<Parts>,
    inner: S,
}

impl<S> Service<Request> for EntryService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let id = RequestId::next();
        request.extensions_mut().insert(id);
        let answering = Answering::start(&request);
        let span = tracing::info_span!(
            "request",
            id = id.0,
            method = %request.method(),
            path = request.uri().path(),
            client = tracing::field::Empty,
        );
        // The service that was made ready answers; its clone waits for the next request.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let entry = self.entry.clone();
        let answer = span.in_scope(|| match entry.hosts.refusal(&request) {
            Some(refusal) => Either::Left(future::ready(Ok(refusal.into_response()))),
            None => Either::Right(inner.call(request)),
        });
        Box::pin(
            async move {
                let mut response = answer.await?;
                security::add_headers(&entry.security_headers, &mut response);
                response
                    .headers_mut()
                    .insert(HeaderName::from_static("x-request-id"), HeaderValue::from(id.0));
                let took = answering.answered(&entry.metrics, &response);
                tracing::info!(
                    status = response.status().as_u16(),
                    latency_ms = took.as_secs_f64() * 1e3,
                    "answered"
                );
                Ok(response)
            }
            .instrument(span),
        )
    }
}
