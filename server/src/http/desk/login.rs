//! `/desk/login` and `/desk/logout`. Wrong passwords are throttled per email address;
//! the answer never says whether the email or the password was wrong.

use super::page::{layout, problem, respond};
use super::{cookie, set_cookie, NoFields, Posted, LOGIN_COOKIE, SESSION_COOKIE};
use crate::http::limits::client_key;
use crate::http::AppState;
use crate::people;
use crate::tokens::same_secret;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

/// Only a desk page of this server, never another site: `next` comes from a link
/// anybody can craft.
fn landing(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with("/desk/")
                && path.bytes().all(|b| b.is_ascii_graphic())
                && !path.starts_with("/desk//")
                && !path.contains('\\')
                && !path.starts_with("/desk/login") =>
        {
            path
        }
        _ => "/desk/",
    }
}

fn render(
    state: &AppState,
    status: StatusCode,
    token: &str,
    next: &str,
    email: &str,
    error: Option<&str>,
) -> Response {
    let main = html! {
        h1 { "Log in to the desk" }
        @if let Some(error) = error {
            div.error-summary role="alert" tabindex="-1" {
                h2 { "There is a problem" }
                p { a href="#email" { (error) } }
            }
        }
        form.stack method="post" action="/desk/login" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label for="email" { "Email" }
            input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password" required;
            button type="submit" { "Log in" }
        }
        p.hint { "No account? An owner adds people with " code { "nearmiss user add" } "." }
    };
    let mut response = respond(status, layout("Log in", None, main));
    if let Ok(value) = set_cookie(state.https, LOGIN_COOKIE, token, 3600).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The login form.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Next>,
) -> Response {
    let token = cookie(&headers, LOGIN_COOKIE)
        .map(str::to_owned)
        .unwrap_or_else(|| crate::random::token(32));
    let next = landing(query.next.as_deref()).to_owned();
    render(&state, StatusCode::OK, &token, &next, "", None)
}

/// Checks the password; on success, starts a session and goes where the person was
/// heading.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = landing(Some(&form.next)).to_owned();
    let token = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if token.is_empty() || !same_secret(token, &form.csrf) {
        return problem(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "Go back, reload the login page and try again.",
        );
    }
    let now = state.clock.now();
    let email = form.email.trim().to_owned();
    // Wrong passwords count per email from this address (so nobody elsewhere can lock a
    // person out) and per address (so nobody can guess across many emails).
    let address = client_key(peer.ip());
    let pair = format!("{}|{address}", email.to_lowercase());
    let waiting = state
        .logins
        .exhausted(&pair, now)
        .or_else(|| state.login_addresses.exhausted(&address, now));
    if let Some(wait) = waiting {
        tracing::warn!("login throttled after wrong passwords");
        let message =
            format!("Too many attempts for this email. Wait {wait} seconds, then try again.");
        return render(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            token,
            &next,
            &form.email,
            Some(&message),
        );
    }
    match people::log_in(&state.store, &email, &form.password, now).await {
        Ok(Some(session)) => {
            let mut response = Redirect::to(&next).into_response();
            let max_age = people::SESSION_MS / 1000;
            for value in [
                set_cookie(state.https, SESSION_COOKIE, &session, max_age),
                set_cookie(state.https, LOGIN_COOKIE, "", 0),
            ] {
                if let Ok(value) = value.parse() {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            response
        }
        Ok(None) => {
            let _ = state.logins.check(pair, now);
            let _ = state.login_addresses.check(address, now);
            render(
                &state,
                StatusCode::UNAUTHORIZED,
                token,
                &next,
                &form.email,
                Some("The email or the password is wrong."),
            )
        }
        Err(err) => {
            tracing::error!(error = %err, "logging in failed");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The desk could not log you in. Try again in a moment.",
            )
        }
    }
}

/// Ends the session.
pub async fn log_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Posted(_, NoFields {}): Posted<NoFields>,
) -> Response {
    if let Some(value) = cookie(&headers, SESSION_COOKIE) {
        if let Err(err) = people::log_out(&state.store, value).await {
            tracing::error!(error = %err, "ending a session failed");
        }
    }
    let mut response = Redirect::to("/desk/login").into_response();
    if let Ok(value) = set_cookie(state.https, SESSION_COOKIE, "", 0).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::landing;

    #[test]
    fn only_desk_pages_are_landed_on() {
        assert_eq!(landing(Some("/desk/cases/NM-4F7Q")), "/desk/cases/NM-4F7Q");
        for elsewhere in [
            "https://evil.example/",
            "//evil.example",
            "/desk//evil.example",
            "/desk/\\evil.example",
            "/v1/cases",
            "/desk/login",
            "/desk/\u{1}",
            "/desk/ x",
        ] {
            assert_eq!(landing(Some(elsewhere)), "/desk/", "{elsewhere}");
        }
        assert_eq!(landing(None), "/desk/");
    }
}
