//! The public contract's JSON bodies as types, built once and serialized: the collector's
//! answers, the case as the API shows it, and the webhook body that Slack and email
//! messages are made from. Their field names are the contract (`PRODUCT.md`).

use crate::states::{Event, Status, Step};
use crate::store::Prevention;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// `201` to `POST /v1/ratings`: the same for the first answer and every replay.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingAnswer {
    /// The rating's id.
    pub id: String,
    /// Not perfect: a case was opened.
    pub flagged: bool,
    /// The case, for a near miss (or the case a re-rating belongs to).
    pub case: Option<CaseAnswer>,
    /// The secret `/details` and `/score` need for this rating: in the first answer,
    /// and in a replay's when the rating carried its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit: Option<String>,
}

/// What the customer is told about their case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseAnswer {
    /// `NM-4F7Q`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Who will get back to them and by when.
    pub promise: Promise,
}

/// Who will get back to the customer, and by when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    /// "The Corner Bistro team".
    pub who: String,
    /// The acknowledge deadline.
    pub by: Timestamp,
}

/// `200` to `POST /v1/ratings/{id}/details`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsAnswer {
    /// The rating's id.
    pub id: String,
    /// Its case's reference, if it has one.
    pub case: Option<String>,
}

/// A case without its rating: the `case` of a webhook body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// `NM-4F7Q`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The site's key.
    pub site: String,
    /// The site's name.
    pub site_name: String,
    /// The site's time zone (IANA), for showing times as its staff read them.
    pub timezone: String,
    /// Open or closed.
    pub status: Status,
    /// Open and past a deadline.
    pub overdue: bool,
    /// Opened at.
    pub opened_at: Timestamp,
    /// Acknowledge by.
    pub ack_due_at: Timestamp,
    /// Close by.
    pub close_due_at: Timestamp,
    /// First acknowledged at.
    pub acknowledged_at: Option<Timestamp>,
    /// Closed at.
    pub closed_at: Option<Timestamp>,
    /// A re-rating came back perfect (true) or not (false).
    pub recovered: Option<bool>,
    /// The name of the person who owns it on the desk.
    pub assignee: Option<String>,
    /// Every step, oldest first.
    pub steps: Vec<StepView>,
}

/// Which deadline a case is working against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deadline {
    /// Nobody has acknowledged it yet.
    Acknowledge,
    /// Acknowledged; it must be closed.
    Close,
}

impl Case {
    /// The deadline an open case works against now, and when it is (Unix ms): the
    /// acknowledge deadline until someone acknowledges, then the close deadline.
    pub fn next_deadline(&self) -> (Deadline, i64) {
        match self.acknowledged_at {
            None => (
                Deadline::Acknowledge,
                self.ack_due_at.0.min(self.close_due_at.0),
            ),
            Some(_) => (Deadline::Close, self.close_due_at.0),
        }
    }
}

/// A recorded step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    /// Which step.
    pub step: Step,
    /// Who.
    pub actor: String,
    /// What was done.
    pub note: Option<String>,
    /// For `cause_found`: the category.
    pub cause: Option<String>,
    /// When.
    pub at: Timestamp,
    /// For `cause_found`: the prevention action.
    pub prevention: Option<Prevention>,
    /// What the person wrote to the customer with this step, as emailed
    /// (`customer_told`, `closed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An email a person on the case wrote to the customer: queued with its step, sent as
/// written with a one-click re-rating link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerEmail {
    /// The case's reference, `NM-4F7Q`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The business's name.
    pub site_name: String,
    /// The step it was written with.
    pub step: Step,
    /// What the person wrote.
    pub message: String,
}

/// The rating of a case, with what the customer added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingView {
    /// The widget's UUID.
    pub id: String,
    /// The score.
    pub score: i64,
    /// The top of the scale (5 or 10).
    pub scale: i64,
    /// The business's reference.
    pub interaction: Option<String>,
    /// The page.
    pub page: Option<String>,
    /// The customer's language.
    pub locale: Option<String>,
    /// Received at.
    pub created_at: Timestamp,
    /// What the customer added, if anything.
    pub details: Option<DetailsView>,
}

/// What the customer added after the score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailsView {
    /// Free text.
    pub comment: Option<String>,
    /// Reasons picked.
    pub reasons: Vec<String>,
    /// How to reach them, only when they consented.
    pub contact: Option<ContactView>,
}

