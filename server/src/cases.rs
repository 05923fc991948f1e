//! Cases: every near miss opens one, in the same transaction as its rating, with a short
//! human reference and deadlines from the site. Staff then record the recovery steps
//! (acknowledged … closed), each with time, actor and note. Every change queues its
//! alerts in the same transaction.

use crate::alerts;
use crate::bodies::{
    Case, CaseList, CaseView, ContactView, CustomerEmail, DetailsView, RatingView, StepRequest,
    StepView,
};
use crate::error::Error;
use crate::states::{Event, Status, Step};
use crate::store::{
    CaseFilter, CaseRecord, CaseSummary, NewCase, NewStep, Prevention, Site, Store, StoreError, Tx,
    User,
};
use crate::time::Timestamp;
use nearmiss_core::{check_line, check_text, LIMITS};

/// Cases listed at most at once.
const LIST_LIMIT: i64 = 500;

/// The overdue rule, in one place: an open case is overdue from its acknowledge deadline
/// while nobody has acknowledged it, and from its close deadline in any case.
pub fn overdue_from(case: &CaseRecord) -> i64 {
    match case.acknowledged_at {
        None => case.ack_due_at.min(case.close_due_at),
        Some(_) => case.close_due_at,
    }
}

/// Whether the case is overdue at `now`.
pub fn is_overdue(case: &CaseRecord, now: i64) -> bool {
    case.status == Status::Open && overdue_from(case) <= now
}

fn save(tx: &mut dyn Tx, case: &CaseRecord) -> Result<(), StoreError> {
    tx.save_case(case, overdue_from(case))
}

/// Gives every case written without `overdue_from` (by an older server still running
/// during an upgrade) its value; returns how many.
pub fn repair_overdue_from(tx: &mut dyn Tx) -> Result<usize, StoreError> {
    let cases = tx.cases_without_overdue_from()?;
    for case in &cases {
        save(tx, case)?;
    }
    Ok(cases.len())
}

/// Opens the case for a non-perfect rating and queues `case.opened`; returns what the
/// customer is told about it.
pub(crate) fn open(
    tx: &mut dyn Tx,
    site: &Site,
    rating_id: &str,
    now: i64,
) -> Result<CaseSummary, StoreError> {
    open_case(tx, site, rating_id, true, now)
}

/// [`open`], for a rating stored in this transaction (`fresh`: it has no details yet,
/// so none are read) or earlier (a score changed to a near miss: its alert shows the
/// details the customer already sent).
fn open_case(
    tx: &mut dyn Tx,
    site: &Site,
    rating_id: &str,
    fresh: bool,
    now: i64,
) -> Result<CaseSummary, StoreError> {
    let ack_due = site.settings.ack_due(now);
    let close_due = site.settings.close_due(now);
    // Four characters give ~920,000 references; widen after collisions so a busy
    // deployment keeps working instead of looping.
    for attempt in 0..12 {
        let reference = crate::random::reference(4 + attempt / 4);
        let case = NewCase {
            reference: &reference,
            site_id: site.id,
            rating_id,
            opened_at: now,
            ack_due_at: ack_due,
            close_due_at: close_due,
            overdue_from: ack_due.min(close_due),
        };
        if let Some(case) = tx.insert_case(&case)? {
            let (case_id, site_id) = (case.id, case.site_id);
            let view = match fresh {
                // Its rating was stored in this transaction: no details or steps yet.
                true => view_with(case, None, Vec::new(), now),
                false => view_of(tx, case, now)?,
            };
            queue(tx, &view, case_id, site_id, &[Event::Opened], None, now)?;
            return Ok(CaseSummary {
                reference,
                ack_due_at: ack_due,
            });
        }
    }
    Err(StoreError::Task(
        "no free case reference after 12 tries".into(),
    ))
}

/// How long a re-rating link works after its email is sent: 30 days.
pub const RERATE_LINK_LIFE: i64 = 30 * 24 * 3_600_000;

