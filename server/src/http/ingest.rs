//! The public collector API, called by the widget from the business's pages:
//! `POST /v1/ratings`, `POST /v1/ratings/{id}/details` and `POST /v1/ratings/{id}/score`,
//! with their CORS rules.
//!
//! A rating is answered 201 only after its transaction (rating + case) is committed.

use super::error::ApiError;
use super::json::JsonBody;
use super::AppState;
use crate::error::Error;
use crate::ratings;
use crate::sites::{self, Site};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use nearmiss_core::{Details, Rating, ScoreChange};

/// The collector routes, with CORS answered per site.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/ratings", post(create_rating))
        .route("/v1/ratings/{id}/details", post(save_details))
        .route("/v1/ratings/{id}/score", post(change_score))
        .layer(middleware::from_fn_with_state(state, cors))
}

async fn create_rating(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(rating): JsonBody<Rating>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let site = find_site(&state, &rating.site, now).await?;
    let (key, site_id) = (site.key.clone(), site.id);
    let origin = foreign_origin(&headers);
    refuse_wrong_origin(&state, &site, origin, now).await?;
    let recorded = ratings::record(&state.store, site, rating, origin, now).await?;
    if recorded.new {
        // Only what the site accepted counts against its limit: junk sent in its name
        // from elsewhere cannot lock its customers out.
        let _ = state.site_limiter.check(site_id, now);
        state.metrics.rating(&key, !recorded.answer.flagged);
        if recorded.answer.case.is_some() {
            // A near miss (or a re-rating) queued alerts; a perfect score queued none.
            state.cases_changed();
        }
        let answer = &recorded.answer;
        tracing::info!(
            id = %answer.id, site = %key, flagged = answer.flagged,
            case = answer.case.as_ref().map(|c| c.reference.as_str()).unwrap_or("-"),
            "rating stored"
        );
    }
    Ok((StatusCode::CREATED, Json(recorded.answer)).into_response())
}

async fn save_details(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(details): JsonBody<Details>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let site = find_site(&state, &details.site, now).await?;
    let (key, site_id) = (site.key.clone(), site.id);
    let origin = foreign_origin(&headers);
    refuse_wrong_origin(&state, &site, origin, now).await?;
    let (answer, has_case) =
        ratings::add_details(&state.store, site, id, details, origin, now).await?;
    let _ = state.site_limiter.check(site_id, now);
    if has_case {
        state.cases_changed();
    }
    tracing::info!(id = %answer.id, site = %key, "details stored");
    Ok(Json(answer).into_response())
}

/// `POST /v1/ratings/{id}/score`: the customer takes a mis-tap back.
async fn change_score(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(change): JsonBody<ScoreChange>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let site = find_site(&state, &change.site, now).await?;
    let (key, site_id) = (site.key.clone(), site.id);
    let origin = foreign_origin(&headers);
    refuse_wrong_origin(&state, &site, origin, now).await?;
    let score = change.score;
    let (answer, case_changed) =
        ratings::change_score(&state.store, site, id, change, origin, now).await?;
    let _ = state.site_limiter.check(site_id, now);
    if case_changed {
        state.cases_changed();
    }
    tracing::info!(id = %answer.id, site = %key, score, "score changed");
    Ok(Json(answer).into_response())
}

/// The site with this key, if it is within its own rate limit.
async fn find_site(state: &AppState, key: &str, now: i64) -> Result<Site, ApiError> {
    let site = sites::find(&state.store, key, now).await?;
    match state.site_limiter.exhausted(&site.id, now) {
        Some(retry_after) => Err(ApiError::RateLimited { retry_after }),
        None => Ok(site),
    }
}

/// Refuses a page on an origin the site does not allow, counting it for the owner
/// (`ratings` checks again; this is where the refusal is seen).
async fn refuse_wrong_origin(
    state: &AppState,
    site: &Site,
    origin: Option<&str>,
    now: i64,
) -> Result<(), ApiError> {
    match origin {
        Some(origin) if !site.allows_origin(origin) => {
            note_refusal(state, site, origin, now).await;
            Err(Error::OriginRefused.into())
        }
        _ => Ok(()),
    }
}

/// Counts a refused origin for the site's owner; a failure to count is logged, never
/// the answer.
pub(super) async fn note_refusal(state: &AppState, site: &Site, origin: &str, now: i64) {
    match state.refusals.note(&state.store, site, origin, now).await {
        Ok(true) => state.alerts.wake(),
        Ok(false) => {}
        Err(err) => tracing::error!(error = %err, "counting a refused origin failed"),
    }
}

/// The request's `Origin`, unless there is none or it is this server's own.
pub(super) fn foreign_origin(headers: &HeaderMap) -> Option<&str> {
    let origin = headers.get(header::ORIGIN)?;
    // An origin that is not text cannot be one of the site's: it is refused.
    let text = origin.to_str().unwrap_or("\u{0}");
    (!is_same_host(text, headers)).then_some(text)
}

fn is_same_host(origin: &str, headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    matches!((host, authority), (Some(h), Some(a)) if h.eq_ignore_ascii_case(a))
}

/// CORS for the collector: preflights carry no site key, so they are allowed for an
/// origin that any site allows; the handler then checks the origin against the site.
async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let allowed = match origin.to_str() {
        Ok(text) if is_same_host(text, request.headers()) => true,
        Ok(text) => {
            let known = state.store.origin_is_known(text, state.clock.now()).await;
            match known {
                Ok(known) => known,
                Err(err) => return ApiError::from(err).into_response(),
            }
        }
        Err(_) => false,
    };
    if request.method() == Method::OPTIONS {
        if !allowed {
            return ApiError::from(crate::error::Error::OriginRefused).into_response();
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        return response;
    }
    let mut response = next.run(request).await;
    // A refusal is readable by any page, so a widget on the wrong origin learns it was
    // refused (and drops the rating) instead of taking it for a network failure.
    if allowed || response.status().is_client_error() {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}
