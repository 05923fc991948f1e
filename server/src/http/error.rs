//! The one error type of the HTTP API, and its JSON body:
//! `{"error": {"code": "…", "message": "…", "field": "…"}}`.
//!
//! Internal failures are logged with their cause and shown to the client only as a
//! generic 500: internals never leak.

use crate::error::Error;
use crate::store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// Everything an API call can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The product refused, or storage failed.
    #[error(transparent)]
    Product(#[from] Error),
    /// The body is not JSON (400).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// A value in the body has the wrong type or is missing (422).
    #[error("invalid value: {message}")]
    InvalidValue {
        /// Machine-readable code.
        code: &'static str,
        /// The field's path.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// No valid API token (401).
    #[error("unauthorized")]
    Unauthorized,
    /// The token is limited to some sites, and this needs one for every site (403).
    #[error("forbidden")]
    OwnersOnly,
    /// No such route (404).
    #[error("not found")]
    NotFound,
    /// The body is larger than allowed (413).
    #[error("body too large")]
    TooLarge,
    /// The body did not arrive in time (408).
    #[error("body too slow")]
    TooSlow,
    /// The body is not JSON by its media type (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Too many requests; try again after this many seconds (429).
    #[error("rate limited")]
    RateLimited {
        /// Seconds until a retry may succeed.
        retry_after: u64,
    },
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        ApiError::Product(Error::Store(err))
    }
}

/// The `error` of the body.
#[derive(Serialize)]
struct ErrorBody {
    code: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

#[derive(Serialize)]
struct Envelope {
    error: ErrorBody,
}

fn body(code: &'static str, field: Option<&str>, message: &str) -> ErrorBody {
    ErrorBody {
        code,
        message: message.to_owned(),
        field: field.map(str::to_owned),
    }
}

fn product(err: &Error) -> (StatusCode, ErrorBody) {
    use Error::*;
    match err {
        Validation(err) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            body(err.code(), Some(err.field), err.message()),
        ),
        Invalid {
            code,
            field,
            message,
        } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            body(code, Some(field), message),
        ),
        OriginRefused => (
            StatusCode::FORBIDDEN,
            body(
                "origin_refused",
                None,
                "This page's origin is not allowed to send ratings for this site.",
            ),
        ),
        UnknownSite => (
            StatusCode::NOT_FOUND,
            body("unknown_site", Some("site"), "No site has this key."),
        ),
        UnknownRating => (
            StatusCode::NOT_FOUND,
            body(
                "unknown_rating",
                Some("id"),
                "This site has no rating with this id.",
            ),
        ),
        TokenRefused(refusal) => (
            StatusCode::FORBIDDEN,
            body("token_refused", Some("token"), refusal.message()),
        ),
        InteractionRated => (
            StatusCode::CONFLICT,
            body(
                "interaction_rated",
                Some("interaction"),
                "This interaction has already been rated.",
            ),
        ),
        UnknownCase => (
            StatusCode::NOT_FOUND,
            body("unknown_case", Some("ref"), "No case has this reference."),
        ),
        CaseClosed => (
            StatusCode::CONFLICT,
            body("case_closed", None, "The case is closed."),
        ),
        CannotClose(missing) => (
            StatusCode::CONFLICT,
            body(
                "cannot_close",
                Some("step"),
                &format!("A case can be closed only after: {missing}."),
            ),
        ),
        IdConflict => (
            StatusCode::CONFLICT,
            body(
                "id_conflict",
                Some("id"),
                "A different rating was already sent with this id.",
            ),
        ),
        DetailsClosed => (
            StatusCode::CONFLICT,
            body(
                "details_closed",
                None,
                "Details can be changed for 24 hours after the rating.",
            ),
        ),
        ScoreClosed => (
            StatusCode::CONFLICT,
            body(
                "score_closed",
                Some("score"),
                "A score can be changed for 10 minutes after it was given.",
            ),
        ),
        EditRefused => (
            StatusCode::FORBIDDEN,
            body(
                "edit_refused",
                Some("edit"),
                "Only the browser that sent the rating may change it: send the rating's edit secret.",
            ),
        ),
        TooManyChanges => (
            StatusCode::CONFLICT,
            body(
                "too_many_changes",
                Some("score"),
                "This score has been changed as often as it may be.",
            ),
        ),
        TooManyDetails => (
            StatusCode::CONFLICT,
            body(
                "too_many_details",
                None,
                "These details have been sent as often as they may be.",
            ),
        ),
        Store(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            body(
                "internal",
                None,
                "Something went wrong on our side; please try again.",
            ),
        ),
    }
}

impl ApiError {
    fn parts(&self) -> (StatusCode, ErrorBody) {
        match self {
            ApiError::Product(err) => product(err),
            ApiError::Malformed(detail) => {
                (StatusCode::BAD_REQUEST, body("malformed", None, detail))
            }
            ApiError::InvalidValue {
                code,
                field,
                message,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                body(code, field.as_deref(), message),
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                body(
                    "unauthorized",
                    None,
                    "Send a valid API token as Authorization: Bearer <token>.",
                ),
            ),
            ApiError::OwnersOnly => (
                StatusCode::FORBIDDEN,
                body(
                    "forbidden",
                    None,
                    "This needs a token for every site; this one is limited to some.",
                ),
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                body("not_found", None, "Nothing is here."),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                body("too_large", None, "The request body is too large."),
            ),
            ApiError::TooSlow => (
                StatusCode::REQUEST_TIMEOUT,
                body(
                    "request_timeout",
                    None,
                    "The request body did not arrive in time.",
                ),
            ),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                body(
                    "unsupported_media_type",
                    None,
                    "Send JSON with Content-Type: application/json.",
                ),
            ),
            ApiError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                body(
                    "rate_limited",
                    None,
                    "Too many requests; please try again shortly.",
                ),
            ),
        }
    }
}

/// Middleware for the API: a refusal made by the router or an extractor (a path that is
/// not UTF-8, an unreadable query string, a method the path does not take) comes out
/// as the same JSON error body as every other, not as plain text or an empty body.
pub async fn json_refusals(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This path does not take this method; see the Allow header.",
        ),
        StatusCode::BAD_REQUEST => (
            "malformed",
            "The request's path or query string could not be read.",
        ),
        StatusCode::NOT_FOUND => ("not_found", "Nothing is here."),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "The request body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Send JSON with Content-Type: application/json.",
        ),
        status if status.is_server_error() => (
            "internal",
            "Something went wrong on our side; please try again.",
        ),
        _ => ("invalid", "The request could not be read."),
    };
    let (parts, _) = response.into_parts();
    let mut refusal = (
        status,
        Json(Envelope {
            error: body(code, None, message),
        }),
    )
        .into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = parts.headers.get(&name) {
            refusal.headers_mut().insert(name, value.clone());
        }
    }
    refusal
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Product(Error::Store(err)) = &self {
            tracing::error!(error = %err, "request failed");
        }
        let (status, error) = self.parts();
        let mut response = (status, Json(Envelope { error })).into_response();
        if let ApiError::RateLimited { retry_after } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after.max(1).into());
        }
        response
    }
}
