//! Made-up history for trying nearmiss: weeks of ratings on one site, most perfect, the
//! near misses with words and reasons, and their cases in every state (closed with a
//! prevention, partly worked, overdue, just in). Written through the same product
//! functions a real rating and a real step go through, at the times they would have
//! happened. For the demo only: it refuses a site that already has ratings.

use crate::bodies::StepRequest;
use crate::cases::{self, Actor};
use crate::error::Error;
use crate::ratings;
use crate::store::{CaseFilter, Site, Store, User};
use nearmiss_core::{Contact, Details, Rating};

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

/// What customers wrote, with the reason they picked and the cause staff found.
/// The reason is picked only when the site offers it (the demo site does).
const STORIES: &[(&str, &str, &str)] = &[
    (
        "Waited 25 minutes for a table we had booked.",
        "Something else",
        "Process",
    ),
    (
        "The fries were cold by the time they reached us.",
        "Cold food",
        "Equipment",
    ),
    (
        "Our order was missing a side and nobody noticed.",
        "Missing item",
        "Process",
    ),
    (
        "The waiter seemed annoyed when we asked for water.",
        "Rude staff",
        "Training",
    ),
    (
        "I got a burger with cheese, I asked for none.",
        "Wrong order",
        "Process",
    ),
    (
        "Delivery came 40 minutes late, no message.",
        "Late delivery",
        "Communication",
    ),
    (
        "Soup was salty, the rest was fine.",
        "Something else",
        "Training",
    ),
    (
        "Nobody at the counter for ten minutes.",
        "Late delivery",
        "Staffing",
    ),
    ("The bread was stale.", "Something else", "Supplier"),
    (
        "The pizza arrived cold and the box was soggy.",
        "Cold food",
        "Equipment",
    ),
];

/// Prevention actions, one per cause, linked to every case with that cause.
const PREVENTIONS: &[(&str, &str)] = &[
    (
        "Process",
        "A checklist at the pass: every order checked against its ticket.",
    ),
    (
        "Equipment",
        "Heat lamp replaced; fries leave the kitchen within 60 seconds.",
    ),
    (
        "Training",
        "Tasting at the start of every shift, led by the head chef.",
    ),
    (
        "Communication",
        "Customers get a text when a delivery runs late.",
    ),
    (
        "Staffing",
        "A second person on the counter from 12:00 to 14:00.",
    ),
    (
        "Supplier",
        "Bread delivered daily instead of every other day.",
    ),
];

/// Names and phones of customers who agreed to be contacted.
const CUSTOMERS: &[(&str, &str)] = &[
    ("Ana", "+44 20 7946 0011"),
    ("Ben", "+44 20 7946 0012"),
    ("Chloe", "+44 20 7946 0013"),
    ("Dev", "+44 20 7946 0014"),
];

/// A small deterministic generator: the same demo every time.
struct Dice(u64);

impl Dice {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// How far a seeded case has been worked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    New,
    Acknowledged,
    Contacted,
    Closed,
}

/// What seeding made.
#[derive(Debug, Default)]
pub struct Seeded {
    /// Ratings stored.
    pub ratings: usize,
    /// Cases opened.
    pub cases: usize,
    /// Of them, closed.
    pub closed: usize,
}

