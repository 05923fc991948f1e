//! HTTP: the routes, their extractors and middleware, and the mapping of the product's
//! answers and refusals to statuses and JSON bodies. The top layer: it calls the
//! product's modules, which call storage; nothing below imports it.

pub mod assets;
pub mod auth;
pub mod cases;
pub mod connections;
pub mod contacts;
pub mod desk;
pub mod error;
pub mod headers;
pub mod ingest;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod numbers;
pub mod proxies;
pub mod sites;

use crate::alerts::Alerts;
use crate::config::ServeConfig;
use crate::live::Live;
use crate::store::Store;
use crate::time::Clock;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Router};
use std::sync::Arc;

pub use assets::Assets;
pub use limits::RateLimiter;

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
    /// Open desk pages waiting for changes.
    pub live: Arc<Live>,
    /// Wrong passwords per email address.
    pub logins: Arc<RateLimiter<String>>,
    /// Wrong passwords per client address, over every email.
    pub login_addresses: Arc<RateLimiter>,
    /// Wrong API tokens per client address.
    pub wrong_tokens: Arc<RateLimiter>,
    /// Refused origins counted since they were last written.
    pub refusals: Arc<crate::origins::Refusals>,
    /// Counters and timings for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// The desk is served over https: its cookies are `Secure`.
    pub https: bool,
    /// Contact data older than this is erased (`None`: kept until erased on request).
    pub retain_contacts: Option<std::time::Duration>,
    /// Timeouts, the connection cap and the shutdown grace.
    pub door: connections::Door,
    /// Whose `X-Forwarded-For` names the client.
    pub proxies: Arc<proxies::TrustedProxies>,
}

impl AppState {
    /// State for `config`, with the system clock.
    pub fn new(store: Store, assets: Assets, config: &ServeConfig) -> AppState {
        AppState {
            store,
            assets: Arc::new(assets),
            clock: Clock::system(),
            limiter: Arc::new(RateLimiter::new(config.rate_limit)),
            site_limiter: Arc::new(RateLimiter::new(config.site_rate_limit)),
            alerts: Alerts::new(
                &config.public_url(),
                config.smtp_url.clone(),
                &config.mail_from,
                config.allow_private_targets,
            ),
            live: Arc::default(),
            logins: Arc::new(RateLimiter::new(desk::WRONG_PASSWORDS_PER_MINUTE)),
            wrong_tokens: Arc::new(RateLimiter::new(auth::WRONG_TOKENS_PER_MINUTE)),
            login_addresses: Arc::new(RateLimiter::new(desk::WRONG_PASSWORDS_PER_ADDRESS)),
            metrics: Arc::default(),
            refusals: Arc::default(),
            https: config.public_url().starts_with("https://"),
            retain_contacts: config.retain_contacts,
            door: connections::Door {
                header_timeout: config.header_timeout,
                body_timeout: config.body_timeout,
                max_connections: config
                    .max_connections
                    .unwrap_or_else(connections::default_max_connections),
                shutdown_grace: config.shutdown_grace,
            },
            proxies: Arc::new(proxies::TrustedProxies(config.trusted_proxies.clone())),
        }
    }

    /// Cases changed (after the commit): the alert worker and open desk pages are told.
    pub fn cases_changed(&self) {
        self.alerts.wake();
        self.live.changed();
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
        .route("/healthz", get(healthz))
        .layer(middleware::from_fn_with_state(state.clone(), limits::limit));
    // A page for people (a spent link is a page too, not an API refusal), rate-limited
    // like the public API.
    let rerate_page =
        assets::rerate_router().layer(middleware::from_fn_with_state(state.clone(), limits::limit));
    let private_api = cases::router()
        .merge(sites::alerts_router())
        .merge(numbers::router())
        .merge(contacts::router())
        .route("/metrics", get(metrics::scrape_with_token))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    let api = public_api
        .merge(private_api)
        .layer(middleware::from_fn(error::json_refusals));
    Router::new()
        .merge(api)
        .merge(rerate_page)
        .merge(assets::router())
        .merge(desk::router(state.clone()))
        .route("/", get(|| async { "nearmiss collector: see /healthz\n" }))
        .fallback(|| async { error::ApiError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.door,
            connections::body_in_time,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn(headers::secure))
        // Outermost: everything inside sees the client behind a trusted proxy.
        .layer(middleware::from_fn_with_state(
            state.proxies.clone(),
            proxies::client_address,
        ))
        .with_state(state)
}

/// `/metrics` alone, without a token: for `serve --metrics-listen`, an address only
/// the scraper reaches.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::scrape))
        .with_state(state)
}

/// Healthy when both a reader and the writer answer: a writer stuck failing would
/// refuse every rating.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let read = state.store.read(|tx| tx.ping()).await;
    let written = match read {
        Ok(()) => state.store.write(|tx| tx.ping()).await,
        failed => failed,
    };
    match written {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(err) => {
            tracing::error!(error = %err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}
