//! `/desk/settings` (owners only): sites and their wording, deadlines and keys; where
//! each site's alerts go, with their delivery log and a test button; people; API
//! tokens. A secret (a webhook's signing secret, a new API token) is shown once, on
//! the page that made it.

use super::page::{delivery_state, layout, moment, problem, respond};
use super::{NoFields, Posted, Staff};
use crate::alerts;
use crate::error::Error;
use crate::http::AppState;
use crate::people::{self, NewPerson};
use crate::sites::{self, Site, SiteForm, SiteSettings};
use crate::states::{EndpointKind, Role, Topic};
use crate::store::{
    Delivery, EndpointState, EndpointStatus, RefusedOrigin, StoreError, TokenRecord, User,
};
use crate::time::Timestamp;
use crate::tokens;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;
use std::time::Duration;

/// How long a rotated-out site key keeps working when rotated from the desk.
const KEY_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

fn unavailable(err: impl std::fmt::Display) -> Response {
    tracing::error!(error = %err, "desk settings failed");
    problem(
        StatusCode::SERVICE_UNAVAILABLE,
        "Settings are unavailable",
        "The desk could not read or save the settings. Try again in a moment.",
    )
}

/// Runs blocking work (password hashing, a DNS lookup, a synchronous store call) off
/// the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(work).await.map_err(unavailable)
}

/// What one page of settings says besides its forms: a secret to copy now, or a problem.
#[derive(Default)]
struct Notice {
    /// Shown once: copy it now.
    secret: Option<(String, String)>,
    /// What went wrong, with the id of the field it is about.
    problem: Option<(String, String)>,
    /// Done.
    done: Option<String>,
}

impl Notice {
    /// What went wrong with the field `field` (an element id).
    fn problem(field: impl Into<String>, message: impl Into<String>) -> Notice {
        Notice {
            problem: Some((field.into(), message.into())),
            ..Notice::default()
        }
    }

    /// What was done.
    fn done(message: impl Into<String>) -> Notice {
        Notice {
            done: Some(message.into()),
            ..Notice::default()
        }
    }
}

fn notice(notice: &Notice) -> Markup {
    html! {
        @if let Some((field, message)) = &notice.problem {
            div.error-summary role="alert" tabindex="-1" {
                h2 { "There is a problem" }
                p { a href={ "#" (field) } { (message) } }
            }
        }
        @if let Some((what, secret)) = &notice.secret {
            div.secret role="status" {
                p { strong { (what) } " It is shown only now: copy it somewhere safe." }
                p { code { (secret) } }
            }
        }
        @if let Some(done) = &notice.done {
            p.done role="status" { (done) }
        }
    }
}

// The overview: sites, people, tokens.

/// `/desk/settings`.
pub async fn overview(State(state): State<AppState>, staff: Staff) -> Response {
    render_overview(&state, &staff, StatusCode::OK, Notice::default()).await
}

async fn render_overview(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    note: Notice,
) -> Response {
    let read = state
        .store
        .read(|tx| Ok::<_, StoreError>((tx.sites()?, tx.users()?, tx.tokens()?)))
        .await;
    let (sites, people, tokens) = match read {
        Ok(all) => all,
        Err(err) => return unavailable(err),
    };
    let now = state.clock.now();
    let main = html! {
        h1 { "Settings" }
        (notice(&note))
        section aria-labelledby="sites-title" {
            h2 #sites-title { "Sites" }
            ul.plain {
                @for site in &sites {
                    li { a href={ "/desk/settings/sites/" (site.id) } { (site.settings.name) } " · " code { (site.key) } }
                }
            }
            form.stack method="post" action="/desk/settings/sites" {
                input type="hidden" name="csrf" value=(staff.0.csrf);
                h3 { "Add a site" }
                label for="site-name" { "Business name" }
                input #site-name name="name" required;
                label for="site-origin" { "Page origin (where the widget is embedded)" }
                input #site-origin name="origin" placeholder="https://shop.example" required;
                button type="submit" { "Add the site" }
            }
        }
        section aria-labelledby="people-title" {
            h2 #people-title { "People" }
            (people_list(&people, &sites, staff))
            (person_form(&sites, staff))
        }
        section aria-labelledby="tokens-title" {
            h2 #tokens-title { "API tokens" }
            (token_list(&tokens, staff, now))
            form.inline method="post" action="/desk/settings/tokens" {
                input type="hidden" name="csrf" value=(staff.0.csrf);
                label for="token-name" { "Make a token for (a person or an integration)" }
                input #token-name name="name" required;
                button type="submit" { "Make a token" }
            }
        }
    };
    respond(status, layout("Settings", Some(&staff.0), main))
}

