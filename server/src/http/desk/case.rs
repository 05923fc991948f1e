//! `/desk/cases/{ref}`: what the customer said, how to reach them, who owns the case,
//! every step so far, and one small form per recovery step. A refused step shows the
//! page again with the reason in words, linked to its field.

use super::page::{countdown, delivery_state, layout, moment, problem, respond, step_name};
use super::{Posted, Staff};
use crate::alerts::message;
use crate::bodies::CustomerEmail;
use crate::bodies::{CaseView, StepRequest};
use crate::cases::{self, Actor, Workbench};
use crate::error::Error;
use crate::http::AppState;
use crate::states::{Status, Step};
use crate::time::Timestamp;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

/// What went wrong with a posted step: the message, and the field it is about.
struct Refusal {
    step: Step,
    field: &'static str,
    message: String,
}

/// What a person typed into a step's form, shown again with a refusal or a preview.
struct Typed {
    step: Step,
    note: String,
    message: String,
    /// Show the customer's email as it will be sent.
    preview: bool,
}

/// The closing rule, as staff read it.
const CLOSING_RULE: &str = "A case closes once someone has acknowledged it, its root cause \
     is found, and the customer was told what changed (or you write here why they were not).";

/// The case page.
pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(reference): Path<String>,
) -> Response {
    show(&state, &staff, reference, StatusCode::OK, None, None).await
}

async fn show(
    state: &AppState,
    staff: &Staff,
    reference: String,
    status: StatusCode,
    refusal: Option<Refusal>,
    typed: Option<Typed>,
) -> Response {
    let now = state.clock.now();
    match cases::workbench(&state.store, reference.clone(), staff.0.user.scope(), now).await {
        Ok(bench) => {
            let title = bench.view.case.reference.clone();
            let main = render(&bench, staff, refusal.as_ref(), typed.as_ref(), now);
            respond(status, layout(&title, Some(&staff.0), main))
        }
        Err(Error::UnknownCase) => not_found(&reference),
        Err(err) => {
            tracing::error!(error = %err, "reading a case for the desk failed");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "The case is unavailable",
                "The desk could not read this case. Try again in a moment.",
            )
        }
    }
}

fn not_found(reference: &str) -> Response {
    let advice = format!(
        "No case {} is among the sites you work. Check the reference, or ask an owner for access.",
        reference.trim().to_ascii_uppercase()
    );
    problem(StatusCode::NOT_FOUND, "No such case", &advice)
}

#[derive(Deserialize)]
pub struct StepForm {
    #[serde(default)]
    step: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    cause: String,
    /// A prevention's id, or `new` for the action written in `action`.
    #[serde(default)]
    prevention: String,
    #[serde(default)]
    action: String,
    /// What to email the customer (customer_told, closed).
    #[serde(default)]
    message: String,
    /// Set by the "Preview the email" button: show it, record nothing.
    #[serde(default)]
    preview: String,
}

/// Records a step as the logged-in person.
pub async fn add_step(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Posted(staff, form): Posted<StepForm>,
) -> Response {
    let Some(step) = Step::parse(&form.step) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "No such step",
            "Go back to the case and use one of its forms.",
        );
    };
    let typed = Typed {
        step,
        note: form.note.clone(),
        message: form.message.clone(),
        preview: !form.preview.is_empty(),
    };
    if typed.preview {
        return show(&state, &staff, reference, StatusCode::OK, None, Some(typed)).await;
    }
    let text = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let request = StepRequest {
        step: form.step.clone(),
        note: text(&form.note),
        actor: None,
        cause: text(&form.cause),
        action: text(&form.action)
            .filter(|_| form.prevention == "new" || form.prevention.is_empty()),
        prevention: form.prevention.parse().ok(),
        message: text(&form.message),
    };
    let user = &staff.0.user;
    let by = Actor {
        name: user.name.clone(),
        user: Some(user.id),
        email: Some(user.email.clone()),
        scope: user.scope(),
    };
    let now = state.clock.now();
    match cases::add_step(&state.store, reference.clone(), request, by, now).await {
        Ok(view) => {
            state.cases_changed();
            Redirect::to(&format!("/desk/cases/{}#steps", view.case.reference)).into_response()
        }
        Err(Error::UnknownCase) => not_found(&reference),
        Err(err) => match refusal(step, &err) {
            Some(refusal) => {
                show(
                    &state,
                    &staff,
                    reference,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(refusal),
                    Some(typed),
                )
                .await
            }
            None => {
                tracing::error!(error = %err, "recording a step from the desk failed");
                problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The step was not recorded",
                    "The desk could not save it. Go back and try again in a moment.",
                )
            }
        },
    }
}

