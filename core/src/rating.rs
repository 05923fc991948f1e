//! What the widget sends: a rating the moment a score is chosen, then its details.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// A score, sent the moment the customer chooses it (`POST /v1/ratings`).
///
/// Unknown fields are ignored, so an older server accepts a newer widget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// A UUID made by the widget when the score is chosen; makes every retry idempotent.
    pub id: String,
    /// The site's public key.
    pub site: String,
    /// The score, on the site's scale.
    pub score: i64,
    /// The business's own reference for what is rated (order, visit, ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<String>,
    /// A token the business's server signed for `interaction`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The page the rating was given on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// The customer's language, a BCP 47 tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The re-rating link's token, when this rates the experience again after a case
    /// was closed: the score is linked to that case instead of opening a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerate: Option<String>,
    /// The secret that `/details` and `/score` must carry for this rating: made by the
    /// widget with the id (so a replay answered after a lost answer still has it), or by
    /// the server when absent. Only its hash is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<String>,
}

/// What the customer adds after the score (`POST /v1/ratings/{id}/details`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    /// The site's public key; must be the rating's site.
    pub site: String,
    /// The rating's `edit` secret (from its 201 answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<String>,
    /// Free text: "What should have been better?" or "What made it great?".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Reason chips the customer picked, from the site's list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// How to reach the customer, if they agreed to be contacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
}

/// The customer changed their mind (`POST /v1/ratings/{id}/score`), within 10 minutes
/// of the rating: a mis-tap taken back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreChange {
    /// The site's public key; must be the rating's site.
    pub site: String,
    /// The rating's `edit` secret (from its 201 answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edit: Option<String>,
    /// The new score, on the site's scale.
    pub score: i64,
}

/// How the business may reach the customer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The customer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// An email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The customer agreed to be contacted about this rating.
    #[serde(default)]
    pub consent: bool,
}