/// Makes the case a new re-rating link, replacing any earlier one, and returns its
/// token for the customer's URL. Only the token's hash is stored; the link works once,
/// for `RERATE_LINK_LIFE`.
pub(crate) fn issue_rerate_link(
    tx: &mut dyn Tx,
    case_id: i64,
    now: i64,
) -> Result<String, StoreError> {
    let token = crate::random::token(24);
    let hash = crate::tokens::hash(&token);
    tx.set_rerate_link(case_id, Some((&hash, now.saturating_add(RERATE_LINK_LIFE))))?;
    Ok(token)
}

/// A re-rating link for the case with this reference (the demo's re-ratings use it;
/// the customer's email makes its own when it is sent). `None`: no such case.
pub async fn rerate_link(
    store: &Store,
    reference: &str,
    now: i64,
) -> Result<Option<String>, StoreError> {
    let reference = reference.to_owned();
    store
        .write(move |tx| match tx.case_id_by_ref(&reference)? {
            Some(id) => issue_rerate_link(tx, id, now).map(Some),
            None => Ok(None),
        })
        .await
}

/// A re-rating after the case was closed: recovered when perfect, reopened with fresh
/// deadlines otherwise.
pub(crate) fn rerated(
    tx: &mut dyn Tx,
    case_id: i64,
    site: &Site,
    perfect: bool,
    now: i64,
) -> Result<(), StoreError> {
    let Some(mut case) = tx.case_by_id(case_id)? else {
        return Ok(());
    };
    case.recovered = Some(perfect);
    if !perfect {
        reopen(&mut case, site, now);
    }
    save(tx, &case)?;
    changed(tx, case, &[Event::Updated], None, now).map(drop)
}

/// Who closed a case when the customer took their near miss back.
pub const CUSTOMER: &str = "The customer";

/// The customer changed the score of `rating_id` to `score` (`perfect` or not) within
/// minutes of giving it: a near miss that became perfect closes its case, as changed by
/// the customer; a perfect score that became a near miss opens one (or reopens the case
/// an earlier change closed, with fresh deadlines: one staff closed stays closed); a
/// near miss that stays one updates it. `case` is the rating's ([`of_rating`]). Returns
/// the case the customer is told about.
pub(crate) fn score_changed(
    tx: &mut dyn Tx,
    site: &Site,
    rating_id: &str,
    case: Option<CaseRecord>,
    score: i64,
    perfect: bool,
    now: i64,
) -> Result<Option<CaseSummary>, StoreError> {
    let Some(mut case) = case else {
        return match perfect {
            true => Ok(None),
            false => open_case(tx, site, rating_id, false, now).map(Some),
        };
    };
    if perfect {
        if case.status == Status::Open {
            let note = format!(
                "The customer changed their score to {score} of {}.",
                site.settings.scale.max()
            );
            tx.insert_step(&NewStep {
                case_id: case.id,
                step: Step::Closed,
                actor: CUSTOMER,
                note: Some(&note),
                cause: None,
                prevention_id: None,
                at: now,
                message: None,
            })?;
            case.status = Status::Closed;
            case.closed_at = Some(now);
            save(tx, &case)?;
            changed(tx, case, &[Event::Closed], None, now)?;
        }
        return Ok(None);
    }
    let closed_by_customer = |steps: Vec<crate::store::StepRecord>| {
        let last_close = steps.into_iter().rev().find(|s| s.step == Step::Closed);
        last_close.is_some_and(|s| s.actor == CUSTOMER)
    };
    if case.status == Status::Closed && closed_by_customer(tx.steps(case.id)?) {
        reopen(&mut case, site, now);
        save(tx, &case)?;
    }
    let summary = CaseSummary {
        reference: case.reference.clone(),
        ack_due_at: case.ack_due_at,
    };
    changed(tx, case, &[Event::Updated], None, now)?;
    Ok(Some(summary))
}

/// Opens a closed case again, unowned, with fresh deadlines from `now`.
fn reopen(case: &mut CaseRecord, site: &Site, now: i64) {
    case.status = Status::Open;
    case.closed_at = None;
    case.acknowledged_at = None;
    case.ack_overdue_at = None;
    case.close_overdue_at = None;
    case.ack_due_at = site.settings.ack_due(now);
    case.close_due_at = site.settings.close_due(now);
}