/// Fills `site` with `days` of history ending at `now`; `progress` hears each day done.
pub async fn seed(
    store: &Store,
    site: Site,
    days: i64,
    now: i64,
    mut progress: impl FnMut(i64),
) -> Result<Seeded, Error> {
    let (site_id, key) = (site.id, site.key.clone());
    let (has_cases, people) = store
        .read(move |tx| {
            let filter = CaseFilter {
                status: None,
                overdue_at: None,
                site_key: Some(&key),
                site_ids: None,
                assignee: None,
                cause: None,
                by_deadline: false,
                opened: None,
                limit: 1,
            };
            let cases = tx.case_ids(&filter)?;
            let people: Vec<User> = tx
                .users()?
                .into_iter()
                .filter(|u| u.works(site_id))
                .collect();
            Ok::<_, Error>((!cases.is_empty(), people))
        })
        .await?;
    if has_cases {
        return Err(Error::invalid(
            "not_empty",
            "site",
            "This site already has cases: the demo fills only an empty site.",
        ));
    }
    let mut dice = Dice(0x5eed_cafe_f00d);
    let mut seeded = Seeded::default();
    let today = now - now.rem_euclid(DAY);
    for day in (0..days).rev() {
        let day_start = today - day * DAY;
        let count = 14 + dice.next(20) as i64;
        for n in 0..count {
            // Spread over opening hours, 11:00 to 22:00 UTC; today only until now.
            let at = day_start + 11 * 60 * MINUTE + (n * 11 * 60 / count) * MINUTE;
            if at > now - 10 * MINUTE {
                break;
            }
            let perfect = dice.next(100) < 90;
            let score = if perfect { 5 } else { 1 + dice.next(4) as i64 };
            let stage = match day {
                // Today: one just in, the others partly worked or waiting too long.
                0 => [Stage::New, Stage::Acknowledged, Stage::Contacted][dice.next(3) as usize],
                1 => [
                    Stage::Acknowledged,
                    Stage::Contacted,
                    Stage::Contacted,
                    Stage::Closed,
                ][dice.next(4) as usize],
                // Now and then one nobody picked up: overdue.
                2..=6 if dice.next(6) == 0 => Stage::New,
                _ => Stage::Closed,
            };
            let story = STORIES[dice.next(STORIES.len() as u64) as usize];
            let contact = (dice.next(2) == 0).then(|| CUSTOMERS[dice.next(4) as usize]);
            let reference = rate(store, &site, score, at, story, contact).await?;
            seeded.ratings += 1;
            if let Some(reference) = reference {
                seeded.cases += 1;
                let by = people.get(dice.next(people.len().max(1) as u64) as usize);
                if stage == Stage::Closed {
                    seeded.closed += 1;
                }
                let times = (at, now - MINUTE);
                work(store, &reference, stage, story.2, by, times, &mut dice).await?;
                // Some customers told what changed came back and rated again.
                let again = at + (2 + dice.next(4) as i64) * DAY;
                if stage == Stage::Closed && again < now && dice.next(3) == 0 {
                    let score = if dice.next(5) == 0 { 3 } else { 5 };
                    rerate(store, &site, &reference, score, again).await?;
                    seeded.ratings += 1;
                }
            }
        }
        progress(days - day);
    }
    // One near miss that arrived a moment ago, inside its acknowledge deadline.
    let fresh = STORIES[1];
    let just_in = rate(store, &site, 2, now - 3 * MINUTE, fresh, Some(CUSTOMERS[0])).await?;
    seeded.ratings += 1;
    seeded.cases += usize::from(just_in.is_some());
    Ok(seeded)
}

