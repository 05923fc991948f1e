//! The nearmiss server: the collector API the widget calls, storage, the case engine,
//! alert delivery, and the widget's static files.
//!
//! Layers, each importing only those below it:
//! - `http`: routes, extractors, middleware, the error mapping; `http::app(state)`
//!   builds the whole HTTP surface, so tests run it in-process or over a real socket.
//! - the product: `ratings`, `cases`, `alerts`, `deadlines`, `sites`, `tokens`,
//!   `people` (the desk's users and sessions), `interactions`, `demo` (made-up history), `stats` (the numbers), `export` (CSV), `erasure` (data rights), with `bodies` (the contract's JSON bodies) and `error` (refusals).
//! - `store`: the storage interface and its SQLite engine.
//! - shared below everything: `states` (steps, statuses, kinds), `time`, `random`,
//!   and `config`.
#![deny(missing_docs)]

pub mod alerts;
pub mod bodies;
pub mod cases;
pub mod config;
pub mod deadlines;
pub mod demo;
pub mod erasure;
pub mod error;
pub mod export;
pub mod http;
pub mod interactions;
pub mod live;
pub mod people;
pub mod random;
pub mod ratings;
pub mod sites;
pub mod states;
pub mod stats;
pub mod store;
pub mod time;
pub mod tokens;

pub use alerts::Alerts;
pub use config::ServeConfig;
pub use http::{app, AppState, Assets};
pub use store::Store;
pub use time::Clock;

use std::future::IntoFuture;
use std::net::SocketAddr;

/// Serves `app(state)` on `listener` until `shutdown` completes, with client addresses
/// available to the rate limiter, and runs the alert worker and the deadline scanner.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = tokio::spawn(alerts::deliver::run(
        state.store.clone(),
        state.clock.clone(),
        state.alerts.clone(),
    ));
    let scanner = tokio::spawn(deadlines::run(
        state.store.clone(),
        state.clock.clone(),
        state.alerts.clone(),
        state.live.clone(),
    ));
    let retention = tokio::spawn(erasure::run(
        state.store.clone(),
        state.clock.clone(),
        state.retain_contacts,
    ));
    let live = state.live.clone();
    let grace = state.shutdown_grace;
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        // Desk pages listening for changes would otherwise keep their connections open.
        live.close();
        let _ = stopping.send(true);
    };
    let serving = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .into_future();
    // Requests in flight get `grace` to finish; a client that trickles or stalls cannot
    // keep the server from stopping.
    let deadline = async move {
        let _ = stopped.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(grace).await;
    };
    let served = tokio::select! {
        served = serving => served,
        () = deadline => {
            tracing::warn!(grace = ?grace, "connections still open after the grace period; stopping anyway");
            Ok(())
        }
    };
    worker.abort();
    scanner.abort();
    retention.abort();
    served
}
