//! API tokens for the private API (`Authorization: Bearer nm_…`). Only a SHA-256 of each
//! token is stored; the token itself is shown once, when it is made. A token may be
//! limited to some sites (it then sees only their cases, numbers and export) and may
//! expire.

use crate::error::Error;
use crate::store::{NewToken, Store, StoreError, TokenRecord};
use crate::time::millis;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Who is calling, from their token.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The token's name (a person, or an integration).
    pub name: String,
    /// The sites it is limited to; `None`: every site (an owner's token).
    pub sites: Option<Vec<i64>>,
}

impl Caller {
    /// A token for every site acts for the business's owners: it may see contact
    /// columns and name the actor of a step.
    pub fn is_owner(&self) -> bool {
        self.sites.is_none()
    }
}

/// SHA-256 of a secret, in hex: what is stored of tokens and session cookies.
pub(crate) fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Two secrets compared in a time that does not depend on where they differ (tokens,
/// CSRF tokens, webhook signatures).
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// A token to make.
#[derive(Clone, Debug, Default)]
pub struct TokenSpec {
    /// Who or what uses it.
    pub name: String,
    /// The keys of the sites it is limited to; empty: every site.
    pub sites: Vec<String>,
    /// How long it works; `None`: until revoked.
    pub expires_in: Option<Duration>,
}

/// Makes a token for every site, named `name`; returns the token, which is not stored.
pub fn add(store: &Store, name: &str, now: i64) -> Result<String, Error> {
    let spec = TokenSpec {
        name: name.to_owned(),
        ..TokenSpec::default()
    };
    make(store, spec, now)
}

/// Makes a token as `spec` says; returns the token, which is not stored.
pub fn make(store: &Store, spec: TokenSpec, now: i64) -> Result<String, Error> {
    let token = format!("nm_{}", crate::random::token(32));
    let hashed = hash(&token);
    let expires_at = spec.expires_in.map(|d| now.saturating_add(millis(d)));
    store.write_now(move |tx| {
        let mut site_ids = Vec::new();
        for key in &spec.sites {
            site_ids.push(tx.site_id_by_any_key(key)?.ok_or(Error::UnknownSite)?);
        }
        tx.insert_token(&NewToken {
            name: &spec.name,
            hash: &hashed,
            now,
            expires_at,
            site_ids: &site_ids,
        })?;
        Ok::<_, Error>(())
    })?;
    Ok(token)
}

/// Every token, oldest first (names, sites and dates; the tokens themselves are not stored).
pub async fn list(store: &Store) -> Result<Vec<TokenRecord>, StoreError> {
    store.read(|tx| tx.tokens()).await
}

/// Revokes a token at once; whether there was one.
pub async fn revoke(store: &Store, id: i64) -> Result<bool, StoreError> {
    store.write(move |tx| tx.delete_token(id)).await
}

/// The caller a token belongs to, if it is known and has not expired at `now`.
pub async fn caller(store: &Store, token: &str, now: i64) -> Result<Option<Caller>, StoreError> {
    let hashed = hash(token);
    let found = store.read(move |tx| tx.token(&hashed, now)).await?;
    Ok(found.map(|t| Caller {
        name: t.name,
        sites: (!t.site_ids.is_empty()).then_some(t.site_ids),
    }))
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
