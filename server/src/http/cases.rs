//! The private case routes (behind an API token): list, get, and record a step.

use super::error::ApiError;
use super::json::JsonBody;
use super::AppState;
use crate::bodies::{CaseList, CaseView, StepRequest};
use crate::cases;
use crate::tokens::Caller;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;

/// `GET /v1/cases`, `GET /v1/cases/{ref}`, `POST /v1/cases/{ref}/steps`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/cases", get(list))
        .route("/v1/cases/{reference}", get(one))
        .route("/v1/cases/{reference}/steps", post(add_step))
}

/// Filters for `GET /v1/cases`.
#[derive(Deserialize)]
struct ListQuery {
    /// `open`, `overdue` or `closed`.
    status: Option<String>,
    /// A site key.
    site: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<ListQuery>,
) -> Result<Json<CaseList>, ApiError> {
    let now = state.clock.now();
    let listing = cases::Listing {
        status: query.status,
        site: query.site,
        scope: caller.sites,
        ..Default::default()
    };
    Ok(Json(cases::list(&state.store, listing, now).await?))
}

async fn one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(reference): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let now = state.clock.now();
    Ok(Json(
        cases::get(&state.store, reference, caller.sites, now).await?,
    ))
}

async fn add_step(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(reference): Path<String>,
    JsonBody(request): JsonBody<StepRequest>,
) -> Result<(StatusCode, Json<CaseView>), ApiError> {
    // Only a token for every site (the owners') may record a step in someone's name.
    let actor = request
        .actor
        .clone()
        .filter(|a| caller.is_owner() && !a.trim().is_empty())
        .unwrap_or_else(|| caller.name.clone());
    let now = state.clock.now();
    let by = cases::Actor {
        name: actor,
        user: None,
        email: None,
        scope: caller.sites,
    };
    let case = cases::add_step(&state.store, reference, request, by, now).await?;
    state.cases_changed();
    Ok((StatusCode::CREATED, Json(case)))
}