/// The refusal to show with the form, for an error a person can act on.
fn refusal(step: Step, err: &Error) -> Option<Refusal> {
    let (field, message) = match err {
        Error::Invalid { field, message, .. } => (*field, (*message).to_owned()),
        Error::Validation(invalid) => (invalid.field, invalid.to_string()),
        Error::CaseClosed => ("note", "This case is closed already.".to_owned()),
        Error::CannotClose(missing) => (
            "note",
            format!("This case cannot be closed yet. {CLOSING_RULE} Still missing: {missing}."),
        ),
        _ => return None,
    };
    Some(Refusal {
        step,
        field: match field {
            "cause" | "prevention" | "action" | "message" => field,
            _ => "note",
        },
        message,
    })
}

#[derive(Deserialize)]
pub struct AssignForm {
    /// A person's id, or empty for nobody.
    #[serde(default)]
    owner: String,
}

/// Gives the case to a person, or to nobody.
pub async fn assign(
    State(state): State<AppState>,
    Path(reference): Path<String>,
    Posted(staff, form): Posted<AssignForm>,
) -> Response {
    let owner = form.owner.parse().ok();
    let scope = staff.0.user.scope();
    match cases::assign(&state.store, reference.clone(), scope, owner).await {
        Ok(()) => {
            state.live.changed();
            let reference = reference.trim().to_ascii_uppercase();
            Redirect::to(&format!("/desk/cases/{reference}")).into_response()
        }
        Err(Error::UnknownCase) => not_found(&reference),
        Err(Error::Invalid { message, .. }) => {
            problem(StatusCode::UNPROCESSABLE_ENTITY, "Not assigned", message)
        }
        Err(err) => {
            tracing::error!(error = %err, "assigning a case failed");
            problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not assigned",
                "The desk could not save it. Go back and try again in a moment.",
            )
        }
    }
}

fn render(
    bench: &Workbench,
    staff: &Staff,
    refusal: Option<&Refusal>,
    typed: Option<&Typed>,
    now: i64,
) -> Markup {
    let view = &bench.view;
    let case = &view.case;
    let status = match (case.status, case.overdue) {
        (Status::Closed, _) => "Closed",
        (_, true) => "Overdue",
        _ => "Open",
    };
    html! {
        @if let Some(refusal) = refusal {
            div.error-summary role="alert" tabindex="-1" {
                h2 { "There is a problem" }
                p { a href={ "#" (field_id(refusal.step, refusal.field)) } { (refusal.message) } }
            }
        }
        h1 { (case.reference) " " span.badge.(status.to_lowercase()) { (status) } }
        p.due { (countdown(case, now)) }
        p.meta {
            "Score " strong { (view.rating.score) "/" (view.rating.scale) } " at " bdi { (case.site_name) }
            ", " (moment(case.opened_at, &case.timezone, now))
        }
        (said(view))
        (owner_form(bench, staff))
        section #steps aria-labelledby="steps-title" {
            h2 #steps-title { "Steps" }
            @if case.steps.is_empty() {
                p { "No step yet: acknowledge it to stop the clock." }
            } @else {
                ol.steps {
                    @for step in &case.steps {
                        li {
                            strong { (step_name(step.step)) } " by " bdi { (step.actor) } ", " (moment(step.at, &case.timezone, now))
                            @if let Some(cause) = &step.cause { p { "Cause: " bdi { (cause) } } }
                            @if let Some(prevention) = &step.prevention { p { "Prevention: " bdi.text { (prevention.action) } } }
                            @if let Some(note) = &step.note { p.text { bdi { (note) } } }
                            @if let Some(message) = &step.message {
                                p { "Written to the customer:" }
                                blockquote.text { bdi { (message) } }
                            }
                        }
                    }
                }
            }
        }
        (messages(bench, now))
        @if case.status == Status::Open {
            section aria-labelledby="work-title" {
                h2 #work-title { "Record a step" }
                @for step in Step::ALL {
                    (step_form(bench, staff, *step, refusal, typed))
                }
            }
        }
    }
}

