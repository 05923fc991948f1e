//! The private numbers routes (behind an API token): `GET /v1/stats` and
//! `GET /v1/export.csv`.

use super::error::ApiError;
use super::AppState;
use crate::bodies::Stats;
use crate::error::Error;
use crate::export;
use crate::stats::{self, Period};
use crate::tokens::Caller;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;

/// `GET /v1/stats`, `GET /v1/export.csv`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/stats", get(stats))
        .route("/v1/export.csv", get(export_csv))
}

/// A site and a period, as the query string gives them (and, for the export, whether
/// to add contact details).
#[derive(Deserialize)]
pub struct PeriodQuery {
    /// A site key; every site when absent.
    pub site: Option<String>,
    /// `YYYY-MM-DD`.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, included.
    pub to: Option<String>,
    /// `1` for the contact columns.
    pub contact: Option<String>,
}

/// The sites `key` names (every site `caller` sees when none), or `404 unknown_site`
/// (also for a site the caller's token is not for).
pub async fn sites_of(
    state: &AppState,
    caller: &Caller,
    key: Option<String>,
) -> Result<Option<Vec<i64>>, ApiError> {
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return Ok(caller.sites.clone());
    };
    let id = state
        .store
        .read(move |tx| tx.site_id_by_any_key(&key))
        .await?
        .filter(|id| caller.sites.as_ref().is_none_or(|sites| sites.contains(id)))
        .ok_or(Error::UnknownSite)?;
    Ok(Some(vec![id]))
}

async fn stats(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<Stats>, ApiError> {
    let now = state.clock.now();
    let period = Period::parse(query.from.as_deref(), query.to.as_deref(), now)?;
    let sites = sites_of(&state, &caller, query.site).await?;
    Ok(Json(
        stats::compute(&state.store, sites, period, now).await?,
    ))
}

/// Every rating of the period as CSV. Only a token for every site (the owners') may ask
/// for the contact columns (`contact=1`).
async fn export_csv(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let period = Period::parse(
        query.from.as_deref(),
        query.to.as_deref(),
        state.clock.now(),
    )?;
    let contact = query.contact.as_deref() == Some("1");
    if contact && !caller.is_owner() {
        return Err(ApiError::OwnersOnly);
    }
    let sites = sites_of(&state, &caller, query.site.clone()).await?;
    Ok(csv_download(
        &state,
        sites,
        period,
        contact,
        query.site.as_deref(),
    ))
}

/// A streamed CSV download of `sites`' ratings over `period`.
pub fn csv_download(
    state: &AppState,
    sites: Option<Vec<i64>>,
    period: Period,
    contact: bool,
    site_key: Option<&str>,
) -> Response {
    let store = state.store.clone();
    let first = Some((Some(export::header(contact)), None));
    let pages = futures_util::stream::unfold(first, move |cursor| {
        let (store, sites) = (store.clone(), sites.clone());
        async move {
            let (header, after) = cursor?;
            match export::page(&store, sites, period, after, contact).await {
                Ok((text, next)) => {
                    let chunk = header.unwrap_or_default() + &text;
                    let more = next.map(|next| (None, Some(next)));
                    Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), more))
                }
                Err(err) => {
                    // The download ends short, visibly to the client, rather than silently complete.
                    tracing::error!(error = %err, "export failed part way");
                    Some((Err(std::io::Error::other("export failed")), None))
                }
            }
        }
    });
    let name = format!(
        "nearmiss-{}-{}-{}.csv",
        site_key.unwrap_or("all"),
        period.from,
        period.to
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", name.replace(['"', '\\'], "")),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(pages),
    )
        .into_response()
}