/// A new random rating id (a UUID, as the widget makes).
fn new_id() -> Result<String, Error> {
    let mut uuid = [0u8; 16];
    getrandom::fill(&mut uuid).map_err(|e| crate::store::StoreError::Task(e.to_string()))?;
    uuid[6] = (uuid[6] & 0x0f) | 0x40;
    uuid[8] = (uuid[8] & 0x3f) | 0x80;
    let hex: String = uuid.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// Stores one rating (with its words when it is a near miss); returns its case.
async fn rate(
    store: &Store,
    site: &Site,
    score: i64,
    at: i64,
    story: (&str, &str, &str),
    contact: Option<(&str, &str)>,
) -> Result<Option<String>, Error> {
    let id = new_id()?;
    let rating = Rating {
        id: id.clone(),
        site: site.key.clone(),
        score,
        interaction: Some(format!("order-{}", at / MINUTE % 100_000)),
        page: Some("/order/confirmation".into()),
        locale: Some("en-GB".into()),
        token: None,
        rerate: None,
        edit: None,
    };
    let recorded = ratings::record(store, site.clone(), rating, None, at).await?;
    let Some(case) = recorded.answer.case else {
        return Ok(None);
    };
    let details = Details {
        site: site.key.clone(),
        edit: recorded.answer.edit,
        comment: Some(story.0.to_owned()),
        reasons: site
            .settings
            .reasons
            .iter()
            .filter(|r| r.as_str() == story.1)
            .cloned()
            .collect(),
        contact: contact.map(|(name, phone)| Contact {
            name: Some(name.to_owned()),
            phone: Some(phone.to_owned()),
            consent: true,
            ..Default::default()
        }),
    };
    ratings::add_details(store, site.clone(), id, details, None, at + MINUTE).await?;
    Ok(Some(case.reference))
}

/// A re-rating of the case `reference` through its customer's link.
async fn rerate(
    store: &Store,
    site: &Site,
    reference: &str,
    score: i64,
    at: i64,
) -> Result<(), Error> {
    let token = crate::cases::rerate_link(store, reference, at).await?;
    let Some(token) = token else {
        return Ok(());
    };
    let rating = Rating {
        id: new_id()?,
        site: site.key.clone(),
        score,
        interaction: None,
        token: None,
        page: Some("/rerate".into()),
        locale: Some("en-GB".into()),
        rerate: Some(token),
        edit: None,
    };
    ratings::record(store, site.clone(), rating, None, at).await?;
    Ok(())
}

/// Records the steps of a case up to `stage`, as `by`, minutes to hours after `at` and
/// never after `latest`.
async fn work(
    store: &Store,
    reference: &str,
    stage: Stage,
    cause: &str,
    by: Option<&User>,
    (at, latest): (i64, i64),
    dice: &mut Dice,
) -> Result<(), Error> {
    if stage == Stage::New {
        return Ok(());
    }
    let actor = Actor {
        name: by.map_or("Demo manager".into(), |u| u.name.clone()),
        user: by.map(|u| u.id),
        email: by.map(|u| u.email.clone()),
        scope: None,
    };
    let mut when = at + (3 + dice.next(20) as i64) * MINUTE;
    let prevention = PREVENTIONS.iter().find(|(c, _)| *c == cause).map_or(
        "Raised with the team at the next briefing.",
        |(_, action)| action,
    );
    let mut steps = vec![("acknowledged", None, None)];
    if matches!(stage, Stage::Contacted | Stage::Closed) {
        steps.push((
            "contacted",
            Some("Called them, apologised and listened."),
            None,
        ));
    }
    if stage == Stage::Closed {
        steps.push(("fixed", Some("Refunded the order."), None));
        if dice.next(3) == 0 {
            steps.push(("made_good", Some("A voucher for their next visit."), None));
        }
        steps.push(("cause_found", None, Some(cause)));
        steps.push(("customer_told", Some("Told them what we changed."), None));
        steps.push(("closed", None, None));
    }
    for (step, note, cause) in steps {
        let existing = match cause {
            Some(_) => existing_prevention(store, reference, prevention).await?,
            None => None,
        };
        let request = StepRequest {
            step: step.into(),
            note: note.map(str::to_owned),
            actor: None,
            cause: cause.map(str::to_owned),
            action: cause
                .filter(|_| existing.is_none())
                .map(|_| prevention.to_owned()),
            prevention: existing,
            message: None,
        };
        let at = when.min(latest);
        cases::add_step(store, reference.to_owned(), request, actor.clone(), at).await?;
        when += (20 + dice.next(240) as i64) * MINUTE;
    }
    Ok(())
}

/// The prevention already written with this action on the case's site, to link again.
async fn existing_prevention(
    store: &Store,
    reference: &str,
    action: &str,
) -> Result<Option<i64>, Error> {
    let (reference, action) = (reference.to_owned(), action.to_owned());
    store
        .read(move |tx| {
            let Some(id) = tx.case_id_by_ref(&reference)? else {
                return Ok(None);
            };
            let Some(case) = tx.case_by_id(id)? else {
                return Ok(None);
            };
            Ok::<_, Error>(
                tx.preventions(case.site_id)?
                    .into_iter()
                    .find(|p| p.action == action)
                    .map(|p| p.id),
            )
        })
        .await
}
