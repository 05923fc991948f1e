//! Ratings: a score is stored the moment the widget sends it and, when it is not
//! perfect, its case is opened in the same transaction. Then the customer's details.

use crate::bodies::{CaseAnswer, DetailsAnswer, Promise, RatingAnswer};
use crate::error::Error;
use crate::interactions::{verify, Refusal};
use crate::store::{NewDetails, NewRating, Site, Store, StoreError, StoredRating, Tx};
use crate::time::Timestamp;
use nearmiss_core::{Details, Rating, ScoreChange};

/// Details may be added or replaced for this long after the rating.
const DETAILS_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// A score may be changed for this long after it was given: a mis-tap taken back.
pub const SCORE_WINDOW_MS: i64 = 10 * 60 * 1000;

/// A score may be changed this often: a mis-tap or two taken back, not a switch that
/// closes and opens a case (and alerts every endpoint) without end.
pub const MAX_SCORE_CHANGES: i64 = 3;

/// Details may be sent this often (the widget sends them once; a retry after a lost
/// answer, or a correction, is a few more): each is an update to the business.
pub const MAX_DETAILS_POSTS: i64 = 10;

/// What storing a rating did.
pub struct Recorded {
    /// The answer for the widget: the same for the first call and every replay.
    pub answer: RatingAnswer,
    /// Newly stored (not a replay): its alerts are waiting.
    pub new: bool,
}

/// Stores `rating` for `site`, sent from a page on `foreign_origin` (`None`: no
/// `Origin`, or this server's own pages). Answers after the commit is on disk.
pub async fn record(
    store: &Store,
    site: Site,
    rating: Rating,
    foreign_origin: Option<&str>,
    now: i64,
) -> Result<Recorded, Error> {
    rating.validate(site.settings.scale)?;
    check_origin(&site, foreign_origin)?;
    let signed = check_token(&site, &rating, now)?;
    // The widget makes its own secret, so a replay (after an answer lost on the way)
    // can be answered with it; an API client that sent none gets one made here.
    let sent_edit = rating.edit.clone();
    let edit = sent_edit
        .clone()
        .unwrap_or_else(|| crate::random::token(24));
    let edit_hash = crate::tokens::hash(&edit);
    // Serialising a struct is deterministic: equal content gives equal text. The secret
    // is kept only as its hash, there too.
    let mut kept = rating.clone();
    kept.edit = sent_edit.as_ref().map(|_| edit_hash.clone());
    let content = serde_json::to_string(&kept).unwrap_or_default();
    let owner = site.settings.owner.clone();
    let (stored, new) = store
        .write(move |tx| store_rating(tx, &site, &rating, signed, &content, &edit_hash, now))
        .await?;
    let mut answer = answer(&owner, &stored);
    // A replay proved it knows the secret by sending the same content; one that sent
    // none gets none, as the secret is not kept.
    answer.edit = match new {
        true => Some(edit),
        false => sent_edit,
    };
    Ok(Recorded { answer, new })
}

