//! What every desk page shares: the layout, the problem page, and times in words.

use crate::bodies::Case;
use crate::people::Session;
use crate::states::{Status, Step};
use crate::time::Timestamp;
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

/// "12 minutes", "3 hours", "2 days".
pub fn span(ms: i64) -> String {
    let minutes = (ms.abs() + 59_999) / 60_000;
    let (n, unit) = if minutes < 90 {
        (minutes, "minute")
    } else if minutes < 48 * 60 {
        ((minutes + 30) / 60, "hour")
    } else {
        ((minutes + 720) / 1440, "day")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A moment as staff read it: "14:15" today, else "Tue 24 Nov, 14:15", in UTC.
pub fn moment(at: Timestamp, now: i64) -> Markup {
    let iso = at.rfc3339();
    let (date, time) = (&iso[..10], &iso[11..16]);
    let today = Timestamp(now).rfc3339();
    let text = if date == &today[..10] {
        format!("{time} UTC")
    } else {
        format!("{date} {time} UTC")
    };
    html! { time datetime=(iso) { (text) } }
}

/// Where a case stands against its deadlines, in words: "Overdue by 12 minutes",
/// "Acknowledge by 14:15, in 12 minutes", "Closed 2026-11-24 10:02 UTC".
pub fn countdown(case: &Case, now: i64) -> Markup {
    if case.status == Status::Closed {
        return match case.closed_at {
            Some(at) => html! { "Closed " (moment(at, now)) },
            None => html! { "Closed" },
        };
    }
    let (what, due) = match case.acknowledged_at {
        None => ("Acknowledge", case.ack_due_at.0.min(case.close_due_at.0)),
        Some(_) => ("Close", case.close_due_at.0),
    };
    if case.overdue {
        html! { strong { "Overdue by " (span(now - due)) } ": " (what.to_lowercase()) " was due " (moment(Timestamp(due), now)) }
    } else {
        html! { (what) " by " (moment(Timestamp(due), now)) ", in " (span(due - now)) }
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
    fn spans_read_as_people_say_them() {
        assert_eq!(span(1), "1 minute");
        assert_eq!(span(12 * 60_000), "12 minutes");
        assert_eq!(span(-12 * 60_000), "12 minutes");
        assert_eq!(span(3 * 3_600_000), "3 hours");
        assert_eq!(span(2 * 86_400_000), "2 days");
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(
            query_escape("/desk/cases/NM-4F7Q?x=1&y"),
            "/desk/cases/NM-4F7Q%3Fx%3D1%26y"
        );
    }
}
