//! The nearmiss server: the collector API the widget calls, storage, the case engine,
//! alert delivery, and the widget's static files.
//!
//! Layers, each importing only those below it:
//! - `http`: routes, extractors, middleware, the error mapping; `http::app(state)`
//!   builds the whole HTTP surface, so tests run it in-process or over a real socket.
//! - the product: `ratings`, `cases`, `alerts`, `deadlines`, `sites`, `tokens`,
//!   `people` (the desk's users and sessions), `interactions`, `origins` (refused origins), `demo` (made-up history), `stats` (the numbers), `export` (CSV), `erasure` (data rights), with `bodies` (the contract's JSON bodies) and `error` (refusals).
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
pub mod hours;
pub mod http;
pub mod interactions;
pub mod live;
pub mod origins;
pub mod people;
pub mod random;
pub mod ratings;
pub mod sites;
pub mod states;
pub mod stats;
pub mod store;
pub mod time;
pub mod tokens;
pub mod words;

pub use alerts::Alerts;
pub use config::ServeConfig;
pub use http::{app, AppState, Assets};
pub use store::Store;
pub use time::Clock;

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
    // Servers sharing one database hear of each other's alert messages and case changes.
    let (alerts, live) = (state.alerts.clone(), state.live.clone());
    let _listening = state
        .store
        .listen(move || alerts.wake(), move || live.changed())
        .map_err(std::io::Error::other)?;
    let live = state.live.clone();
    let door = state.door;
    let shutdown = async move {
        shutdown.await;
        // Desk pages listening for changes would otherwise keep their connections open.
        live.close();
    };
    http::connections::serve(listener, app(state), door, shutdown).await;
    worker.abort();
    scanner.abort();
    retention.abort();
    Ok(())
}
