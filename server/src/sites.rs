//! Sites: the businesses' pages that embed the widget, with their scale, deadlines,
//! reason chips, the apology's words, and the origins allowed to send ratings.

use crate::{store, AppState};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use nearmiss_core::Scale;
use serde::Serialize;
use std::time::Duration;

use crate::error::ApiError;

/// A site as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// Row id.
    pub id: i64,
    /// The public key used in `data-site`.
    pub key: String,
    /// Signs interaction tokens; known to the business's server, never to browsers.
    pub secret: String,
    /// Everything the business chose.
    pub settings: SiteSettings,
}

/// What a business sets for its site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteSettings {
    /// The business's name, shown to staff.
    pub name: String,
    /// Origins (`https://shop.example`) allowed to send ratings from a browser.
    pub origins: Vec<String>,
    /// The rating scale.
    pub scale: Scale,
    /// A case must be acknowledged within this.
    pub ack_within: Duration,
    /// A case must be closed within this.
    pub close_within: Duration,
    /// Reason chips offered after a near miss.
    pub reasons: Vec<String>,
    /// Root-cause categories staff choose from when a cause is found.
    pub causes: Vec<String>,
    /// Accept only ratings with a valid signed interaction token.
    pub require_token: bool,
    /// The apology shown at once after a near miss.
    pub apology: String,
    /// Who will get back to the customer ("The Corner Bistro team").
    pub owner: String,
    /// A public review link, offered to every rater or to none.
    pub review_url: Option<String>,
}

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
        }
    }
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

/// A random token of `len` characters from an alphabet without look-alikes.
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// What the widget needs to render a site's questions (public, cacheable).
#[derive(Serialize)]
struct WidgetConfig<'a> {
    scale: u8,
    reasons: &'a [String],
    apology: &'a str,
    owner: &'a str,
    ack_within_minutes: u64,
    review_url: Option<&'a str>,
}

/// `GET /v1/sites/{key}/widget`.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/sites/{key}/widget", get(widget_config))
}

async fn widget_config(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let site = state
        .store
        .run(move |conn| store::site_by_key(conn, &key))
        .await?
        .ok_or(ApiError::UnknownSite)?;
    let s = &site.settings;
    let body = Json(WidgetConfig {
        scale: s.scale.into(),
        reasons: &s.reasons,
        apology: &s.apology,
        owner: &s.owner,
        ack_within_minutes: s.ack_within.as_secs().div_ceil(60),
        review_url: s.review_url.as_deref(),
    })
    .into_response();
    Ok((
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        body,
    ))
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

    #[test]
    fn tokens_use_the_alphabet() {
        let token = random_token(20);
        assert_eq!(token.len(), 20);
        assert!(token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() && !"01ilo".contains(c)));
    }
}