/// What the customer said, and (if they agreed) how to reach them.
fn said(view: &CaseView) -> Markup {
    let details = view.rating.details.as_ref();
    html! {
        section aria-labelledby="said-title" {
            h2 #said-title { "What the customer said" }
            @match details.and_then(|d| d.comment.as_deref()) {
                Some(comment) => { blockquote.text { bdi { (comment) } } },
                None => { p { "No comment." } },
            }
            @if let Some(reasons) = details.map(|d| &d.reasons).filter(|r| !r.is_empty()) {
                ul.reasons aria-label="Reasons" { @for reason in reasons { li { bdi { (reason) } } } }
            }
            @if let Some(interaction) = &view.rating.interaction {
                p { "About: " bdi { (interaction) } }
            }
            h3 { "Contact" }
            @match details.and_then(|d| d.contact.as_ref()) {
                Some(contact) => {
                    dl.contact {
                        @if let Some(name) = &contact.name { dt { "Name" } dd { bdi { (name) } } }
                        @if let Some(email) = &contact.email {
                            dt { "Email" }
                            dd {
                                a href={ "mailto:" (email) } { bdi { (email) } }
                                " " button.copy type="button" data-copy=(email) hidden { "Copy" }
                            }
                        }
                        @if let Some(phone) = &contact.phone {
                            @let dial: String = phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
                            dt { "Phone" }
                            dd {
                                a href={ "tel:" (dial) } { bdi { (phone) } }
                                " " button.copy type="button" data-copy=(phone) hidden { "Copy" }
                            }
                        }
                    }
                },
                None => { p { "The customer left no way to reach them." } },
            }
        }
    }
}

fn owner_form(bench: &Workbench, staff: &Staff) -> Markup {
    let case = &bench.view.case;
    let current = case.assignee.as_deref();
    html! {
        form.inline method="post" action={ "/desk/cases/" (case.reference) "/assign" } {
            input type="hidden" name="csrf" value=(staff.0.csrf);
            label for="owner" { "Owner" }
            select #owner name="owner" {
                option value="" selected[current.is_none()] { "Nobody yet" }
                @for person in &bench.people {
                    option value=(person.id) selected[current == Some(person.name.as_str())] { (person.name) }
                }
            }
            button type="submit" { "Assign" }
        }
    }
}

fn field_id(step: Step, field: &str) -> String {
    format!("{field}-{}", step.as_str())
}

fn step_form(
    bench: &Workbench,
    staff: &Staff,
    step: Step,
    refusal: Option<&Refusal>,
    typed: Option<&Typed>,
) -> Markup {
    let case = &bench.view.case;
    let refused = refusal.filter(|r| r.step == step);
    let typed = typed.filter(|t| t.step == step);
    let (title, note_label, button) = match step {
        Step::Acknowledged => ("Acknowledge", "Note (optional)", "Acknowledge: I own this"),
        Step::Contacted => (
            "Contact the customer",
            "How, and what you said",
            "Record the contact",
        ),
        Step::Fixed => ("Put it right", "What was put right", "Record the fix"),
        Step::MadeGood => (
            "Make good",
            "What was given to make up for it",
            "Record what was given",
        ),
        Step::CauseFound => ("Find the cause", "Note (optional)", "Record the cause"),
        Step::CustomerTold => (
            "Tell the customer",
            "Note for the team (not sent)",
            "Record it and send the message",
        ),
        Step::Closed => (
            "Close",
            "Note for the team: if the customer was not told what changed, why (not sent)",
            "Close the case",
        ),
    };
    let done = case.steps.iter().any(|s| s.step == step);
    let error = |field: &str| {
        refused
            .filter(|r| r.field == field)
            .map(|r| r.message.as_str())
    };
    let note_id = field_id(step, "note");
    html! {
        details.step id={ "step-" (step.as_str()) } open[refused.is_some() || typed.is_some() || (!done && next_step(bench) == Some(step))] {
            summary { (title) @if done { " (done)" } }
            form.stack method="post" action={ "/desk/cases/" (case.reference) "/steps" } {
                input type="hidden" name="csrf" value=(staff.0.csrf);
                input type="hidden" name="step" value=(step.as_str());
                @if step == Step::CauseFound {
                    @let cause_id = field_id(step, "cause");
                    label for=(cause_id) { "Root cause" }
                    @if let Some(message) = error("cause") { p.field-error { (message) } }
                    select id=(cause_id) name="cause" {
                        @for cause in &bench.causes { option value=(cause) { (cause) } }
                    }
                    @let prevention_id = field_id(step, "prevention");
                    label for=(prevention_id) { "Prevention" }
                    @if let Some(message) = error("prevention") { p.field-error { (message) } }
                    select id=(prevention_id) name="prevention" {
                        option value="new" { "A new action (write it below)" }
                        @for prevention in &bench.preventions {
                            option value=(prevention.id) { (prevention.cause) ": " (prevention.action) }
                        }
                    }
                    @let action_id = field_id(step, "action");
                    label for=(action_id) { "New action that prevents it happening again" }
                    @if let Some(message) = error("action") { p.field-error { (message) } }
                    textarea id=(action_id) name="action" rows="2" {}
                }
                @if step == Step::Closed { p.hint { (CLOSING_RULE) } }
                @if matches!(step, Step::CustomerTold | Step::Closed) {
                    (message_field(bench, step, typed, error("message")))
                }
                label for=(note_id) { (note_label) }
                @if let Some(message) = error("note") { p.field-error { (message) } }
                textarea id=(note_id) name="note" rows="2" required[step == Step::MadeGood] {
                    @if let Some(typed) = typed { (typed.note) }
                }
                div.row {
                    button type="submit" { (button) }
                    @if matches!(step, Step::CustomerTold | Step::Closed) && customer_email(&bench.view).is_some() {
                        button.quiet type="submit" name="preview" value="1" formnovalidate { "Preview the email" }
                    }
                }
            }
        }
    }
}