fn people_list(people: &[User], sites: &[Site], staff: &Staff) -> Markup {
    html! {
        ul.plain {
            @for person in people {
                li {
                    bdi { (person.name) } " · " (person.email) " · " (person.role)
                    @if !person.is_owner() {
                        " · "
                        (sites.iter().filter(|s| person.site_ids.contains(&s.id)).map(|s| s.settings.name.as_str()).collect::<Vec<_>>().join(", "))
                    }
                    @if person.id != staff.0.user.id {
                        form.row method="post" action={ "/desk/settings/people/" (person.id) "/remove" } {
                            input type="hidden" name="csrf" value=(staff.0.csrf);
                            button.quiet type="submit" { "Remove " (person.name) }
                        }
                    }
                }
            }
        }
    }
}

fn person_form(sites: &[Site], staff: &Staff) -> Markup {
    html! {
        form.stack method="post" action="/desk/settings/people" {
            input type="hidden" name="csrf" value=(staff.0.csrf);
            h3 { "Add a person" }
            label for="person-email" { "Email" }
            input #person-email type="email" name="email" required;
            label for="person-name" { "Name" }
            input #person-name name="name" required;
            label for="person-role" { "Role" }
            select #person-role name="role" {
                option value="agent" { "Agent: works the cases of the sites ticked below" }
                option value="owner" { "Owner: every site, and these settings" }
            }
            fieldset {
                legend { "Sites (for an agent)" }
                @for site in sites {
                    @let id = format!("person-site-{}", site.id);
                    div.check {
                        input id=(id) type="checkbox" name="site" value=(site.key);
                        label for=(id) { (site.settings.name) }
                    }
                }
            }
            label for="person-password" { "First password (at least 10 characters; pass it on in person)" }
            input #person-password type="password" name="password" autocomplete="new-password" required minlength="10";
            button type="submit" { "Add the person" }
        }
    }
}

