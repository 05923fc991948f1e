//! API tokens for the private API (`Authorization: Bearer nm_…`). Only a SHA-256 of each
//! token is stored; the token itself is shown once, when it is made.

use crate::store::{Store, StoreError, TokenRecord};
use sha2::{Digest, Sha256};

/// Who is calling, from their token.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The token's name (a person, or an integration).
    pub name: String,
}

/// SHA-256 of a secret, in hex: what is stored of tokens and session cookies.
pub(crate) fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Makes a token named `name`; returns the token, which is not stored.
pub fn add(store: &Store, name: &str, now: i64) -> Result<String, StoreError> {
    let token = format!("nm_{}", crate::random::token(32));
    let (name, hashed) = (name.to_owned(), hash(&token));
    store.write_now(move |tx| tx.insert_token(&name, &hashed, now))?;
    Ok(token)
}

/// Every token, oldest first (names and dates; the tokens themselves are not stored).
pub async fn list(store: &Store) -> Result<Vec<TokenRecord>, StoreError> {
    store.read(|tx| tx.tokens()).await
}

/// Revokes a token at once; whether there was one.
pub async fn revoke(store: &Store, id: i64) -> Result<bool, StoreError> {
    store.write(move |tx| tx.delete_token(id)).await
}

/// The caller a token belongs to, if it is known.
pub async fn caller(store: &Store, token: &str) -> Result<Option<Caller>, StoreError> {
    let hashed = hash(token);
    let name = store.read(move |tx| tx.token_name(&hashed)).await?;
    Ok(name.map(|name| Caller { name }))
}
