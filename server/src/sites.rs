//! Sites: the businesses' pages that embed the widget, with their scale, deadlines,
//! reason chips, the apology's words, the origins allowed to send ratings, and their keys.

use crate::error::Error;
use crate::store::{Store, StoreError};
use crate::time::millis;
use nearmiss_core::Scale;
use serde::Serialize;
use std::time::Duration;

pub use crate::store::{Site, SiteSettings};

impl SiteSettings {
    /// Settings with the product's defaults for a business called `name`.
    pub fn new(name: &str) -> SiteSettings {
        SiteSettings {
            name: name.to_owned(),
            origins: Vec::new(),
            scale: Scale::Stars5,
            ack_within: Duration::from_secs(15 * 60),
            close_within: Duration::from_secs(2 * 24 * 60 * 60),
            reasons: ["Waiting time", "Quality", "Staff", "Price", "Something else"]
                .map(String::from)
                .to_vec(),
            causes: [
                "Staffing",
                "Training",
                "Process",
                "Supplier",
                "Equipment",
                "Communication",
                "Other",
            ]
            .map(String::from)
            .to_vec(),
            require_token: false,
            apology: "We're sorry. That's not the experience we promised you, and it's on us to put it right.".into(),
            owner: format!("The {name} team"),
            review_url: None,
            timezone: "UTC".into(),
        }
    }
}

impl Site {
    /// Whether a browser page on `origin` may send this site's ratings.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.settings.origins.iter().any(|o| o == origin)
    }
}

/// A new site's public key.
pub fn new_key() -> String {
    format!("s_{}", crate::random::token(20))
}

/// Adds a site with a new key and signing secret.
pub fn add(store: &Store, settings: SiteSettings, now: i64) -> Result<Site, StoreError> {
    let key = new_key();
    let secret = crate::random::token(40);
    let site = store.write_now(move |tx| {
        let id = tx.insert_site(&settings, &key, &secret, now)?;
        Ok::<_, StoreError>(Site {
            id,
            key,
            secret,
            settings,
        })
    })?;
    store.forget_sites();
    Ok(site)
}

/// The active site with this key (a rotated-out key works during its grace).
pub async fn find(store: &Store, key: &str, now: i64) -> Result<Site, Error> {
    if key.trim().is_empty() {
        return Err(nearmiss_core::ValidationError {
            kind: nearmiss_core::ErrorKind::Required,
            field: "site",
        }
        .into());
    }
    store.site_by_key(key, now).await?.ok_or(Error::UnknownSite)
}

/// Gives the site that has or had `key` a new key; the old one works for `grace`, and a
/// revoked site works again. Returns the new key.
pub fn rotate_key(store: &Store, key: &str, grace: Duration, now: i64) -> Result<String, Error> {
    let key = key.to_owned();
    let new_key = new_key();
    let answer = new_key.clone();
    store.write_now(move |tx| {
        let site_id = tx.site_id_by_any_key(&key)?.ok_or(Error::UnknownSite)?;
        tx.rotate_key(site_id, &new_key, now.saturating_add(millis(grace)))?;
        Ok::<_, Error>(())
    })?;
    store.forget_sites();
    Ok(answer)
}

/// Stops every key of a site at once; its data stays, and `rotate_key` revives it.
pub fn revoke(store: &Store, site_id: i64, now: i64) -> Result<(), StoreError> {
    store.write_now(move |tx| tx.revoke_site(site_id, now))?;
    store.forget_sites();
    Ok(())
}

/// Turns `https://Shop.Example:443/path` into `https://shop.example`: the form browsers
/// send in the `Origin` header. `None` when it is not an http(s) origin.
pub fn normalize_origin(input: &str) -> Option<String> {
    let input = input.trim();
    let (scheme, rest) = input.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return None;
    }
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// What the widget needs to render a site's questions (`GET /v1/sites/{key}/widget`).
#[derive(Serialize)]
pub struct WidgetSettings<'a> {
    /// 5 or 10.
    pub scale: u8,
    /// Reason chips.
    pub reasons: &'a [String],
    /// The apology after a near miss.
    pub apology: &'a str,
    /// Who will get back to the customer.
    pub owner: &'a str,
    /// The acknowledge deadline, in whole minutes.
    pub ack_within_minutes: u64,
    /// The public review link.
    pub review_url: Option<&'a str>,
}

impl<'a> WidgetSettings<'a> {
    /// The widget's settings for `site`.
    pub fn of(site: &'a Site) -> WidgetSettings<'a> {
        let s = &site.settings;
        WidgetSettings {
            scale: s.scale.into(),
            reasons: &s.reasons,
            apology: &s.apology,
            owner: &s.owner,
            ack_within_minutes: s.ack_within.as_secs().div_ceil(60),
            review_url: s.review_url.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_like_browsers_send_them() {
        assert_eq!(
            normalize_origin("https://Shop.Example/"),
            Some("https://shop.example".into())
        );
        assert_eq!(
            normalize_origin("https://shop.example:443"),
            Some("https://shop.example".into())
        );
        assert_eq!(
            normalize_origin("http://127.0.0.1:8080/x?y"),
            Some("http://127.0.0.1:8080".into())
        );
        assert_eq!(normalize_origin("ftp://shop.example"), None);
        assert_eq!(normalize_origin("shop.example"), None);
        assert_eq!(normalize_origin("https://"), None);
    }
}