/// The case of a rating: the one it opened, or the one it re-rates.
pub(crate) fn of_rating(
    tx: &mut dyn Tx,
    rating_id: &str,
) -> Result<Option<CaseRecord>, StoreError> {
    match tx.case_id_for_rating(rating_id)? {
        Some(case_id) => tx.case_by_id(case_id),
        None => Ok(None),
    }
}

/// The customer added details to a rating: its case (if any) is updated.
pub(crate) fn details_arrived(
    tx: &mut dyn Tx,
    rating_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    match of_rating(tx, rating_id)? {
        Some(case) => changed(tx, case, &[Event::Updated], None, now).map(drop),
        None => Ok(()),
    }
}

/// Raises `case.overdue` once per passed deadline of every open case; returns how many.
/// The mark and the alert are written together, so a restart neither forgets nor
/// repeats one.
pub fn raise_overdue(tx: &mut dyn Tx, now: i64) -> Result<usize, StoreError> {
    let mut raised = 0;
    for mut case in tx.cases_to_raise(now)? {
        let ack_passed = case.acknowledged_at.is_none()
            && case.ack_due_at <= now
            && case.ack_overdue_at.is_none();
        let close_passed = case.close_due_at <= now && case.close_overdue_at.is_none();
        if ack_passed {
            case.ack_overdue_at = Some(now);
        }
        if close_passed {
            case.close_overdue_at = Some(now);
        }
        // One alert per deadline passed.
        let passed = usize::from(ack_passed) + usize::from(close_passed);
        if passed > 0 {
            save(tx, &case)?;
            changed(tx, case, &[Event::Overdue; 2][..passed], None, now)?;
            raised += passed;
        }
    }
    Ok(raised)
}

/// Queues the alerts for each of `events` on `case` (as it now is, saved), changed by
/// the person with the email `by`, if anyone; returns its view, built once for the
/// alerts and the caller.
fn changed(
    tx: &mut dyn Tx,
    case: CaseRecord,
    events: &[Event],
    by: Option<&str>,
    now: i64,
) -> Result<CaseView, StoreError> {
    let (case_id, site_id) = (case.id, case.site_id);
    let view = view_of(tx, case, now)?;
    queue(tx, &view, case_id, site_id, events, by, now)?;
    Ok(view)
}

/// Queues the alerts of `events` for the case `view` shows.
fn queue(
    tx: &mut dyn Tx,
    view: &CaseView,
    case_id: i64,
    site_id: i64,
    events: &[Event],
    by: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    for event in events {
        let changed = alerts::Changed {
            case_id,
            site_id,
            view,
            by,
        };
        alerts::enqueue(tx, changed, *event, now)?;
    }
    Ok(())
}

/// A case as the API, webhooks and messages show it.
pub fn view(tx: &mut dyn Tx, case_id: i64, now: i64) -> Result<Option<CaseView>, StoreError> {
    match tx.case_by_id(case_id)? {
        Some(case) => view_of(tx, case, now).map(Some),
        None => Ok(None),
    }
}

fn view_of(tx: &mut dyn Tx, case: CaseRecord, now: i64) -> Result<CaseView, StoreError> {
    let details = tx.details_for(&case.rating.id)?.map(|d| DetailsView {
        comment: d.comment,
        reasons: d.reasons,
        contact: d.consent.then_some(ContactView {
            name: d.contact_name,
            email: d.contact_email,
            phone: d.contact_phone,
        }),
    });
    let steps = tx
        .steps(case.id)?
        .into_iter()
        .map(|s| StepView {
            step: s.step,
            actor: s.actor,
            note: s.note,
            cause: s.cause,
            at: Timestamp(s.at),
            prevention: s.prevention,
            message: s.message,
        })
        .collect();
    Ok(view_with(case, details, steps, now))
}