/// How to reach the customer (they consented).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactView {
    /// Name.
    pub name: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

/// A case as `GET /v1/cases/{ref}` shows it: the case with its rating.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// Its rating.
    pub rating: RatingView,
}

/// `GET /v1/cases`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseList {
    /// Newest first.
    pub cases: Vec<CaseView>,
}

/// The payload of a notice to the people on a site's Slack and email endpoints: a
/// setup problem, not a case (webhooks, whose contract is case events, never get one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginNotice {
    /// The site's row id (its desk page).
    pub site_id: i64,
    /// The site's name.
    pub site_name: String,
    /// The refused origin.
    pub origin: String,
}

/// A webhook body (Standard Webhooks): `{"type", "timestamp", "data": {case, rating}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookBody {
    /// `case.opened`, `case.updated`, `case.overdue` or `case.closed`.
    #[serde(rename = "type")]
    pub event: Event,
    /// When it happened.
    pub timestamp: Timestamp,
    /// The case and its rating.
    pub data: WebhookData,
    /// A test sent from the desk: no customer is waiting (absent otherwise).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

/// The `data` of a webhook body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookData {
    /// The case.
    pub case: Case,
    /// Its rating.
    pub rating: RatingView,
}

impl WebhookBody {
    /// The body for `event` on `view` at `now`.
    pub fn new(event: Event, view: CaseView, now: i64) -> WebhookBody {
        WebhookBody {
            event,
            timestamp: Timestamp(now),
            data: WebhookData {
                case: view.case,
                rating: view.rating,
            },
            test: false,
        }
    }
}

/// `GET /v1/stats`: a site's (or every site's) numbers over a period of UTC days.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The first day, `YYYY-MM-DD`.
    pub from: String,
    /// The last day (included).
    pub to: String,
    /// Ratings received (re-ratings are counted apart).
    pub ratings: i64,
    /// Of them, perfect.
    pub perfect: i64,
    /// `perfect ÷ ratings`; `null` without ratings.
    pub perfection_rate: Option<f64>,
    /// Ratings below perfect: each opened a case.
    pub near_misses: i64,
    /// Cases opened in the period that are open now.
    pub open: i64,
    /// Of them, overdue now.
    pub overdue: i64,
    /// Time from opening to acknowledgement, of the cases acknowledged.
    pub ack_seconds: AckSeconds,
    /// Re-ratings received.
    pub rerated: i64,
    /// Of them, perfect: the customer was won back.
    pub recovered: i64,
    /// `recovered ÷ rerated`; `null` without re-ratings.
    pub recovery_rate: Option<f64>,
    /// Root causes found for the period's cases, most frequent first.
    pub causes: Vec<CauseCount>,
    /// Every day of the period, empty ones included.
    pub days: Vec<DayCount>,
}

/// Seconds to acknowledge; `null` when no case was acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckSeconds {
    /// The median (nearest rank).
    pub median: Option<i64>,
    /// The 90th percentile (nearest rank).
    pub p90: Option<i64>,
}

/// A root cause and what was done about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CauseCount {
    /// The category.
    pub cause: String,
    /// Cases it explained.
    pub cases: i64,
    /// The prevention actions taken, each once.
    pub preventions: Vec<String>,
}

/// One UTC day's ratings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Ratings received.
    pub ratings: i64,
    /// Of them, perfect.
    pub perfect: i64,
}

/// `POST /v1/cases/{ref}/steps`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct StepRequest {
    /// One of the [`Step`]s, by name.
    pub step: String,
    /// What was done; for `made_good`, what was given; for `closed` without
    /// `customer_told`, why the customer was not told.
    #[serde(default)]
    pub note: Option<String>,
    /// Who did it; defaults to the API token's name.
    #[serde(default)]
    pub actor: Option<String>,
    /// For `cause_found`: the root-cause category, from the site's list.
    #[serde(default)]
    pub cause: Option<String>,
    /// For `cause_found`: the action that prevents it happening again (a new prevention).
    #[serde(default)]
    pub action: Option<String>,
    /// For `cause_found`: an existing prevention to link instead of a new action.
    #[serde(default)]
    pub prevention: Option<i64>,
    /// For `customer_told` and `closed`: what to email the customer (who consented),
    /// as written. The note stays internal.
    #[serde(default)]
    pub message: Option<String>,
}