fn token_list(tokens: &[TokenRecord], staff: &Staff, now: i64) -> Markup {
    html! {
        @if tokens.is_empty() {
            p { "No API token yet." }
        } @else {
            ul.plain {
                @for token in tokens {
                    li {
                        bdi { (token.name) } " · made " (moment(Timestamp(token.created_at), "UTC", now))
                        @if token.site_ids.is_empty() { " · every site" } @else { " · " (token.site_ids.len()) " site(s)" }
                        @if let Some(at) = token.expires_at {
                            @if at <= now { " · expired" } @else { " · expires " (moment(Timestamp(at), "UTC", now)) }
                        }
                        form.row method="post" action={ "/desk/settings/tokens/" (token.id) "/revoke" } {
                            input type="hidden" name="csrf" value=(staff.0.csrf);
                            button.quiet type="submit" { "Revoke " (token.name) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct NewSiteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    origin: String,
}

/// Adds a site with the usual settings; its page follows, to adjust them.
pub async fn add_site(
    State(state): State<AppState>,
    Posted(staff, form): Posted<NewSiteForm>,
) -> Response {
    let name = form.name.trim().to_owned();
    let origin = sites::normalize_origin(&form.origin);
    let (field, message) = match (&origin, name.is_empty()) {
        (_, true) => ("site-name", "Give the business's name."),
        (None, _) => ("site-origin", "The origin is like https://shop.example."),
        (Some(_), false) => ("", ""),
    };
    if !field.is_empty() {
        let note = Notice::problem(field, message);
        return render_overview(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, note).await;
    }
    let mut settings = SiteSettings::new(&name);
    settings.origins = origin.into_iter().collect();
    let (store, now) = (state.store.clone(), state.clock.now());
    match blocking(move || sites::add(&store, settings, now)).await {
        Ok(Ok(site)) => Redirect::to(&format!("/desk/settings/sites/{}", site.id)).into_response(),
        Ok(Err(err)) => unavailable(err),
        Err(refused) => refused,
    }
}

/// Adds a person.
pub async fn add_person(
    State(state): State<AppState>,
    Posted(staff, form): Posted<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let sites: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "site")
        .map(|(_, v)| v.clone())
        .collect();
    let role = Role::parse(&field("role")).unwrap_or(Role::Agent);
    let new = NewPerson {
        email: field("email"),
        name: field("name"),
        role,
        sites: if role == Role::Owner {
            Vec::new()
        } else {
            sites
        },
        password: field("password"),
    };
    let (store, now) = (state.store.clone(), state.clock.now());
    let added = match blocking(move || people::add(&store, new, now)).await {
        Ok(added) => added,
        Err(refused) => return refused,
    };
    let note = match added {
        Ok(user) => Notice::done(format!(
            "Added {} ({}). They log in at /desk/login.",
            user.name, user.email
        )),
        Err(Error::Invalid { field, message, .. }) => Notice::problem(
            format!("person-{}", if field == "site" { "role" } else { field }),
            message,
        ),
        Err(Error::UnknownSite) => {
            Notice::problem("person-role", "A ticked site no longer exists.")
        }
        Err(err) => return unavailable(err),
    };
    let status = if note.problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_overview(&state, &staff, status, note).await
}

/// Removes a person (never yourself: another owner does that).
pub async fn remove_person(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(staff, NoFields {}): Posted<NoFields>,
) -> Response {
    if id == staff.0.user.id {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not removed",
            "You cannot remove yourself; another owner can.",
        );
    }
    let email = match state.store.read(|tx| tx.users()).await {
        Ok(users) => users.into_iter().find(|u| u.id == id).map(|u| u.email),
        Err(err) => return unavailable(err),
    };
    let Some(email) = email else {
        return Redirect::to("/desk/settings").into_response();
    };
    let store = state.store.clone();
    match blocking(move || people::remove(&store, &email)).await {
        Ok(Ok(_)) => Redirect::to("/desk/settings#people-title").into_response(),
        Ok(Err(err)) => unavailable(err),
        Err(refused) => refused,
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

/// Makes an API token and shows it once.
pub async fn add_token(
    State(state): State<AppState>,
    Posted(staff, form): Posted<TokenForm>,
) -> Response {
    let name = form.name.trim().to_owned();
    if name.is_empty()
        || nearmiss_core::check_line(&name, "name", nearmiss_core::LIMITS.actor).is_err()
    {
        let note = Notice::problem("token-name", "Name the token, on one line.");
        return render_overview(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, note).await;
    }
    let (store, now, label) = (state.store.clone(), state.clock.now(), name.clone());
    match blocking(move || tokens::add(&store, &name, now)).await {
        Ok(Ok(token)) => {
            let note = Notice {
                secret: Some((format!("The API token for {label}:"), token)),
                ..Notice::default()
            };
            render_overview(&state, &staff, StatusCode::OK, note).await
        }
        Ok(Err(err)) => unavailable(err),
        Err(refused) => refused,
    }
}

/// Revokes an API token at once.
pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(_, NoFields {}): Posted<NoFields>,
) -> Response {
    match tokens::revoke(&state.store, id).await {
        Ok(_) => Redirect::to("/desk/settings#tokens-title").into_response(),
        Err(err) => unavailable(err),
    }
}

// One site: its settings, key and alerts.

struct SitePage {
    site: Site,
    endpoints: Vec<(EndpointState, Vec<Delivery>)>,
    refused: Vec<RefusedOrigin>,
}

async fn load_site(state: &AppState, id: i64) -> Result<Option<SitePage>, StoreError> {
    let Some(site) = state.store.read(move |tx| tx.site_by_id(id)).await? else {
        return Ok(None);
    };
    let mut endpoints = Vec::new();
    for endpoint in alerts::endpoint_states(&state.store, site.id).await? {
        let log = alerts::delivery_log(&state.store, endpoint.id).await?;
        endpoints.push((endpoint, log));
    }
    let refused = crate::origins::refused(&state.store, &site).await?;
    Ok(Some(SitePage {
        site,
        endpoints,
        refused,
    }))
}

/// The site a settings form posts to, or the page that says it is gone.
async fn site_page(state: &AppState, id: i64) -> Result<Site, Response> {
    match state.store.read(move |tx| tx.site_by_id(id)).await {
        Ok(Some(site)) => Ok(site),
        Ok(None) => Err(problem(
            StatusCode::NOT_FOUND,
            "No such site",
            "It may have been removed.",
        )),
        Err(err) => Err(unavailable(err)),
    }
}

/// The site's page again, with what was wrong with the form (`422`).
async fn refuse_on_site(state: &AppState, staff: &Staff, id: i64, note: Notice) -> Response {
    render_site(
        state,
        staff,
        id,
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
        note,
    )
    .await
}

/// `/desk/settings/sites/{id}`.
pub async fn site(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Response {
    render_site(&state, &staff, id, None, StatusCode::OK, Notice::default()).await
}

async fn render_site(
    state: &AppState,
    staff: &Staff,
    id: i64,
    form: Option<SiteForm>,
    status: StatusCode,
    note: Notice,
) -> Response {
    let page = match load_site(state, id).await {
        Ok(Some(page)) => page,
        Ok(None) => {
            return problem(
                StatusCode::NOT_FOUND,
                "No such site",
                "It may have been removed.",
            )
        }
        Err(err) => return unavailable(err),
    };
    let site = &page.site;
    let form = form.unwrap_or_else(|| SiteForm::of(&site.settings));
    let now = state.clock.now();
    let action = format!("/desk/settings/sites/{}", site.id);
    let main = html! {
        p { a href="/desk/settings" { "Settings" } }
        h1 { (site.settings.name) }
        (notice(&note))
        p { "Key " code { (site.key) } ". Embed the widget with:" }
        pre { code { "<script src=\"" (state.alerts.public_url) "/nearmiss.js\" data-site=\"" (site.key) "\" async></script>" } }
        form.row method="post" action={ (action) "/rotate-key" } {
            input type="hidden" name="csrf" value=(staff.0.csrf);
            button.quiet type="submit" { "Give the site a new key (the old one works 7 more days)" }
        }
        @if !page.refused.is_empty() {
            section.refused aria-labelledby="refused-title" {
                h2 #refused-title { "Ratings refused from other origins" }
                p {
                    "Pages on these origins carry this site's widget, but they are not among its origins, "
                    "so the widget stays hidden there and their customers cannot rate. If the pages are yours, allow the origin. "
                    "Allow only origins you know: any program can send a request that claims to come from any origin."
                }
                ul {
                    @for refused in &page.refused {
                        li {
                            bdi { (refused.origin) } ": " (refused.refusals)
                            @if refused.refusals == 1 { " request refused, last " } @else { " requests refused, last " }
                            (moment(Timestamp(refused.last_at), &site.settings.timezone, now))
                            form.row method="post" action={ (action) "/origins" } {
                                input type="hidden" name="csrf" value=(staff.0.csrf);
                                input type="hidden" name="origin" value=(refused.origin);
                                // Short on a phone; the name says which origin.
                                button type="submit" aria-label={ "Allow " (refused.origin) } { "Allow" }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Settings" }
        (site_form(&form, &action, staff))
        h2 #alerts-title { "Alerts" }
        @if page.endpoints.is_empty() {
            p { "Nobody hears of this site's near misses yet: add where its alerts go." }
        }
        @for (endpoint, log) in &page.endpoints {
            (endpoint_view(endpoint, log, &action, staff, &site.settings.timezone, now))
        }
        (endpoint_form(&action, staff))
    };
    respond(status, layout(&site.settings.name, Some(&staff.0), main))
}

fn text_field(id: &str, label: &str, hint: Option<&str>, value: &str, multiline: bool) -> Markup {
    html! {
        @let hint_id = format!("{id}-hint");
        @let described = hint.map(|_| hint_id.as_str());
        label for=(id) { (label) }
        @if let Some(hint) = hint { p.hint id=(hint_id) { (hint) } }
        @if multiline {
            textarea id=(id) name=(id) rows="4" aria-describedby=[described] { (value) }
        } @else {
            input id=(id) name=(id) value=(value) aria-describedby=[described];
        }
    }
}

fn site_form(form: &SiteForm, action: &str, staff: &Staff) -> Markup {
    html! {
        form.stack method="post" action=(action) {
            input type="hidden" name="csrf" value=(staff.0.csrf);
            (text_field("name", "Business name", None, &form.name, false))
            (text_field("origins", "Origins", Some("Where the widget is embedded, one per line, like https://shop.example."), &form.origins, true))
            label for="scale" { "Scale" }
            select #scale name="scale" {
                option value="5" selected[form.scale == "5"] { "1 to 5 stars" }
                option value="10" selected[form.scale == "10"] { "0 to 10" }
            }
            (text_field("ack_within", "Acknowledge within", Some("Like 15m or 2h."), &form.ack_within, false))
            (text_field("close_within", "Close within", Some("Like 2d."), &form.close_within, false))
            (text_field("timezone", "Time zone", Some("Times in alerts and on the desk, like Europe/London."), &form.timezone, false))
            (text_field("hours", "Opening hours (optional)", Some("Like Mo-Fr 09:00-17:30; Sa 10:00-14:00, in the time zone above. Deadlines then count open time only; empty: always open."), &form.hours, false))
            (text_field("reasons", "Reasons customers pick", Some("One per line."), &form.reasons, true))
            (text_field("causes", "Root-cause categories", Some("One per line."), &form.causes, true))
            (text_field("apology", "Apology after a near miss", None, &form.apology, true))
            (text_field("owner", "Who will get back to the customer", Some("Part of the promise, like: The Corner Bistro team."), &form.owner, false))
            (text_field("words", "The widget in your words (optional)", Some("One per line, like en.question = How was your order? or de.question = Wie war Ihre Bestellung? (languages en es fr de pt it nl ar; the words are those of www/words/en.json; keep any {…} in them). Customers see the product's words in any language you leave out."), &form.words, true))
            (text_field("accent", "Accent colour (optional)", Some("Like #0a7d5a: the widget's buttons; text on it is black or white, whichever reads better. Empty: the widget's blue."), &form.accent, false))
            (text_field("review_url", "Public review link (optional)", Some("Offered to every rater, never only to happy ones."), &form.review_url, false))
            div.check {
                input #require_token type="checkbox" name="require_token" checked[form.require_token.is_some()];
                label for="require_token" { "Accept only interactions your server signed" }
            }
            button type="submit" { "Save the settings" }
        }
    }
}

fn endpoint_view(
    endpoint: &EndpointState,
    log: &[Delivery],
    action: &str,
    staff: &Staff,
    zone: &str,
    now: i64,
) -> Markup {
    let state = match endpoint.state {
        EndpointStatus::Active => "active",
        EndpointStatus::Disabled => "disabled",
    };
    html! {
        section.endpoint aria-label={ (endpoint.kind) " alerts to " (endpoint.target) } {
            h3 { (endpoint.kind) ": " bdi { (endpoint.target) } }
            p {
                (state)
                @if endpoint.escalation { ", overdue cases only (escalation)" }
                ". Delivered " (endpoint.delivered) ", waiting " (endpoint.pending) ", failed " (endpoint.failed) "."
                @if let Some(reason) = &endpoint.disabled_reason { " Disabled: " (reason) "." }
            }
            @if let Some(error) = &endpoint.last_error { p.field-error { "Last error: " (error) } }
            @if endpoint.state == EndpointStatus::Active {
                form.row method="post" action={ (action) "/alerts/" (endpoint.id) "/test" } {
                    input type="hidden" name="csrf" value=(staff.0.csrf);
                    button.quiet type="submit" { "Send a test alert to " (endpoint.target) }
                }
            }
            @if !log.is_empty() {
                details {
                    summary { "Delivery log" }
                    table {
                        thead { tr { th { "Event" } th { "Case" } th { "Queued" } th { "Attempts" } th { "State" } } }
                        tbody {
                            @for delivery in log {
                                tr {
                                    td { (delivery.event) }
                                    td {
                                        @match (&delivery.case_ref, delivery.event) {
                                            (Some(reference), _) => (reference),
                                            (None, Topic::OriginRefused) => "setup",
                                            (None, _) => "test",
                                        }
                                    }
                                    td { (moment(Timestamp(delivery.created_at), zone, now)) }
                                    td { (delivery.attempts) }
                                    td { (delivery_state(delivery, zone, now)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn endpoint_form(action: &str, staff: &Staff) -> Markup {
    html! {
        form.stack method="post" action={ (action) "/alerts" } {
            input type="hidden" name="csrf" value=(staff.0.csrf);
            h3 { "Add where alerts go" }
            label for="alert-kind" { "Kind" }
            select #alert-kind name="kind" {
                option value="email" { "Email" }
                option value="slack" { "Slack incoming webhook" }
                option value="webhook" { "Webhook (Standard Webhooks, signed)" }
            }
            label for="alert-target" { "Email address or URL" }
            input #alert-target name="target" required;
            div.check {
                input #alert-escalation type="checkbox" name="escalation";
                label for="alert-escalation" { "Escalation: overdue cases only" }
            }
            button type="submit" { "Add" }
        }
    }
}

/// Saves a site's settings; a refused value shows the form again with the reason.
pub async fn save_site(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(staff, form): Posted<SiteForm>,
) -> Response {
    let saved = match form.settings() {
        Ok(settings) => sites::update(&state.store, id, settings).await,
        Err(refused) => Err(refused),
    };
    match saved {
        Ok(()) => {
            let note = Notice::done("Saved. The widget and new cases use it at once.");
            render_site(&state, &staff, id, None, StatusCode::OK, note).await
        }
        Err(Error::Invalid { field, message, .. }) => {
            let note = Notice::problem(field, message);
            render_site(
                &state,
                &staff,
                id,
                Some(form),
                StatusCode::UNPROCESSABLE_ENTITY,
                note,
            )
            .await
        }
        Err(err) => unavailable(err),
    }
}

#[derive(Deserialize)]
pub struct OriginForm {
    #[serde(default)]
    origin: String,
}

/// Allows a refused origin: adds it to the site's origins.
pub async fn allow_origin(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(staff, form): Posted<OriginForm>,
) -> Response {
    let Some(origin) = sites::normalize_origin(&form.origin) else {
        let note = Notice::problem(
            "origins",
            "This is not an origin like https://shop.example.",
        );
        return refuse_on_site(&state, &staff, id, note).await;
    };
    let site = match site_page(&state, id).await {
        Ok(site) => site,
        Err(refused) => return refused,
    };
    let mut settings = site.settings;
    if !settings.origins.contains(&origin) {
        settings.origins.push(origin.clone());
    }
    match sites::update(&state.store, id, settings).await {
        Ok(()) => {
            let note = Notice::done(format!(
                "Pages on {origin} can send ratings now (the widget shows there within a minute)."
            ));
            render_site(&state, &staff, id, None, StatusCode::OK, note).await
        }
        Err(Error::Invalid { field, message, .. }) => {
            let note = Notice::problem(field, message);
            refuse_on_site(&state, &staff, id, note).await
        }
        Err(err) => unavailable(err),
    }
}

/// Gives the site a new key.
pub async fn rotate_key(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(staff, NoFields {}): Posted<NoFields>,
) -> Response {
    let key = match site_page(&state, id).await {
        Ok(site) => site.key,
        Err(refused) => return refused,
    };
    let (store, now) = (state.store.clone(), state.clock.now());
    match blocking(move || sites::rotate_key(&store, &key, KEY_GRACE, now)).await {
        Ok(Ok(new_key)) => {
            let note = Notice::done(format!(
                "The new key is {new_key}: update data-site on your pages within 7 days."
            ));
            render_site(&state, &staff, id, None, StatusCode::OK, note).await
        }
        Ok(Err(err)) => unavailable(err),
        Err(refused) => refused,
    }
}

#[derive(Deserialize)]
pub struct EndpointForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    escalation: Option<String>,
}

/// Adds where a site's alerts go; a webhook's signing secret is shown once.
pub async fn add_endpoint(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted(staff, form): Posted<EndpointForm>,
) -> Response {
    let Some(kind) = EndpointKind::parse(&form.kind) else {
        let note = Notice::problem("alert-kind", "Choose email, Slack or webhook.");
        return refuse_on_site(&state, &staff, id, note).await;
    };
    let target = form.target.trim().to_owned();
    let allow_private = state.alerts.allow_private_targets;
    let checked = target.clone();
    let verdict = match blocking(move || alerts::check_target(kind, &checked, allow_private)).await
    {
        Ok(verdict) => verdict,
        Err(refused) => return refused,
    };
    if let Err(why) = verdict {
        let note = Notice::problem("alert-target", why);
        return refuse_on_site(&state, &staff, id, note).await;
    }
    let (store, now, escalation) = (
        state.store.clone(),
        state.clock.now(),
        form.escalation.is_some(),
    );
    let shown = target.clone();
    match blocking(move || alerts::add_endpoint(&store, id, kind, &target, escalation, now)).await {
        Ok(Ok((_, secret))) => {
            let note = Notice {
                secret: secret.map(|s| (format!("The signing secret for {shown}:"), s)),
                done: Some(format!(
                    "Alerts now go to {shown}. Send a test alert to check it."
                )),
                ..Notice::default()
            };
            render_site(&state, &staff, id, None, StatusCode::OK, note).await
        }
        Ok(Err(err)) => unavailable(err),
        Err(refused) => refused,
    }
}

/// Sends a test alert to one endpoint.
pub async fn test_endpoint(
    State(state): State<AppState>,
    Path((id, endpoint)): Path<(i64, i64)>,
    Posted(staff, NoFields {}): Posted<NoFields>,
) -> Response {
    let site = match site_page(&state, id).await {
        Ok(site) => site,
        Err(refused) => return refused,
    };
    match alerts::send_test(&state.store, site, endpoint, state.clock.now()).await {
        Ok(true) => {
            state.alerts.wake();
            let note = Notice::done("Test alert queued: its delivery shows in the log below.");
            render_site(&state, &staff, id, None, StatusCode::OK, note).await
        }
        Ok(false) => problem(
            StatusCode::NOT_FOUND,
            "No such endpoint",
            "It may have been disabled.",
        ),
        Err(err) => unavailable(err),
    }
}