/// The view of `case` with its rating's `details` and its `steps`.
fn view_with(
    case: CaseRecord,
    details: Option<DetailsView>,
    steps: Vec<StepView>,
    now: i64,
) -> CaseView {
    let overdue = is_overdue(&case, now);
    let rating = RatingView {
        id: case.rating.id,
        score: case.rating.score,
        scale: i64::from(u8::from(case.scale)),
        interaction: case.rating.interaction,
        page: case.rating.page,
        locale: case.rating.locale,
        created_at: Timestamp(case.rating.created_at),
        details,
    };
    CaseView {
        case: Case {
            reference: case.reference,
            site: case.site_key,
            site_name: case.site_name,
            timezone: case.site_timezone,
            status: case.status,
            overdue,
            opened_at: Timestamp(case.opened_at),
            ack_due_at: Timestamp(case.ack_due_at),
            close_due_at: Timestamp(case.close_due_at),
            acknowledged_at: case.acknowledged_at.map(Timestamp),
            closed_at: case.closed_at.map(Timestamp),
            recovered: case.recovered,
            assignee: case.assignee.map(|(_, name)| name),
            steps,
        },
        rating,
    }
}

/// The case with this reference, if it is one of `scope`'s sites (`None`: any site).
pub async fn get(
    store: &Store,
    reference: String,
    scope: Option<Vec<i64>>,
    now: i64,
) -> Result<CaseView, Error> {
    store
        .read(move |tx| {
            let case = case_in_scope(tx, &reference, scope.as_deref())?;
            Ok(view_of(tx, case, now)?)
        })
        .await
}

/// The case `reference` (in any letter case), if it is within `scope`.
fn case_in_scope(
    tx: &mut dyn Tx,
    reference: &str,
    scope: Option<&[i64]>,
) -> Result<CaseRecord, Error> {
    let reference = reference.trim().to_ascii_uppercase();
    let id = tx.case_id_by_ref(&reference)?.ok_or(Error::UnknownCase)?;
    let case = tx.case_by_id(id)?.ok_or(Error::UnknownCase)?;
    match scope {
        Some(sites) if !sites.contains(&case.site_id) => Err(Error::UnknownCase),
        _ => Ok(case),
    }
}

/// Which cases to list, and in what order.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    /// `open`, `overdue`, `closed`, or `all` (the same as none).
    pub status: Option<String>,
    /// A site key.
    pub site: Option<String>,
    /// Only these sites' cases (`None`: any site's).
    pub scope: Option<Vec<i64>>,
    /// Only this person's.
    pub assignee: Option<i64>,
    /// Only cases whose root cause was found to be this.
    pub cause: Option<String>,
    /// Open cases first, most overdue first, then by their next deadline (the desk's
    /// inbox); otherwise newest first.
    pub by_deadline: bool,
    /// Only cases opened in `[from, to)`, Unix milliseconds.
    pub opened: Option<(i64, i64)>,
}

/// The cases `listing` asks for.
pub async fn list(store: &Store, listing: Listing, now: i64) -> Result<CaseList, Error> {
    let (status, overdue_at) = match listing.status.as_deref() {
        None | Some("all") => (None, None),
        Some("open") => (Some(Status::Open), None),
        Some("closed") => (Some(Status::Closed), None),
        Some("overdue") => (Some(Status::Open), Some(now)),
        Some(_) => {
            return Err(Error::invalid(
                "invalid_status",
                "status",
                "The status must be open, overdue or closed.",
            ))
        }
    };
    let cases = store
        .read(move |tx| {
            // A site named by any of its keys, and one the caller may see, or none at all.
            let sites = match listing.site.as_deref().filter(|k| !k.is_empty()) {
                Some(key) => {
                    let id = tx.site_id_by_any_key(key)?.ok_or(Error::UnknownSite)?;
                    if listing
                        .scope
                        .as_ref()
                        .is_some_and(|scope| !scope.contains(&id))
                    {
                        return Err(Error::UnknownSite);
                    }
                    Some(vec![id])
                }
                None => listing.scope.clone(),
            };
            let filter = CaseFilter {
                status,
                overdue_at,
                site_key: None,
                site_ids: sites.as_deref(),
                assignee: listing.assignee,
                cause: listing.cause.as_deref(),
                by_deadline: listing.by_deadline,
                opened: listing.opened,
                limit: LIST_LIMIT,
            };
            let mut cases = Vec::new();
            for id in tx.case_ids(&filter)? {
                cases.extend(view(tx, id, now)?);
            }
            Ok::<_, Error>(cases)
        })
        .await?;
    Ok(CaseList { cases })
}

