//! The private API's door: `Authorization: Bearer nm_…`, checked against stored token
//! hashes (`tokens`). Wrong tokens are limited per client address: past
//! `WRONG_TOKENS_PER_MINUTE` its wrong tokens get `429` instead of `401`.

use super::error::ApiError;
use super::AppState;
use crate::tokens;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Wrong tokens allowed per client address per minute (in bursts of as many).
pub const WRONG_TOKENS_PER_MINUTE: u32 = 10;

/// Middleware: 401 without a known bearer token; otherwise the `Caller` is an extension.
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let now = state.clock.now();
    let addr = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| super::limits::client_key(info.0.ip()));
    let caller = match token {
        Some(token) => tokens::caller(&state.store, &token, now).await,
        None => Ok(None),
    };
    match caller {
        Ok(Some(caller)) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        // A good token always passes; wrong ones from an address that keeps sending
        // them wait, so guessing is slow without locking out its neighbours.
        Ok(None) => match addr.map(|a| (a, state.wrong_tokens.check(a, now))) {
            Some((_, Err(retry_after))) => ApiError::RateLimited { retry_after }.into_response(),
            Some((addr, Ok(()))) => {
                tracing::warn!(client = %addr, "API token refused");
                ApiError::Unauthorized.into_response()
            }
            None => ApiError::Unauthorized.into_response(),
        },
        Err(err) => ApiError::from(err).into_response(),
    }
}
