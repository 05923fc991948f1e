//! API tokens for the private API (`Authorization: Bearer nm_…`). Only a SHA-256 of each
//! token is stored; the token itself is shown once, when it is made.

use crate::error::ApiError;
use crate::store::StoreError;
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

/// Who is calling, from their token.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The token's name (a person, or an integration).
    pub name: String,
}

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Makes a token named `name`; returns the token, which is not stored.
pub fn add_token(conn: &Connection, name: &str, now: i64) -> Result<String, StoreError> {
    let token = format!("nm_{}", crate::sites::random_token(32));
    conn.execute(
        "INSERT INTO api_tokens (name, hash, created_at) VALUES (?1, ?2, ?3)",
        params![name, hash(&token), now],
    )?;
    Ok(token)
}

fn caller_for(conn: &Connection, token: &str) -> Result<Option<Caller>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT name FROM api_tokens WHERE hash = ?1",
            [hash(token)],
            |row| Ok(Caller { name: row.get(0)? }),
        )
        .optional()?)
}

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
    let Some(token) = token else {
        return ApiError::Unauthorized.into_response();
    };
    match state.store.run(move |conn| caller_for(conn, &token)).await {
        Ok(Some(caller)) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(None) => ApiError::Unauthorized.into_response(),
        Err(err) => ApiError::from(err).into_response(),
    }
}
