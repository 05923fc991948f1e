//! The nearmiss server: the collector API the widget calls, storage, the case engine,
//! and the widget's static files. `app(state)` builds the whole HTTP surface, so tests
//! run it in-process or over a real socket exactly as `nearmiss serve` does.
#![deny(missing_docs)]

pub mod alerts;
pub mod assets;
pub mod auth;
pub mod cases;
pub mod deadlines;
pub mod error;
pub mod headers;
pub mod ingest;
pub mod interactions;
pub mod limits;
pub mod sites;
pub mod store;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Router};
use std::net::SocketAddr;
use std::sync::Arc;

pub use alerts::Alerts;
pub use assets::Assets;
pub use limits::RateLimiter;
pub use store::Store;

/// The current time in Unix milliseconds. Injected so tests can move time.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
        }))
    }

    /// A clock that reads `now` from the given function.
    pub fn from_fn(now: impl Fn() -> i64 + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// Now, in Unix milliseconds.
    pub fn now(&self) -> i64 {
        (self.0)()
    }
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The widget's files.
    pub assets: Arc<Assets>,
    /// The time source.
    pub clock: Clock,
    /// Limits on the public API per client address.
    pub limiter: Arc<RateLimiter>,
    /// Limits on the public API per site.
    pub site_limiter: Arc<RateLimiter<i64>>,
    /// Alert delivery settings, and the worker's wake-up call.
    pub alerts: Arc<Alerts>,
}

impl AppState {
    /// State with the system clock and the given per-address limit per minute.
    pub fn new(store: Store, assets: Assets, rate_limit_per_minute: u32) -> AppState {
        AppState {
            store,
            assets: Arc::new(assets),
            clock: Clock::system(),
            limiter: Arc::new(RateLimiter::new(rate_limit_per_minute)),
            site_limiter: Arc::new(RateLimiter::new(0)),
            alerts: Alerts::new(
                "http://localhost:8080",
                None,
                "nearmiss <nearmiss@localhost>",
                false,
            ),
        }
    }

    /// The same state with these alert settings.
    pub fn with_alerts(mut self, alerts: Arc<Alerts>) -> AppState {
        self.alerts = alerts;
        self
    }

    /// The same state with a limit of `per_minute` ratings and details per site (0: none).
    pub fn with_site_limit(mut self, per_minute: u32) -> AppState {
        self.site_limiter = Arc::new(RateLimiter::new(per_minute));
        self
    }

    /// The same state with this clock.
    pub fn with_clock(mut self, clock: Clock) -> AppState {
        self.clock = clock;
        self
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let public_api = ingest::router(state.clone())
        .merge(sites::router())
        .layer(middleware::from_fn_with_state(state.clone(), limits::limit));
    let private_api = cases::router()
        .merge(alerts_router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .merge(public_api)
        .merge(private_api)
        .merge(assets::router())
        .route("/healthz", get(healthz))
        .route("/", get(|| async { "nearmiss collector: see /healthz\n" }))
        .fallback(|| async { error::ApiError::NotFound })
        .layer(middleware::from_fn(headers::secure))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state
        .store
        .run(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
        .await
    {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(err) => {
            tracing::error!(error = %err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}

/// `GET /v1/alerts?site=KEY`: each endpoint's delivery state.
fn alerts_router() -> Router<AppState> {
    #[derive(serde::Deserialize)]
    struct Query {
        site: String,
    }
    async fn states(
        State(state): State<AppState>,
        axum::extract::Query(query): axum::extract::Query<Query>,
    ) -> Result<axum::Json<serde_json::Value>, error::ApiError> {
        let endpoints = state
            .store
            .run(move |conn| match store::site_by_key(conn, &query.site)? {
                Some(site) => Ok(Some(alerts::endpoint_states(conn, site.id)?)),
                None => Ok(None),
            })
            .await?
            .ok_or(error::ApiError::UnknownSite)?;
        Ok(axum::Json(serde_json::json!({ "endpoints": endpoints })))
    }
    Router::new().route("/v1/alerts", get(states))
}

/// Serves `app(state)` on `listener` until `shutdown` completes, with client addresses
/// available to the rate limiter, and runs the alert worker and the deadline scanner.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = tokio::spawn(alerts::deliver::run(state.clone()));
    let scanner = tokio::spawn(deadlines::run(state.clone()));
    let served = axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    worker.abort();
    scanner.abort();
    served
}
