//! `/desk/`: the inbox. Overdue cases first, then open cases by their next deadline,
//! filtered by site, status, cause and person; `/desk/inbox` is the list alone, which
//! `desk.js` fetches again whenever `/desk/events` says cases changed.

use super::page::{countdown, layout, problem, respond, site_select};
use super::Staff;
use crate::bodies::CaseView;
use crate::cases::{self, Listing};
use crate::http::AppState;
use crate::live::Live;
use crate::store::{Site, User};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use std::convert::Infallible;

/// The inbox's filters, as the filter form sends them (empty means any).
#[derive(Deserialize, Default, Clone)]
pub struct Filters {
    #[serde(default)]
    site: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    cause: String,
    #[serde(default)]
    person: String,
}

/// Most characters of a customer's comment shown in a row.
const EXCERPT: usize = 280;

struct Inbox {
    cases: Vec<CaseView>,
    sites: Vec<Site>,
    people: Vec<User>,
}

async fn load(state: &AppState, staff: &Staff, filters: &Filters) -> Result<Inbox, Response> {
    let user = &staff.0.user;
    let status = match filters.status.as_str() {
        "" => "open",
        other => other,
    };
    let listing = Listing {
        status: Some(status.to_owned()),
        site: Some(filters.site.clone()).filter(|s| !s.is_empty()),
        scope: user.scope(),
        assignee: filters.person.parse().ok(),
        cause: Some(filters.cause.clone()).filter(|c| !c.is_empty()),
        by_deadline: true,
        opened: None,
    };
    let now = state.clock.now();
    let listed = cases::list(&state.store, listing, now).await;
    let others = state
        .store
        .read(|tx| Ok::<_, crate::store::StoreError>((tx.sites()?, tx.users()?)))
        .await;
    match (listed, others) {
        (Ok(list), Ok((sites, people))) => Ok(Inbox {
            cases: list.cases,
            sites: sites.into_iter().filter(|s| user.works(s.id)).collect(),
            // An agent sees the names of those who share a site with them, no others.
            people: people
                .into_iter()
                .filter(|p| {
                    user.is_owner() || p.is_owner() || p.site_ids.iter().any(|s| user.works(*s))
                })
                .collect(),
        }),
        (Err(crate::error::Error::UnknownSite), _) => Err(problem(
            StatusCode::NOT_FOUND,
            "No such site",
            "None of your sites has this key.",
        )),
        (Err(crate::error::Error::Invalid { .. }), _) => Err(problem(
            StatusCode::BAD_REQUEST,
            "No such filter",
            "The status must be open, overdue, closed or all.",
        )),
        (Err(err), _) => {
            tracing::error!(error = %err, "listing cases for the desk failed");
            Err(unavailable())
        }
        (_, Err(err)) => {
            tracing::error!(error = %err, "reading sites for the desk failed");
            Err(unavailable())
        }
    }
}

fn unavailable() -> Response {
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "The inbox is unavailable",
        "The desk could not read the cases. Try again in a moment.",
    )
}

/// The whole inbox page.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(filters): Query<Filters>,
) -> Response {
    let inbox = match load(&state, &staff, &filters).await {
        Ok(inbox) => inbox,
        Err(refused) => return refused,
    };
    let now = state.clock.now();
    let main = html! {
        h1 { "Inbox" }
        (filter_form(&inbox, &filters))
        div #live hidden {
            label { input #sound type="checkbox"; " Sound on a new near miss" }
            button #notify type="button" { "Notify me of new near misses" }
        }
        p #announce.visually-hidden role="status" aria-live="polite" {}
        (list(&inbox.cases, now))
    };
    respond(StatusCode::OK, layout("Inbox", Some(&staff.0), main))
}

/// The list alone, for live updates.
pub async fn fragment(
    State(state): State<AppState>,
    staff: Staff,
    Query(filters): Query<Filters>,
) -> Response {
    match load(&state, &staff, &filters).await {
        Ok(inbox) => respond(StatusCode::OK, list(&inbox.cases, state.clock.now())),
        Err(refused) => refused,
    }
}

/// Server-sent events: `changed` whenever a case changed, until the server shuts down.
pub async fn events(State(state): State<AppState>, _staff: Staff) -> Response {
    let Some(listener) = state.live.listen() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let stream = futures_util::stream::unfold(listener, |mut listener| async move {
        Live::next(&mut listener).await.then(|| {
            let event = Event::default().event("changed").data("cases");
            (Ok::<_, Infallible>(event), listener)
        })
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn filter_form(inbox: &Inbox, filters: &Filters) -> Markup {
    let mut causes: Vec<&String> = inbox
        .sites
        .iter()
        .flat_map(|s| &s.settings.causes)
        .collect();
    causes.sort();
    causes.dedup();
    let statuses = [
        ("", "Open"),
        ("overdue", "Overdue"),
        ("closed", "Closed"),
        ("all", "All"),
    ];
    html! {
        form.filters method="get" action="/desk/" {
            (site_select("f-site", "All sites", &inbox.sites, &filters.site))
            div {
                label for="f-status" { "Status" }
                select #f-status name="status" {
                    @for (value, name) in statuses {
                        option value=(value) selected[filters.status == value] { (name) }
                    }
                }
            }
            div {
                label for="f-cause" { "Cause" }
                select #f-cause name="cause" {
                    option value="" { "Any cause" }
                    @for cause in causes {
                        option value=(cause) selected[&filters.cause == cause] { (cause) }
                    }
                }
            }
            div {
                label for="f-person" { "Owner" }
                select #f-person name="person" {
                    option value="" { "Anyone" }
                    @for person in &inbox.people {
                        option value=(person.id) selected[filters.person == person.id.to_string()] { (person.name) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
    }
}

fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn list(cases: &[CaseView], now: i64) -> Markup {
    html! {
        @if cases.is_empty() {
            p #inbox.empty { "Nothing here. New near misses appear at once, without a reload." }
        } @else {
            ul #inbox.cases {
                @for view in cases {
                    @let case = &view.case;
                    @let details = view.rating.details.as_ref();
                    li.case.overdue[case.overdue] data-ref=(case.reference) {
                        p.head {
                            a.ref href={ "/desk/cases/" (case.reference) } { (case.reference) }
                            " "
                            span.score aria-label={ "Score " (view.rating.score) " of " (view.rating.scale) } {
                                (view.rating.score) "/" (view.rating.scale)
                            }
                            " "
                            span.due { (countdown(case, now)) }
                        }
                        @if let Some(comment) = details.and_then(|d| d.comment.as_deref()) {
                            p.words { bdi { (excerpt(comment)) } }
                        }
                        @if let Some(reasons) = details.map(|d| &d.reasons).filter(|r| !r.is_empty()) {
                            ul.reasons aria-label="Reasons" {
                                @for reason in reasons { li { bdi { (reason) } } }
                            }
                        }
                        p.meta {
                            bdi { (case.site_name) } " · "
                            @match &case.assignee {
                                Some(name) => { "Owner: " bdi { (name) } },
                                None => { "Nobody owns it yet" },
                            }
                        }
                    }
                }
            }
        }
    }
}