/// A case with what working it needs: its site's causes and prevention actions, and
/// the people who may own it.
pub struct Workbench {
    /// The case.
    pub view: CaseView,
    /// The site's root-cause categories.
    pub causes: Vec<String>,
    /// The site's prevention actions, to link instead of writing a new one.
    pub preventions: Vec<Prevention>,
    /// Everybody who works the case's site.
    pub people: Vec<User>,
    /// The emails to its customer, newest first, with their delivery state.
    pub messages: Vec<crate::store::CustomerMessage>,
}

/// The case `reference` (within `scope`) with what working it needs.
pub async fn workbench(
    store: &Store,
    reference: String,
    scope: Option<Vec<i64>>,
    now: i64,
) -> Result<Workbench, Error> {
    store
        .read(move |tx| {
            let case = case_in_scope(tx, &reference, scope.as_deref())?;
            let site = tx.site_by_id(case.site_id)?.ok_or(Error::UnknownCase)?;
            let preventions = tx.preventions(site.id)?;
            let people = tx
                .users()?
                .into_iter()
                .filter(|u| u.works(site.id))
                .collect();
            let messages = tx.customer_messages(case.id, 50)?;
            Ok(Workbench {
                view: view_of(tx, case, now)?,
                causes: site.settings.causes,
                preventions,
                people,
                messages,
            })
        })
        .await
}

/// Gives the case `reference` (within `scope`) to the person `owner`, or to nobody.
pub async fn assign(
    store: &Store,
    reference: String,
    scope: Option<Vec<i64>>,
    owner: Option<i64>,
) -> Result<(), Error> {
    store
        .write(move |tx| {
            let case = case_in_scope(tx, &reference, scope.as_deref())?;
            if let Some(owner) = owner {
                let works = tx
                    .users()?
                    .iter()
                    .any(|u| u.id == owner && u.works(case.site_id));
                if !works {
                    return Err(Error::invalid(
                        "unknown_person",
                        "owner",
                        "Choose somebody who works this site.",
                    ));
                }
            }
            Ok(tx.assign_case(case.id, owner)?)
        })
        .await
}

/// Records a step on the case `reference`, enforcing the closing rule, and queues
/// `case.updated` or `case.closed`; returns the case as it now is.
pub async fn add_step(
    store: &Store,
    reference: String,
    request: StepRequest,
    by: Actor,
    now: i64,
) -> Result<CaseView, Error> {
    store
        .write(move |tx| record_step(tx, &reference, &request, &by, now))
        .await
}

/// Who records a step.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The name the step shows.
    pub name: String,
    /// A desk user: they become the case's owner when they acknowledge an unowned case.
    pub user: Option<i64>,
    /// Their email: they are not emailed about what they did.
    pub email: Option<String>,
    /// The sites whose cases they may work (`None`: all).
    pub scope: Option<Vec<i64>>,
}

