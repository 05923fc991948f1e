//! The public collector API, called by the widget from the business's pages:
//! `POST /v1/ratings` and `POST /v1/ratings/{id}/details`, with their CORS rules.
//!
//! A rating is answered 201 only after its transaction (rating + case) is committed.

use crate::error::ApiError;
use crate::sites::Site;
use crate::store::{self, Recorded, StoredRating};
use crate::AppState;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use nearmiss_core::{Details, Rating};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// Largest accepted request body. A rating is a few hundred bytes; details with a
/// 2,000-character comment of 4-byte characters stay well under this.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Details may be added or replaced for this long after the rating.
const DETAILS_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// The collector routes, with CORS answered per site.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v1/ratings", post(create_rating))
        .route("/v1/ratings/{id}/details", post(save_details))
        .layer(middleware::from_fn_with_state(state, cors))
}

async fn create_rating(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(rating): JsonBody<Rating>,
) -> Result<Response, ApiError> {
    let site = find_site(&state, &rating.site).await?;
    rating.validate(site.settings.scale)?;
    check_origin(&site, &headers)?;
    let now = state.clock.now();
    let signed = check_token(&site, &rating, now)?;
    // Serialising a struct is deterministic: equal content gives equal text.
    let content = serde_json::to_string(&rating).unwrap_or_default();
    let recorded = {
        let (site, rating, content) = (site.clone(), rating.clone(), content.clone());
        state
            .store
            .run(move |conn| store::record_rating(conn, &site, &rating, signed, &content, now))
            .await?
    };
    let stored = match recorded {
        Recorded::UnknownCase => return Err(ApiError::UnknownCase),
        Recorded::InteractionRated => return Err(ApiError::InteractionRated),
        Recorded::New(stored) => {
            state.alerts.wake();
            tracing::info!(
                id = %stored.id, site = %site.key, score = stored.score, flagged = stored.flagged,
                case = stored.case.as_ref().map(|c| c.reference.as_str()).unwrap_or("-"),
                "rating stored"
            );
            stored
        }
        Recorded::Existing(stored) if stored.content == content => stored,
        Recorded::Existing(_) => return Err(ApiError::IdConflict),
    };
    Ok((StatusCode::CREATED, Json(rating_answer(&site, &stored))).into_response())
}

/// Checks the signed interaction token; `true` when the rating carries a valid one.
/// A re-rating needs none: its link's token is its credential.
fn check_token(site: &Site, rating: &Rating, now_ms: i64) -> Result<bool, ApiError> {
    use crate::interactions::{verify, Refusal};
    if rating.rerate.is_some() {
        return Ok(false);
    }
    let Some(token) = &rating.token else {
        return match site.settings.require_token {
            true => Err(ApiError::TokenRefused(Refusal::Missing)),
            false => Ok(false),
        };
    };
    let interaction = rating
        .interaction
        .as_deref()
        .ok_or(ApiError::TokenRefused(Refusal::NoInteraction))?;
    verify(&site.secret, interaction, token, now_ms / 1000).map_err(ApiError::TokenRefused)?;
    Ok(true)
}

/// The 201 body: the same for the first answer and every replay.
fn rating_answer(site: &Site, stored: &StoredRating) -> Value {
    let case = stored.case.as_ref().map(|case| {
        json!({
            "ref": case.reference,
            "promise": {
                "who": site.settings.owner,
                "by": crate::cases::rfc3339(case.ack_due_at),
            },
        })
    });
    json!({ "id": stored.id, "flagged": stored.flagged, "case": case })
}

async fn save_details(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(details): JsonBody<Details>,
) -> Result<Response, ApiError> {
    let site = find_site(&state, &details.site).await?;
    details.validate(&site.settings.reasons)?;
    check_origin(&site, &headers)?;
    let now = state.clock.now();
    let site_id = site.id;
    let case = state
        .store
        .run(move |conn| {
            let tx = conn.transaction()?;
            let rating = match store::rating_by_id(&tx, &id)? {
                Some(rating) if rating.site_id == site_id => rating,
                _ => return Ok(Err(ApiError::UnknownRating)),
            };
            if now - rating.created_at > DETAILS_WINDOW_MS {
                return Ok(Err(ApiError::DetailsClosed));
            }
            store::save_details(&tx, &rating.id, &details, now)?;
            crate::cases::details_arrived(&tx, &rating.id, now)?;
            tx.commit()?;
            Ok(Ok((rating.id, rating.case.map(|c| c.reference))))
        })
        .await??;
    let (id, reference) = case;
    if reference.is_some() {
        state.alerts.wake();
    }
    tracing::info!(id = %id, site = %site.key, "details stored");
    Ok(Json(json!({ "id": id, "case": reference })).into_response())
}

/// The site with this key, if it is within its own rate limit.
async fn find_site(state: &AppState, key: &str) -> Result<Site, ApiError> {
    let site = find_site_unlimited(state, key).await?;
    state
        .site_limiter
        .check(site.id, state.clock.now())
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    Ok(site)
}