fn store_rating(
    tx: &mut dyn Tx,
    site: &Site,
    rating: &Rating,
    signed: bool,
    content: &str,
    edit_hash: &str,
    now: i64,
) -> Result<(StoredRating, bool), Error> {
    // A signed interaction or a re-rating link can be used once: a replay of the rating
    // that used it must be answered as one before those checks refuse it.
    let checked = signed && rating.interaction.is_some() || rating.rerate.is_some();
    if checked {
        if let Some(existing) = tx.rating_by_id(&rating.id)? {
            return replayed(existing, content);
        }
    }
    if let (true, Some(interaction)) = (signed, &rating.interaction) {
        if tx.signed_interaction_rated(site.id, interaction)? {
            return Err(Error::InteractionRated);
        }
    }
    let rerates = match &rating.rerate {
        Some(token) => Some(
            tx.case_id_by_rerate_link(site.id, &crate::tokens::hash(token), now)?
                .ok_or(Error::UnknownCase)?,
        ),
        None => None,
    };
    let perfect = nearmiss_core::is_perfect(rating.score, site.settings.scale);
    // Stored first and read only when its id is taken: the common rating costs one
    // statement, and two copies sent at once store one.
    let inserted = tx.insert_rating(&NewRating {
        id: &rating.id,
        site_id: site.id,
        score: rating.score,
        perfect,
        interaction: rating.interaction.as_deref(),
        page: rating.page.as_deref(),
        locale: rating.locale.as_deref(),
        content,
        created_at: now,
        rerates_case: rerates,
        signed,
        edit_hash,
    })?;
    if !inserted {
        // Nothing was written: the caller's error or replay changes nothing.
        let existing = tx.rating_by_id(&rating.id)?.ok_or_else(|| {
            StoreError::Task(format!("rating {} neither stored nor found", rating.id))
        })?;
        return replayed(existing, content);
    }
    let case = match rerates {
        Some(case_id) => {
            // A link works once: a second score through it is refused.
            tx.set_rerate_link(case_id, None)?;
            crate::cases::rerated(tx, case_id, site, perfect, now)?;
            // The case it re-rates, with its deadline as it now is.
            tx.rating_by_id(&rating.id)?.and_then(|stored| stored.case)
        }
        None if !perfect => Some(crate::cases::open(tx, site, &rating.id, now)?),
        None => None,
    };
    let stored = StoredRating {
        id: rating.id.clone(),
        site_id: site.id,
        score: rating.score,
        flagged: !perfect,
        content: content.to_owned(),
        created_at: now,
        case,
        edit_hash: Some(edit_hash.to_owned()),
        score_changes: 0,
    };
    Ok((stored, true))
}

/// Gives rating `id` the customer's new score, within [`SCORE_WINDOW_MS`] of the rating,
/// and opens or closes its case to match (`cases::score_changed`). Answers as the rating
/// did, with the case the customer is now told about, and whether a case changed
/// (alerts are waiting).
pub async fn change_score(
    store: &Store,
    site: Site,
    id: String,
    change: ScoreChange,
    foreign_origin: Option<&str>,
    now: i64,
) -> Result<(RatingAnswer, bool), Error> {
    change.validate(site.settings.scale)?;
    check_origin(&site, foreign_origin)?;
    let owner = site.settings.owner.clone();
    store
        .write(move |tx| {
            let mut rating =
                rating_within(tx, site.id, &id, now, SCORE_WINDOW_MS, Error::ScoreClosed)?;
            check_edit(&rating, change.edit.as_deref())?;
            let case = crate::cases::of_rating(tx, &rating.id)?;
            // A re-rating's score is the verdict on the case it came back to: it stays.
            if case.as_ref().is_some_and(|c| c.rating.id != rating.id) {
                return Err(Error::invalid(
                    "rerating",
                    "score",
                    "The score of a re-rating cannot be changed.",
                ));
            }
            if rating.score == change.score {
                // A perfect score's case, if a change closed one, is not the customer's
                // to be told about any more.
                if !rating.flagged {
                    rating.case = None;
                }
                return Ok((answer(&owner, &rating), false));
            }
            if rating.score_changes >= MAX_SCORE_CHANGES {
                return Err(Error::TooManyChanges);
            }
            let perfect = nearmiss_core::is_perfect(change.score, site.settings.scale);
            tx.change_score(&rating.id, change.score, perfect)?;
            let had_case = rating.case.is_some();
            rating.case = crate::cases::score_changed(
                tx,
                &site,
                &rating.id,
                case,
                change.score,
                perfect,
                now,
            )?;
            rating.score = change.score;
            rating.flagged = !perfect;
            let changed_case = had_case || rating.case.is_some();
            Ok((answer(&owner, &rating), changed_case))
        })
        .await
}

/// Rating `id` of the site, while it is at most `window` ms old; `closed` after that.
fn rating_within(
    tx: &mut dyn Tx,
    site_id: i64,
    id: &str,
    now: i64,
    window: i64,
    closed: Error,
) -> Result<StoredRating, Error> {
    let rating = match tx.rating_by_id(id)? {
        Some(rating) if rating.site_id == site_id => rating,
        _ => return Err(Error::UnknownRating),
    };
    match now - rating.created_at > window {
        true => Err(closed),
        false => Ok(rating),
    }
}

/// Whether `edit` is the rating's secret. A rating stored before ratings had one needs
/// none: its details window (24 hours) is the transition, so no outbox is stranded.
fn check_edit(rating: &StoredRating, edit: Option<&str>) -> Result<(), Error> {
    match (&rating.edit_hash, edit) {
        (None, _) => Ok(()),
        (Some(hash), Some(edit))
            if crate::tokens::same_secret(hash, &crate::tokens::hash(edit)) =>
        {
            Ok(())
        }
        (Some(_), _) => Err(Error::EditRefused),
    }
}

