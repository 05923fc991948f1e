//! The JSON body extractor of every API route: read within a size limit, decoded with
//! the field's path in every error, and answered in the API's error shape.

use super::error::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

/// Largest accepted request body. A rating is a few hundred bytes; details with a
/// 2,000-character comment of 4-byte characters stay well under this.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

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
    use nearmiss_core::{Details, Rating};

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
