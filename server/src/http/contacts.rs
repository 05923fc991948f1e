//! `DELETE /v1/contacts?email=…` or `?phone=…` (behind an API token): a customer's
//! contact data erased from everything stored.

use super::error::ApiError;
use super::AppState;
use crate::erasure::{self, Person};
use crate::error::Error;
use crate::tokens::Caller;
use axum::extract::{Query, State};
use axum::routing::delete;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

/// `DELETE /v1/contacts`.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/contacts", delete(erase))
}

#[derive(Deserialize)]
struct Whose {
    email: Option<String>,
    phone: Option<String>,
}

/// `200 {"erased": n}`: how many ratings held the contact data.
#[derive(Serialize)]
struct Erased {
    erased: usize,
}

async fn erase(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(whose): Query<Whose>,
) -> Result<Json<Erased>, ApiError> {
    // A person's data spans every site: erasing it takes a token for every site.
    if !caller.is_owner() {
        return Err(ApiError::OwnersOnly);
    }
    let person = match (whose.email, whose.phone) {
        (Some(email), None) => Person::Email(email),
        (None, Some(phone)) => Person::Phone(phone),
        _ => {
            return Err(Error::invalid(
                "required",
                "email",
                "Give either email or phone, not both.",
            )
            .into())
        }
    };
    let erased = erasure::erase(&state.store, person, &caller.name, state.clock.now()).await?;
    tracing::info!(erased, by = %caller.name, "contact data erased on request");
    Ok(Json(Erased { erased }))
}
