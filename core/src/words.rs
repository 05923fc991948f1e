//! Every word the widget shows that the business does not set: sent by the server with
//! the site's settings (`words`), so a language costs the page nothing. The English
//! ones are `www/words/en.json`, and each other language has its file beside it;
//! `{owner}`, `{duration}` ("15 minutes", in the customer's language), `{time}` and `{ref}`
//! are filled in by the widget.

use alloc::string::String;
use serde::{Deserialize, Serialize};

/// The widget's words in one language. Every field is required and no other is
/// allowed, so a words file that misses or misspells one is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    /// The floating button's label. The loader draws it before anything is downloaded,
    /// so it is built into the loader (one per language), not read from here.
    pub launcher: String,
    /// The first screen's question.
    pub question: String,
    /// The question on the re-rating page, after the case was put right.
    pub rerate_question: String,
    /// Joins a score and the top of the scale for screen readers: "3 of 5".
    pub of: String,
    /// The label under 0 of a 0 to 10 scale.
    pub scale_low: String,
    /// The label under 10.
    pub scale_high: String,
    /// The close button's accessible name.
    pub close: String,
    /// The title after a perfect score.
    pub perfect_thanks: String,
    /// Asked after a perfect score.
    pub perfect_prompt: String,
    /// Asked after a near miss.
    pub miss_prompt: String,
    /// The contact consent checkbox.
    pub contact_consent: String,
    /// The contact field's label.
    pub contact_label: String,
    /// The promise when the customer may be contacted (`{owner}`, `{duration}`).
    pub promise_contact: String,
    /// The promise when not (`{owner}`, `{duration}`).
    pub promise_look: String,
    /// `promise_contact` of a site with opening hours, whose minutes count while open.
    pub promise_contact_hours: String,
    /// `promise_look` of a site with opening hours.
    pub promise_look_hours: String,
    /// The send button.
    pub send: String,
    /// The send button while sending.
    pub sending: String,
    /// The last screen's title after a near miss (`{ref}`, the case reference).
    pub done_miss: String,
    /// Who will contact the customer, and by when (`{owner}`, `{time}`).
    pub done_contact: String,
    /// Who will look into it, and by when (`{owner}`, `{time}`).
    pub done_look: String,
    /// The last screen's title otherwise.
    pub done_perfect: String,
    /// Shown instead of the question when this browser already rated the interaction.
    pub rated: String,
    /// Takes a mis-tapped score back, for a while after the rating.
    pub change_score: String,
    /// The public review link.
    pub review: String,
    /// What was sent waits for the network.
    pub offline: String,
    /// The server refused what was sent.
    pub not_sent: String,
    /// Validation: `invalid_email`.
    pub invalid_email: String,
    /// Validation: `invalid_phone`.
    pub invalid_phone: String,
    /// Validation: `contact_required`.
    pub contact_required: String,
    /// Validation: `too_long`.
    pub too_long: String,
    /// Any other validation failure.
    pub invalid: String,
}
