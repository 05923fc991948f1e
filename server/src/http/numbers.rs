//! The private numbers routes (behind an API token): `GET /v1/stats`.

use super::error::ApiError;
use super::AppState;
use crate::bodies::Stats;
use crate::error::Error;
use crate::stats::{self, Period};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

/// `GET /v1/stats`.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/stats", get(stats))
}

/// A site and a period, as the query string gives them.
#[derive(Deserialize)]
struct PeriodQuery {
    site: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The sites `key` names (every site when none), or `404 unknown_site`.
async fn sites_of(state: &AppState, key: Option<String>) -> Result<Option<Vec<i64>>, ApiError> {
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    let id = state
        .store
        .read(move |tx| tx.site_id_by_any_key(&key))
        .await?
        .ok_or(Error::UnknownSite)?;
    Ok(Some(vec![id]))
}

async fn stats(
    State(state): State<AppState>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Stats>, ApiError> {
    let now = state.clock.now();
    let period = Period::parse(query.from.as_deref(), query.to.as_deref(), now)?;
    let sites = sites_of(&state, query.site).await?;
    Ok(Json(
        stats::compute(&state.store, sites, period, now).await?,
    ))
}
