//! What every desk page shares: the layout, the problem page, and times in words.

use crate::bodies::{Case, Deadline};
use crate::people::Session;
use crate::states::{Status, Step};
use crate::store::{Delivery, Site};
use crate::time::{clock, span, Timestamp};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

/// A whole page: `title`, the navigation when someone is logged in, and `main`.
pub fn layout(title: &str, session: Option<&Session>, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · nearmiss desk" }
                link rel="stylesheet" href="/desk/desk.css";
                script src="/desk/desk.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/desk/" { "nearmiss" }
                    @if let Some(session) = session {
                        nav aria-label="Desk" {
                            a href="/desk/" { "Inbox" }
                            a href="/desk/numbers" { "Numbers" }
                            a href="/desk/me" { "My alerts" }
                            @if session.user.is_owner() {
                                a href="/desk/settings" { "Settings" }
                            }
                        }
                        form.logout method="post" action="/desk/logout" {
                            input type="hidden" name="csrf" value=(session.csrf);
                            span.who { bdi { (session.user.name) } }
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main #main { (main) }
            }
        }
    }
}

/// An HTML response.
pub fn respond(status: StatusCode, page: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Case pages carry customers' words and contacts: never cached.
            (header::CACHE_CONTROL, "no-store"),
        ],
        page.into_string(),
    )
        .into_response()
}

/// A page that says what went wrong and what to do.
pub fn problem(status: StatusCode, title: &str, advice: &str) -> Response {
    let main = html! {
        h1 { (title) }
        p { (advice) }
        p { a href="/desk/" { "Back to the inbox" } }
    };
    respond(status, layout(title, None, main))
}

/// `text` for a query string value.
pub fn query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A moment in the site's time zone: "14:15 GMT" today, else "Tue 24 Nov 14:15 GMT".
pub fn moment(at: Timestamp, zone: &str, now: i64) -> Markup {
    html! { time datetime=(at.rfc3339()) { (clock(at.0, zone, now)) } }
}

/// Where a case stands against its deadlines, in words: "Overdue by 12 minutes",
/// "Acknowledge by 14:15 GMT, in 12 minutes", "Closed Tue 24 Nov 10:02 GMT".
pub fn countdown(case: &Case, now: i64) -> Markup {
    let zone = case.timezone.as_str();
    if case.status == Status::Closed {
        return match case.closed_at {
            Some(at) => html! { "Closed " (moment(at, zone, now)) },
            None => html! { "Closed" },
        };
    }
    let (which, due) = case.next_deadline();
    let what = match which {
        Deadline::Acknowledge => "acknowledge",
        Deadline::Close => "close",
    };
    let at = moment(Timestamp(due), zone, now);
    if case.overdue {
        html! { strong { "Overdue by " (span(now - due)) } ": " (what) " was due " (at) }
    } else if which == Deadline::Acknowledge {
        html! { "Acknowledge by " (at) ", in " (span(due - now)) }
    } else {
        html! { "Close by " (at) ", in " (span(due - now)) }
    }
}

/// A filter form's site picker: "all" first, then each site by name, `selected` (a key)
/// chosen.
pub fn site_select(id: &str, all: &str, sites: &[Site], selected: &str) -> Markup {
    html! {
        div {
            label for=(id) { "Site" }
            select id=(id) name="site" {
                option value="" { (all) }
                @for site in sites {
                    option value=(site.key) selected[selected == site.key] { (site.settings.name) }
                }
            }
        }
    }
}

/// Where an outbox message stands, in words: delivered, failed with the reason, or
/// waiting for its next try.
pub fn delivery_state(delivery: &Delivery, zone: &str, now: i64) -> Markup {
    html! {
        @if delivery.delivered_at.is_some() { "delivered" }
        @else if delivery.failed_at.is_some() { "failed: " (delivery.last_error.as_deref().unwrap_or("")) }
        @else if delivery.attempts == 0 { "queued" }
        @else {
            "waiting, next try " (moment(Timestamp(delivery.next_attempt_at), zone, now))
            @if let Some(error) = &delivery.last_error { " (" (error) ")" }
        }
    }
}

/// A step in words.
pub fn step_name(step: Step) -> &'static str {
    match step {
        Step::Acknowledged => "Acknowledged",
        Step::Contacted => "Contacted",
        Step::Fixed => "Fixed",
        Step::MadeGood => "Made good",
        Step::CauseFound => "Cause found",
        Step::CustomerTold => "Customer told",
        Step::Closed => "Closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(
            query_escape("/desk/cases/NM-4F7Q?x=1&y"),
            "/desk/cases/NM-4F7Q%3Fx%3D1%26y"
        );
    }
}