/// A rating sent again: the same content is a replay, anything else a conflict.
fn replayed(existing: StoredRating, content: &str) -> Result<(StoredRating, bool), Error> {
    match existing.content == content {
        true => Ok((existing, false)),
        false => Err(Error::IdConflict),
    }
}

fn answer(owner: &str, stored: &StoredRating) -> RatingAnswer {
    RatingAnswer {
        id: stored.id.clone(),
        flagged: stored.flagged,
        case: stored.case.as_ref().map(|case| CaseAnswer {
            reference: case.reference.clone(),
            promise: Promise {
                who: owner.to_owned(),
                by: Timestamp(case.ack_due_at),
            },
        }),
        edit: None,
    }
}

/// A browser page must be on one of the site's origins. Requests without `Origin` are
/// not from a browser page; tokens guard those.
/// The text, unless it is missing or blank.
fn present(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|s| !s.trim().is_empty())
}

fn check_origin(site: &Site, foreign_origin: Option<&str>) -> Result<(), Error> {
    match foreign_origin {
        Some(origin) if !site.allows_origin(origin) => Err(Error::OriginRefused),
        _ => Ok(()),
    }
}

/// Checks the signed interaction token; `true` when the rating carries a valid one.
/// A re-rating needs none: its link's token is its credential.
fn check_token(site: &Site, rating: &Rating, now_ms: i64) -> Result<bool, Error> {
    if rating.rerate.is_some() {
        return Ok(false);
    }
    let Some(token) = &rating.token else {
        return match site.settings.require_token {
            true => Err(Error::TokenRefused(Refusal::Missing)),
            false => Ok(false),
        };
    };
    let interaction = rating
        .interaction
        .as_deref()
        .ok_or(Error::TokenRefused(Refusal::NoInteraction))?;
    verify(&site.secret, interaction, token, now_ms / 1000).map_err(Error::TokenRefused)?;
    Ok(true)
}

/// Stores the details of rating `id` (last wins, for 24 hours); contact data only with
/// consent. Returns the answer and whether the rating has a case (alerts are waiting).
pub async fn add_details(
    store: &Store,
    site: Site,
    id: String,
    details: Details,
    foreign_origin: Option<&str>,
    now: i64,
) -> Result<(DetailsAnswer, bool), Error> {
    details.validate(&site.settings.reasons)?;
    let email = details.contact.as_ref().and_then(|c| c.email.as_deref());
    if email.is_some_and(|e| !e.is_empty() && !crate::alerts::can_mail(e)) {
        // The widget's check is looser than the mailer's; what the mailer would refuse
        // is refused now, while the customer can still correct it.
        return Err(Error::invalid(
            "invalid_email",
            "contact.email",
            "This is not an email address we can write to.",
        ));
    }
    check_origin(&site, foreign_origin)?;
    let site_id = site.id;
    store
        .write(move |tx| {
            let rating = rating_within(
                tx,
                site_id,
                &id,
                now,
                DETAILS_WINDOW_MS,
                Error::DetailsClosed,
            )?;
            check_edit(&rating, details.edit.as_deref())?;
            let contact = details.contact.as_ref().filter(|c| c.consent);
            let saved = tx.save_details(&NewDetails {
                rating_id: &rating.id,
                comment: present(details.comment.as_ref()),
                reasons: &details.reasons,
                contact_name: contact.and_then(|c| present(c.name.as_ref())),
                contact_email: contact.and_then(|c| present(c.email.as_ref())),
                contact_phone: contact.and_then(|c| present(c.phone.as_ref())),
                consent: contact.is_some(),
                now,
                max_posts: MAX_DETAILS_POSTS,
            })?;
            if !saved {
                return Err(Error::TooManyDetails);
            }
            crate::cases::details_arrived(tx, &rating.id, now)?;
            let reference = rating.case.map(|c| c.reference);
            let has_case = reference.is_some();
            Ok((
                DetailsAnswer {
                    id: rating.id,
                    case: reference,
                },
                has_case,
            ))
        })
        .await
}
