//! `/desk/me`: which case events reach this person by email. An email alert that a
//! site sends to their address carries only these, and never news of a step they
//! recorded themselves.

use super::page::{layout, problem, respond};
use super::{Posted, Staff};
use crate::http::AppState;
use crate::people;
use crate::states::{EndpointKind, Event};
use crate::store::StoreError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

/// Each event as a person reads it.
fn described(event: Event) -> (&'static str, &'static str) {
    match event {
        Event::Opened => ("New near miss", "a customer gave less than a perfect score"),
        Event::Updated => (
            "Updates",
            "the customer added words, or a colleague recorded a step",
        ),
        Event::Overdue => ("Overdue", "a deadline passed with nobody on it"),
        Event::Closed => ("Closed", "a colleague closed a case"),
    }
}

/// The page.
pub async fn page(State(state): State<AppState>, staff: Staff) -> Response {
    let user = staff.0.user.clone();
    let email = user.email.clone();
    let sending = state
        .store
        .read(move |tx| {
            let mut names = Vec::new();
            for site in tx.sites()? {
                let to_me = tx.endpoint_states(site.id)?.iter().any(|e| {
                    e.kind == EndpointKind::Email && e.target.eq_ignore_ascii_case(&email)
                });
                if to_me && user.works(site.id) {
                    names.push(site.settings.name);
                }
            }
            Ok::<_, StoreError>(names)
        })
        .await;
    let sending = match sending {
        Ok(names) => names,
        Err(err) => {
            tracing::error!(error = %err, "reading alert endpoints failed");
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Unavailable",
                "The desk could not read your alerts. Try again in a moment.",
            );
        }
    };
    let user = &staff.0.user;
    let main = html! {
        h1 { "My alerts" }
        @if sending.is_empty() {
            p { "No site sends email alerts to " strong { (user.email) } " yet. An owner adds your address under Settings, or with "
                code { "nearmiss alert add --email" } "." }
        } @else {
            p { "Email alerts reach " strong { (user.email) } " from " (sending.join(", ")) "." }
        }
        form.stack method="post" action="/desk/me/alerts" {
            input type="hidden" name="csrf" value=(staff.0.csrf);
            fieldset {
                legend { "Email me about" }
                @for event in Event::ALL {
                    @let (name, when) = described(*event);
                    @let id = format!("alert-{}", event.as_str().replace('.', "-"));
                    div.check {
                        input id=(id) type="checkbox" name="event" value=(event.as_str()) checked[user.alert_events.contains(event)];
                        label for=(id) { (name) span.hint { ": " (when) } }
                    }
                }
            }
            p.hint { "You are never emailed about a step you recorded yourself." }
            button type="submit" { "Save" }
        }
    };
    respond(StatusCode::OK, layout("My alerts", Some(&staff.0), main))
}

/// Saves the choice.
pub async fn save(
    State(state): State<AppState>,
    Posted(staff, form): Posted<Vec<(String, String)>>,
) -> Response {
    let events: Vec<Event> = Event::ALL
        .iter()
        .copied()
        .filter(|e| form.iter().any(|(k, v)| k == "event" && v == e.as_str()))
        .collect();
    match people::set_alert_events(&state.store, staff.0.user.id, events).await {
        Ok(()) => Redirect::to("/desk/me").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "saving alert choices failed");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not saved",
                "The desk could not save your choice. Go back and try again in a moment.",
            )
        }
    }
}
