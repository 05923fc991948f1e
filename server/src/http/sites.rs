//! `GET /v1/sites/{key}/widget`: what the widget needs to render a site's questions
//! (public, cacheable), and `GET /v1/alerts?site=KEY` (private): each alert endpoint's
//! delivery state.

use super::error::ApiError;
use super::AppState;
use crate::sites;
use crate::store::EndpointState;
use crate::tokens::Caller;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

/// The public widget-settings route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/sites/{key}/widget", get(widget_settings))
}

/// The private alert-state route.
pub fn alerts_router() -> Router<AppState> {
    Router::new().route("/v1/alerts", get(alert_states))
}

/// The settings say whether the asking page's origin may send ratings, so the loader
/// keeps the widget hidden on a page whose ratings would be refused (and the refusal
/// is counted for the owner to see).
async fn widget_settings(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(asked): Query<LanguageQuery>,
    headers: HeaderMap,
) -> Response {
    // Readable by any page, refusals too: a widget whose key names no site says so on
    // the console instead of taking the refusal for a network failure.
    let mut response = match settings_for(&state, &key, &asked, &headers).await {
        Ok(settings) => settings.into_response(),
        Err(refused) => refused.into_response(),
    };
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::HeaderValue::from_static("*"),
    );
    response
}

/// `?lang=de-AT,de`: the page's `data-lang`, which the browser's languages follow.
#[derive(Deserialize)]
struct LanguageQuery {
    #[serde(default)]
    lang: String,
}

async fn settings_for(
    state: &AppState,
    key: &str,
    asked: &LanguageQuery,
    headers: &HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let now = state.clock.now();
    let site = sites::find(&state.store, key, now).await?;
    let origin = super::ingest::foreign_origin(headers);
    let allowed = origin.is_none_or(|origin| site.allows_origin(origin));
    if let (false, Some(origin)) = (allowed, origin) {
        super::ingest::note_refusal(state, &site, origin, now).await;
    }
    let browser = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let languages = format!("{},{browser}", asked.lang);
    let body = Json(sites::widget_settings(&site, allowed, &languages)).into_response();
    Ok((
        [
            (header::CACHE_CONTROL, "public, max-age=60"),
            (header::VARY, "Origin, Accept-Language"),
        ],
        body,
    ))
}

#[derive(Deserialize)]
struct AlertQuery {
    site: String,
}

/// `GET /v1/alerts`.
#[derive(Serialize)]
struct AlertStates {
    endpoints: Vec<EndpointState>,
}

async fn alert_states(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<AlertQuery>,
) -> Result<Json<AlertStates>, ApiError> {
    let site = sites::find(&state.store, &query.site, state.clock.now()).await?;
    if caller
        .sites
        .as_ref()
        .is_some_and(|sites| !sites.contains(&site.id))
    {
        return Err(crate::error::Error::UnknownSite.into());
    }
    let endpoints = crate::alerts::endpoint_states(&state.store, site.id).await?;
    Ok(Json(AlertStates { endpoints }))
}
