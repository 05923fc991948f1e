//! The desk: staff log in, see every open near miss, and work each case to closed.
//! Server-rendered pages (maud escapes everything by default, so what a customer typed
//! is only ever text) that work without JavaScript; `desk.js` adds live updates.
//!
//! Every page needs a session cookie; every form carries the session's CSRF token
//! (the login form a token of its own, from a cookie); post, then redirect, then get.

mod case;
mod inbox;
mod login;
mod me;
mod numbers;
mod page;
mod settings;

use super::AppState;
use crate::people::{self, Session};
use crate::tokens;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{middleware, Router};
use serde::de::DeserializeOwned;

/// Wrong passwords allowed per email and client address per minute (in bursts of as
/// many).
pub const WRONG_PASSWORDS_PER_MINUTE: u32 = 5;
/// Wrong passwords allowed per client address per minute, over every email.
pub const WRONG_PASSWORDS_PER_ADDRESS: u32 = 20;
/// The session cookie.
const SESSION_COOKIE: &str = "nm_session";
/// The login form's own CSRF cookie (there is no session yet to hold one).
const LOGIN_COOKIE: &str = "nm_login";

const STYLESHEET: &str = include_str!("desk.css");
const SCRIPT: &str = include_str!("desk.js");

/// Everything under `/desk/`.
pub fn router(state: AppState) -> Router<AppState> {
    let settings = Router::new()
        .route("/desk/settings", get(settings::overview))
        .route("/desk/settings/sites", post(settings::add_site))
        .route(
            "/desk/settings/sites/{id}",
            get(settings::site).post(settings::save_site),
        )
        .route(
            "/desk/settings/sites/{id}/origins",
            post(settings::allow_origin),
        )
        .route(
            "/desk/settings/sites/{id}/rotate-key",
            post(settings::rotate_key),
        )
        .route(
            "/desk/settings/sites/{id}/alerts",
            post(settings::add_endpoint),
        )
        .route(
            "/desk/settings/sites/{id}/alerts/{endpoint}/test",
            post(settings::test_endpoint),
        )
        .route("/desk/settings/people", post(settings::add_person))
        .route(
            "/desk/settings/people/{id}/remove",
            post(settings::remove_person),
        )
        .route("/desk/settings/tokens", post(settings::add_token))
        .route(
            "/desk/settings/tokens/{id}/revoke",
            post(settings::revoke_token),
        )
        .route_layer(middleware::from_extractor_with_state::<Owner, _>(state));
    Router::new()
        .merge(settings)
        .route("/desk", get(|| async { Redirect::permanent("/desk/") }))
        .route("/desk/", get(inbox::page))
        .route("/desk/inbox", get(inbox::fragment))
        .route("/desk/events", get(inbox::events))
        .route("/desk/login", get(login::form).post(login::submit))
        .route("/desk/logout", post(login::log_out))
        .route("/desk/numbers", get(numbers::page))
        .route("/desk/numbers/export.csv", get(numbers::export))
        .route("/desk/me", get(me::page))
        .route("/desk/me/alerts", post(me::save))
        .route("/desk/cases/{reference}", get(case::page))
        .route("/desk/cases/{reference}/steps", post(case::add_step))
        .route("/desk/cases/{reference}/assign", post(case::assign))
        .route(
            "/desk/desk.css",
            get(|| async { asset("text/css", STYLESHEET) }),
        )
        .route(
            "/desk/desk.js",
            get(|| async { asset("text/javascript", SCRIPT) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// The value of the cookie `name`, if the request has it.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value for the desk: never readable by scripts, never sent by other
/// sites' forms, and only over https when the desk is served over https.
fn set_cookie(https: bool, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("{name}={value}; Path=/desk; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// A logged-in request. Without a valid session: to the login page, which brings the
/// person back here afterwards.
pub struct Staff(pub Session);

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Staff, Response> {
        // Read once per request: the owners' layer and the handler both ask.
        if let Some(session) = parts.extensions.get::<Session>() {
            return Ok(Staff(session.clone()));
        }
        if let Some(value) = cookie(&parts.headers, SESSION_COOKIE) {
            match people::session(&state.store, value, state.clock.now()).await {
                Ok(Some(session)) => {
                    parts.extensions.insert(session.clone());
                    return Ok(Staff(session));
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::error!(error = %err, "reading a desk session failed");
                    return Err(page::problem(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "Something went wrong",
                        "The desk could not read your session. Try again in a moment.",
                    ));
                }
            }
        }
        let here = parts.uri.to_string();
        // Only pages come back after login: a form's target is no place to land.
        let next = if parts.method == axum::http::Method::GET && here != "/desk/" {
            format!("?next={}", page::query_escape(&here))
        } else {
            String::new()
        };
        Err(Redirect::to(&format!("/desk/login{next}")).into_response())
    }
}

/// A form posted by someone logged in, carrying this session's CSRF token; without the
/// token the handler never runs, so nothing changes.
pub struct Posted<T>(pub Staff, pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Posted<T>, Response> {
        let (mut parts, body) = request.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|fields| fields.into_iter().find(|(k, _)| k == "csrf"))
            .map(|(_, v)| v)
            .unwrap_or_default();
        if !tokens::same_secret(&token, &staff.0.csrf) {
            return Err(page::problem(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "Nothing was changed. Go back, reload the page and try again.",
            ));
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            page::problem(
                StatusCode::BAD_REQUEST,
                "This form could not be read",
                "Nothing was changed. Go back, reload the page and try again.",
            )
        })?;
        Ok(Posted(staff, form))
    }
}

/// A form with nothing but its CSRF token (a button).
#[derive(serde::Deserialize)]
pub struct NoFields {}

/// Lets only owners through (the settings): an agent is told to ask one.
pub struct Owner;

impl FromRequestParts<AppState> for Owner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Owner, Response> {
        let Staff(session) = Staff::from_request_parts(parts, state).await?;
        if session.user.is_owner() {
            Ok(Owner)
        } else {
            Err(page::problem(
                StatusCode::FORBIDDEN,
                "Owners only",
                "Only an owner changes sites, alerts, people and tokens. Ask one of them.",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_behind_https_and_never_readable_by_scripts() {
        let plain = set_cookie(false, SESSION_COOKIE, "v", 60);
        assert_eq!(
            plain,
            "nm_session=v; Path=/desk; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        let https = set_cookie(true, SESSION_COOKIE, "v", 60);
        assert!(https.ends_with("; Secure"), "{https}");
    }

    #[test]
    fn a_cookie_is_read_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; nm_session=xyz; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, "nm_login"), None);
    }
}
