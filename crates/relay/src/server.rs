//! The relay's own connection handling, so that it needs no proxy in
//! front of it: a client must send a request's headers in time, an idle
//! connection is closed, and past a cap new connections wait in the
//! kernel's queue while the open ones go on. HTTP/1.1, and HTTP/2 for
//! clients and proxies that speak it from the start (prior knowledge).

use std::{
    convert::Infallible,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::ConnectInfo,
    http::{Request, Response},
};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Semaphore, watch},
};
use tower::Service;

use crate::{config::ConnectionLimits, hosts::LocalAddr, observe::metrics::Metrics};

/// Serves `router` on `listener` until `stopping` turns true, then lets
/// the open connections finish their requests and returns once all closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    mut stopping: watch::Receiver<bool>,
) {
    let open = Arc::new(Semaphore::new(limits.max_open));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    loop {
        let permit = match open.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                metrics.connection_cap_reached();
                tokio::select! {
                    permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
                    () = stopped(&mut stopping) => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before
                    // it was accepted: wait a moment rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stopping) => break,
        };
        let connection = Connection {
            builder: builder.clone(),
            router: router.clone(),
            limits,
            metrics: metrics.clone(),
            stopping: stopping.clone(),
        };
        tokio::spawn(async move {
            connection.serve(stream, peer).await;
            drop(permit);
        });
    }
    drop(listener);
    // Every permit back means every connection has closed.
    let _ = open.acquire_many(limits.max_open as u32).await;
}

/// Returns once the relay is stopping (or whoever could stop it is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stopping| *stopping).await;
}

struct Connection {
    builder: Arc<auto::Builder<TokioExecutor>>,
    router: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    stopping: watch::Receiver<bool>,
}

impl Connection {
    async fn serve(mut self, stream: TcpStream, peer: SocketAddr) {
        // Without TCP_NODELAY a small answer's body waits for a delayed ACK.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!(%error, "cannot set TCP_NODELAY");
        }
        let Ok(local) = stream.local_addr() else { return };
        let activity = Arc::new(Activity::new());
        let router = self.router.clone();
        let tracked = activity.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(LocalAddr(local));
            let in_flight = InFlight::begin(tracked.clone());
            let answer = router.clone().call(request.map(Body::new));
            async move {
                let response: Response<Body> = answer.await?;
                Ok::<_, Infallible>(
                    response.map(|body| Body::new(TrackedBody { body, _in_flight: in_flight })),
                )
            }
        });
        let io = TokioIo::new(Watched { stream, activity: activity.clone() });
        let connection = self.builder.serve_connection(io, service);
        tokio::pin!(connection);
        let _open = self.metrics.connection_opened();
        let mut closing = false;
        let result = loop {
            tokio::select! {
                result = connection.as_mut() => break result,
                () = activity.idle(self.limits.idle_timeout), if !closing => {
                    self.metrics.connection_closed("idle");
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
                () = stopped(&mut self.stopping), if !closing => {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        };
        if let Err(error) = result {
            let timed_out = error.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_timeout);
            if timed_out {
                self.metrics.connection_closed("header_timeout");
                tracing::debug!(%peer, "closed: the request's headers did not arrive in time");
            } else {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        }
    }
}

/// What a connection is doing: requests under way, and when bytes last
/// moved, in milliseconds since it opened.
struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    last_moved: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self { opened: Instant::now(), in_flight: AtomicUsize::new(0), last_moved: AtomicU64::new(0) }
    }

    fn touch(&self) {
        self.last_moved.store(self.opened.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// Returns once the connection has had no request under way and no
    /// bytes moving for `limit`.
    async fn idle(&self, limit: Duration) {
        loop {
            if self.in_flight.load(Ordering::Relaxed) > 0 {
                tokio::time::sleep(limit).await;
                continue;
            }
            let quiet_since = self.opened + Duration::from_millis(self.last_moved.load(Ordering::Relaxed));
            if quiet_since.elapsed() >= limit && self.in_flight.load(Ordering::Relaxed) == 0 {
                return;
            }
            tokio::time::sleep_until((quiet_since + limit).into()).await;
        }
    }
}

/// One request under way, from its headers until its answer's body has
/// been sent or dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An answer's body that keeps its request counted as under way.
struct TrackedBody {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(context)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The socket, noting when bytes move either way.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buffer.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(context, buffer);
        if buffer.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(context, bytes);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(context, buffers);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(context)
    }
}
