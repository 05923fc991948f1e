//! `GET /metrics` in the Prometheus text format: ratings by site and perfect, cases open
//! and overdue, alerts pending and failed, and every HTTP request by route, method and
//! status with its duration. Counters are per process (they start at zero with it);
//! the case and alert figures are read from the database when scraped, so every
//! process reports the same ones.

use super::AppState;
use crate::states::Status;
use crate::store::StoreError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RatingLabels {
    site: String,
    perfect: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// Request durations from 0.5 ms to about 8 s.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    ratings: Family<RatingLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    cases_open: Gauge,
    cases_overdue: Gauge,
    alerts_pending: Gauge,
    alerts_failed: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let ratings = Family::<RatingLabels, Counter>::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram,
        );
        let (cases_open, cases_overdue) = (Gauge::default(), Gauge::default());
        let (alerts_pending, alerts_failed) = (Gauge::default(), Gauge::default());
        registry.register(
            "nearmiss_ratings",
            "Ratings stored, by site key and whether perfect",
            ratings.clone(),
        );
        registry.register("nearmiss_cases_open", "Cases open now", cases_open.clone());
        registry.register(
            "nearmiss_cases_overdue",
            "Open cases past a deadline now",
            cases_overdue.clone(),
        );
        registry.register(
            "nearmiss_alerts_pending",
            "Alert messages waiting to be delivered",
            alerts_pending.clone(),
        );
        registry.register(
            "nearmiss_alerts_failed",
            "Alert messages given up on",
            alerts_failed.clone(),
        );
        registry.register(
            "nearmiss_http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        registry.register(
            "nearmiss_http_request_duration_seconds",
            "HTTP request durations by route",
            durations.clone(),
        );
        Metrics {
            registry,
            ratings,
            requests,
            durations,
            cases_open,
            cases_overdue,
            alerts_pending,
            alerts_failed,
        }
    }
}

impl Metrics {
    /// A rating was stored.
    pub fn rating(&self, site: &str, perfect: bool) {
        let labels = RatingLabels {
            site: site.to_owned(),
            perfect: perfect.to_string(),
        };
        self.ratings.get_or_create(&labels).inc();
    }
}

/// Middleware: counts and times every request by its route (the pattern, like
/// `/v1/cases/:reference`, so the labels stay few).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // `/v1/cases/:reference`: braces in label values trip up some scrapers' parsers.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched".to_owned(), |path| {
            path.as_str().replace('{', ":").replace('}', "")
        });
    // Made-up methods would each make a new series: they are all "other".
    let method = match request.method().as_str() {
        m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => m,
        _ => "other",
    }
    .to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels {
        route: route.clone(),
        method,
        status: response.status().as_u16(),
    };
    state.metrics.requests.get_or_create(&labels).inc();
    state
        .metrics
        .durations
        .get_or_create(&RouteLabels { route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics` behind a token: every site's figures, so a token for every site.
pub async fn scrape_with_token(
    State(state): State<AppState>,
    axum::Extension(caller): axum::Extension<crate::tokens::Caller>,
) -> Response {
    if !caller.is_owner() {
        return super::error::ApiError::OwnersOnly.into_response();
    }
    scrape(State(state)).await
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>) -> Response {
    let now = state.clock.now();
    let counts = state
        .store
        .read(move |tx| {
            Ok::<_, StoreError>((
                tx.count_cases(Status::Open, None)?,
                tx.count_cases(Status::Open, Some(now))?,
                tx.count_messages(false)?,
                tx.count_messages(true)?,
            ))
        })
        .await;
    let (open, overdue, pending, failed) = match counts {
        Ok(counts) => counts,
        Err(err) => {
            tracing::error!(error = %err, "reading the metrics failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let metrics = &state.metrics;
    metrics.cases_open.set(open);
    metrics.cases_overdue.set(overdue);
    metrics.alerts_pending.set(pending);
    metrics.alerts_failed.set(failed);
    let mut text = String::new();
    if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &metrics.registry) {
        tracing::error!(error = %err, "encoding the metrics failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