/// The message to the customer on the `customer_told` and `closed` forms: proposed from
/// the case (unless the customer was told already), edited by the person, and shown
/// as it will be sent on "Preview the email".
fn message_field(
    bench: &Workbench,
    step: Step,
    typed: Option<&Typed>,
    error: Option<&str>,
) -> Markup {
    let case = &bench.view.case;
    let Some(email) = customer_email(&bench.view) else {
        return html! {
            p.hint { "The customer left no email address (or no consent to write), so nothing is sent to them." }
        };
    };
    let told = case.steps.iter().any(|s| s.message.is_some());
    let text = match typed {
        Some(typed) => typed.message.clone(),
        None if step == Step::Closed && told => String::new(),
        None => message::customer_draft(&bench.view),
    };
    let id = field_id(step, "message");
    let hint = format!("{id}-hint");
    let preview = typed
        .filter(|t| t.preview && !t.message.trim().is_empty())
        .map(|t| {
            message::customer_email(
                &CustomerEmail {
                    reference: case.reference.clone(),
                    site_name: case.site_name.clone(),
                    step,
                    message: t.message.trim().to_owned(),
                },
                "[a one-click link to rate again]",
            )
        });
    html! {
        label for=(id) { "Message to the customer" }
        p.hint id=(hint) {
            "Emailed to " bdi { (email) } " exactly as written here, with a link to rate again. "
            "Leave it empty to send nothing. The note below stays with the team."
        }
        @if let Some(message) = error { p.field-error { (message) } }
        textarea id=(id) name="message" rows="10" aria-describedby=(hint) { (text) }
        @if let Some((subject, body)) = preview {
            section.preview aria-label="The email as it will be sent" {
                h3 { "The email as it will be sent" }
                p { "To: " bdi { (email) } }
                p { "Subject: " bdi { (subject) } }
                pre.text { bdi { (body) } }
            }
        }
    }
}

/// The address a message to the customer goes to: the view shows a contact only when the
/// customer consented.
fn customer_email(view: &CaseView) -> Option<&str> {
    let contact = view.rating.details.as_ref()?.contact.as_ref()?;
    contact.email.as_deref()
}

/// The emails to the customer, with where each stands. What a person wrote is shown with
/// its step above, so each names its step rather than repeating the text.
fn messages(bench: &Workbench, now: i64) -> Markup {
    let zone = bench.view.case.timezone.as_str();
    html! {
        @if !bench.messages.is_empty() {
            section #messages aria-labelledby="messages-title" {
                h2 #messages-title { "Messages to the customer" }
                ol.steps {
                    @for sent in &bench.messages {
                        @let written = serde_json::from_str::<CustomerEmail>(&sent.payload).ok();
                        li {
                            strong { "To " bdi { (sent.to) } } ", " (moment(Timestamp(sent.delivery.created_at), zone, now))
                            ": " (delivery_state(&sent.delivery, zone, now))
                            @match written {
                                Some(email) => { p { "The message written with the " (step_name(email.step)) " step." } },
                                None => { p { "The product's closing email (sent by an older version)." } },
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The step that usually comes next, opened by default.
fn next_step(bench: &Workbench) -> Option<Step> {
    let steps = &bench.view.case.steps;
    let has = |step: Step| steps.iter().any(|s| s.step == step);
    [
        Step::Acknowledged,
        Step::Contacted,
        Step::CauseFound,
        Step::CustomerTold,
        Step::Closed,
    ]
    .into_iter()
    .find(|step| !has(*step))
}