fn record_step(
    tx: &mut dyn Tx,
    reference: &str,
    request: &StepRequest,
    by: &Actor,
    now: i64,
) -> Result<CaseView, Error> {
    let actor = by.name.as_str();
    let mut case = case_in_scope(tx, reference, by.scope.as_deref())?;
    let case_id = case.id;
    let step = Step::parse(&request.step).ok_or(Error::invalid(
        "unknown_step",
        "step",
        "The step must be one of acknowledged, contacted, fixed, made_good, cause_found, customer_told, closed.",
    ))?;
    let note = request
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let Some(note) = note {
        check_text(note, "note", LIMITS.note)?;
    }
    let message = request
        .message
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    check_line(actor, "actor", LIMITS.actor)?;
    if case.status == Status::Closed {
        return Err(Error::CaseClosed);
    }
    // Only these steps tell the customer something; a person writes it, for them.
    let to = match message {
        Some(message) => {
            if !matches!(step, Step::CustomerTold | Step::Closed) {
                return Err(Error::invalid(
                    "message_not_sent",
                    "message",
                    "Only customer_told and closed send a message to the customer.",
                ));
            }
            check_text(message, "message", LIMITS.note)?;
            Some(customer_address(tx, &case.rating.id)?.ok_or(Error::invalid(
                "no_contact",
                "message",
                "The customer left no email address to write to.",
            ))?)
        }
        None => None,
    };
    let done = tx.steps(case_id)?;
    let has = |step: Step| done.iter().any(|s| s.step == step);
    let mut cause = None;
    let mut prevention = None;
    match step {
        Step::MadeGood if note.is_none() => {
            return Err(Error::invalid(
                "required",
                "note",
                "Record what was given to make up for it.",
            ));
        }
        Step::CauseFound => {
            let site = tx.site_by_id(case.site_id)?.ok_or(Error::UnknownCase)?;
            let category = request
                .cause
                .as_deref()
                .filter(|c| site.settings.causes.iter().any(|s| s == c))
                .ok_or(Error::invalid(
                    "unknown_cause",
                    "cause",
                    "The cause must be one of the site's root-cause categories.",
                ))?;
            cause = Some(category);
            let action = request.action.as_deref().map(str::trim);
            prevention = Some(match (request.prevention, action) {
                (Some(id), _) => {
                    tx.prevention(case.site_id, id)?
                        .ok_or(Error::invalid(
                            "unknown_prevention",
                            "prevention",
                            "This site has no prevention action with this id.",
                        ))?
                        .id
                }
                (None, Some(action)) if !action.is_empty() => {
                    check_text(action, "action", LIMITS.note)?;
                    tx.insert_prevention(case.site_id, category, action, now)?
                }
                _ => {
                    return Err(Error::invalid(
                        "required",
                        "action",
                        "Record the action that prevents it happening again, or link an existing prevention.",
                    ))
                }
            });
        }
        Step::Closed => {
            let mut missing = Vec::new();
            for needed in [Step::Acknowledged, Step::CauseFound] {
                if !has(needed) {
                    missing.push(needed.as_str());
                }
            }
            if !has(Step::CustomerTold) && note.is_none() && message.is_none() {
                missing.push("customer_told (or a note saying why the customer was not told)");
            }
            if !missing.is_empty() {
                return Err(Error::CannotClose(missing.join(", ")));
            }
        }
        _ => {}
    }
    tx.insert_step(&NewStep {
        case_id,
        step,
        actor,
        note,
        cause,
        prevention_id: prevention,
        at: now,
        message,
    })?;
    let event = match step {
        Step::Acknowledged => {
            case.acknowledged_at.get_or_insert(now);
            save(tx, &case)?;
            if let (None, Some(user)) = (&case.assignee, by.user) {
                tx.assign_case(case.id, Some(user))?;
                case.assignee = Some((user, actor.to_owned()));
            }
            Event::Updated
        }
        Step::Closed => {
            case.status = Status::Closed;
            case.closed_at = Some(now);
            save(tx, &case)?;
            Event::Closed
        }
        _ => Event::Updated,
    };
    if let (Some(to), Some(message)) = (to, message) {
        let email = CustomerEmail {
            reference: case.reference.clone(),
            site_name: case.site_name.clone(),
            step,
            message: message.to_owned(),
        };
        alerts::enqueue_customer_email(tx, case_id, &to, &email, event, now)?;
    }
    Ok(changed(tx, case, &[event], by.email.as_deref(), now)?)
}

/// The email address the customer of rating `rating_id` agreed to be written to.
fn customer_address(tx: &mut dyn Tx, rating_id: &str) -> Result<Option<String>, StoreError> {
    Ok(tx
        .details_for(rating_id)?
        .filter(|d| d.consent)
        .and_then(|d| d.contact_email))
}