async fn find_site_unlimited(state: &AppState, key: &str) -> Result<Site, ApiError> {
    if key.trim().is_empty() {
        return Err(nearmiss_core::ValidationError {
            kind: nearmiss_core::ErrorKind::Required,
            field: "site",
        }
        .into());
    }
    let key = key.to_owned();
    state
        .store
        .run(move |conn| store::site_by_key(conn, &key))
        .await?
        .ok_or(ApiError::UnknownSite)
}

/// A browser's request must come from one of the site's origins, or from this server's
/// own pages. Requests without `Origin` are not from a browser page; tokens guard those.
fn check_origin(site: &Site, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    if site.settings.origins.iter().any(|o| o == origin) || is_same_host(origin, headers) {
        Ok(())
    } else {
        Err(ApiError::OriginRefused)
    }
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
            let text = text.to_owned();
            match state
                .store
                .run(move |conn| store::origin_is_known(conn, &text))
                .await
            {
                Ok(known) => known,
                Err(err) => return ApiError::from(err).into_response(),
            }
        }
        Err(_) => false,
    };
    if request.method() == Method::OPTIONS {
        if !allowed {
            return ApiError::OriginRefused.into_response();
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
    if allowed {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// A JSON body, read within `MAX_BODY_BYTES`, with errors in the API's shape.
///
/// `text/plain` is accepted as well as `application/json`: it is a CORS "simple"
/// content type, so the widget's POST needs no preflight round trip (and
/// `navigator.sendBeacon` can use it). Unknown fields are ignored.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, ApiError> {
        let media_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        if !matches!(
            media_type.as_deref(),
            Some("application/json" | "text/plain")
        ) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
            return Err(ApiError::TooLarge);
        }
        let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::TooLarge)?;
        parse_json(&bytes).map(JsonBody)
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => data_error(&path, &inner),
            _ => ApiError::Malformed(format!("The body is not valid JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|err| ApiError::Malformed(format!("The body is not valid JSON: {err}")))?;
    Ok(value)
}

fn data_error(path: &str, err: &serde_json::Error) -> ApiError {
    let text = err.to_string();
    // serde reports a missing field at its parent's path, naming it in the message.
    if let Some(rest) = text.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        return ApiError::InvalidValue {
            code: "required",
            field: Some(field),
            message: "This value is required.".into(),
        };
    }
    // Drop serde's " at line 1 column 9" position: the field names the place.
    let message = text.split(" at line ").next().unwrap_or(&text).to_owned();
    ApiError::InvalidValue {
        code: "invalid_type",
        field: (path != ".").then(|| path.to_owned()),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(body: &str) -> (&'static str, Option<String>) {
        match parse_json::<Rating>(body.as_bytes()).expect_err("expected an error") {
            ApiError::InvalidValue { code, field, .. } => (code, field),
            ApiError::Malformed(_) => ("malformed", None),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        let id = r#""id":"0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e6f","site":"s""#;
        assert_eq!(
            error_of(&format!("{{{id},\"score\":\"5\"}}")),
            ("invalid_type", Some("score".into()))
        );
        assert_eq!(
            error_of(&format!("{{{id},\"score\":4.5}}")),
            ("invalid_type", Some("score".into()))
        );
        assert_eq!(
            error_of(&format!("{{{id}}}")),
            ("required", Some("score".into()))
        );
        assert_eq!(error_of("{\"id\":").0, "malformed");
        assert_eq!(
            error_of(&format!("{{{id},\"score\":4}} trailing")).0,
            "malformed"
        );
        let deep = format!("{{\"future\":{}", "[".repeat(10_000));
        assert_eq!(error_of(&deep).0, "malformed");
    }

    proptest::proptest! {
        /// Fuzzing the collector's front door: any bytes decode to a value or a 400/422,
        /// and whatever decodes is validated without panicking.
        #[test]
        fn any_body_is_answered_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            if let Ok(rating) = parse_json::<Rating>(&bytes) {
                let _ = rating.validate(nearmiss_core::Scale::Stars5);
            }
            if let Ok(details) = parse_json::<Details>(&bytes) {
                let _ = details.validate(&["Quality"]);
            }
        }

        #[test]
        fn json_shaped_bodies_are_answered_without_panicking(
            id in "[0-9a-f-]{0,40}", score in proptest::num::f64::ANY, extra in "[ -~]{0,40}",
            comment in "\\PC{0,50}", email in "[a-z@.]{0,20}", consent in proptest::bool::ANY,
        ) {
            let rating = serde_json::json!({ "id": id, "site": "s", "score": score, "page": extra });
            if let Ok(rating) = parse_json::<Rating>(rating.to_string().as_bytes()) {
                let _ = rating.validate(nearmiss_core::Scale::Ten);
            }
            let details = serde_json::json!({ "site": "s", "comment": comment, "reasons": [extra],
                "contact": { "email": email, "consent": consent } });
            if let Ok(details) = parse_json::<Details>(details.to_string().as_bytes()) {
                let _ = details.validate(&["Quality"]);
            }
        }
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let body =
            r#"{"id":"0b8f5c1e-4a7d-4c2b-9e3f-1a2b3c4d5e6f","site":"s","score":4,"future":1}"#;
        assert_eq!(parse_json::<Rating>(body.as_bytes()).unwrap().score, 4);
    }
}
