//! The front door: accepting connections, and what a client must do in time. A client
//! that sends half its headers, trickles its body or holds a connection open without a
//! request is cut off, and past a cap new connections wait in the kernel's queue
//! instead of taking the process's last file descriptors.

use super::error::ApiError;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

/// Largest body the server reads (`413` past it): a rating's limit is smaller still, and
/// desk forms fit well within it.
const MAX_BUFFERED_BODY: usize = 64 * 1024;

/// What a client must do in time, and how many may be connected at once.
#[derive(Clone, Copy, Debug)]
pub struct Door {
    /// From a connection's start, or the end of its last response, to the end of the
    /// next request's headers: idle keep-alive connections close after it too.
    pub header_timeout: Duration,
    /// From the end of the headers to the end of the body.
    pub body_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// On shutdown, how long requests in flight get to finish.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes; then lets requests in flight
/// finish for `door.shutdown_grace`, and ends the connections still open after it.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    door: Door,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(door.max_connections.max(1)));
    let (closing, closing_seen) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or the peer gave up before the accept:
                    // wait a little rather than spin.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Forget the connections that have ended.
        while connections.try_join_next().is_some() {}
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(move |mut request: Request<_>| {
            request.extensions_mut().insert(ConnectInfo(addr));
            request
        });
        let mut closing = closing_seen.clone();
        connections.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(door.header_timeout)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let mut connection = std::pin::pin!(connection);
            // `closing` changes once, when the server stops.
            let stopping = tokio::select! {
                _ = connection.as_mut() => false,
                _ = closing.changed() => true,
            };
            if stopping {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let all_closed = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(door.shutdown_grace, all_closed)
        .await
        .is_err()
    {
        tracing::warn!(grace = ?door.shutdown_grace, "connections still open after the grace period; stopping anyway");
    }
    connections.abort_all();
}

/// Reads the whole request body within `body_timeout` before any route sees it, so a
/// client trickling its body is answered `408` instead of holding a task for ever.
pub async fn body_in_time(State(door): State<Door>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let read = axum::body::to_bytes(body, MAX_BUFFERED_BODY);
    match tokio::time::timeout(door.body_timeout, read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => ApiError::TooLarge.into_response(),
        Err(_) => {
            let mut response = ApiError::TooSlow.into_response();
            // The rest of the body may still arrive; this connection cannot be reused.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            response
        }
    }
}

/// The default connection cap: three quarters of the file descriptors this process may
/// open (the rest are for the database, alert deliveries and logs), at most 10,000.
pub fn default_max_connections() -> usize {
    let descriptors = file_limit().map_or(1024, |limit| limit.rlim_cur);
    (descriptors.saturating_mul(3) / 4).clamp(16, 10_000) as usize
}

/// Raises the soft limit on open files to the hard limit, as most servers do; `serve`
/// calls it before the state (and its default connection cap) is made.
pub fn raise_file_limit() {
    let Some(limit) = file_limit() else { return };
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct passed to it.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            tracing::warn!("could not raise the open-file limit to its maximum");
        }
    }
}

fn file_limit() -> Option<libc::rlimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed to it.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0).then_some(limit)
}
