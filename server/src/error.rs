//! The one error type of the HTTP API, and its JSON body:
//! `{"error": {"code": "…", "message": "…", "field": "…"}}`.
//!
//! Internal failures are logged with their cause and shown to the client only as a
//! generic 500: internals never leak.

use crate::store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use nearmiss_core::ValidationError;
use serde_json::json;

/// Everything an API call can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON of the right shape (400).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// A value has the wrong type (422).
    #[error("invalid value: {message}")]
    InvalidValue {
        /// Machine-readable code.
        code: &'static str,
        /// The field's path.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A value failed the core's validation (422).
    #[error("{0}")]
    Validation(#[from] ValidationError),
    /// The request's `Origin` is not allowed for the site (403).
    #[error("origin refused")]
    OriginRefused,
    /// No site has this key (404).
    #[error("unknown site")]
    UnknownSite,
    /// No rating of this site has this id (404).
    #[error("unknown rating")]
    UnknownRating,
    /// The signed interaction token is missing, invalid or expired (403).
    #[error("token refused")]
    TokenRefused(crate::interactions::Refusal),
    /// This signed interaction was already rated (409).
    #[error("interaction already rated")]
    InteractionRated,
    /// No case has this reference (404).
    #[error("unknown case")]
    UnknownCase,
    /// No valid API token (401).
    #[error("unauthorized")]
    Unauthorized,
    /// The case is closed; a re-rating reopens it (409).
    #[error("case closed")]
    CaseClosed,
    /// The closing rule is not met; lists what is missing (409).
    #[error("cannot close: {0}")]
    CannotClose(String),
    /// No such route (404).
    #[error("not found")]
    NotFound,
    /// The same rating id was sent with other content (409).
    #[error("id conflict")]
    IdConflict,
    /// Details may be changed for 24 hours after the rating (409).
    #[error("details window closed")]
    DetailsClosed,
    /// The body is larger than allowed (413).
    #[error("body too large")]
    TooLarge,
    /// The body is not `application/json` (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Too many requests; try again after this many seconds (429).
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
    /// Storage failed (500, logged).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, Option<String>, String) {
        use ApiError::*;
        let msg = |m: &str| m.to_owned();
        match self {
            Malformed(detail) => (StatusCode::BAD_REQUEST, "malformed", None, detail.clone()),
            InvalidValue {
                code,
                field,
                message,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                field.clone(),
                message.clone(),
            ),
            Validation(err) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                err.code(),
                Some(err.field.to_owned()),
                msg(err.message()),
            ),
            OriginRefused => (
                StatusCode::FORBIDDEN,
                "origin_refused",
                None,
                msg("This page's origin is not allowed to send ratings for this site."),
            ),
            UnknownSite => (
                StatusCode::NOT_FOUND,
                "unknown_site",
                Some("site".into()),
                msg("No site has this key."),
            ),
            UnknownRating => (
                StatusCode::NOT_FOUND,
                "unknown_rating",
                Some("id".into()),
                msg("This site has no rating with this id."),
            ),
            NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                None,
                msg("Nothing is here."),
            ),
            TokenRefused(refusal) => (
                StatusCode::FORBIDDEN,
                "token_refused",
                Some("token".into()),
                msg(refusal.message()),
            ),
            InteractionRated => (
                StatusCode::CONFLICT,
                "interaction_rated",
                Some("interaction".into()),
                msg("This interaction has already been rated."),
            ),
            UnknownCase => (
                StatusCode::NOT_FOUND,
                "unknown_case",
                Some("ref".into()),
                msg("No case has this reference."),
            ),
            Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                None,
                msg("Send a valid API token as Authorization: Bearer <token>."),
            ),
            CaseClosed => (
                StatusCode::CONFLICT,
                "case_closed",
                None,
                msg("The case is closed."),
            ),
            CannotClose(missing) => (
                StatusCode::CONFLICT,
                "cannot_close",
                Some("step".into()),
                format!("A case can be closed only after: {missing}."),
            ),
            IdConflict => (
                StatusCode::CONFLICT,
                "id_conflict",
                Some("id".into()),
                msg("A different rating was already sent with this id."),
            ),
            DetailsClosed => (
                StatusCode::CONFLICT,
                "details_closed",
                None,
                msg("Details can be changed for 24 hours after the rating."),
            ),
            TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                None,
                msg("The request body is too large."),
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                None,
                msg("Send JSON with Content-Type: application/json."),
            ),
            RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                None,
                msg("Too many requests; please try again shortly."),
            ),
            Store(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                None,
                msg("Something went wrong on our side; please try again."),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Store(err) = &self {
            tracing::error!(error = %err, "request failed");
        }
        let (status, code, field, message) = self.parts();
        let mut error = json!({ "code": code, "message": message });
        if let Some(field) = field {
            error["field"] = field.into();
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if let ApiError::RateLimited { retry_after } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after.max(1).into());
        }
        response
    }
}
