//! What the widget is sent about a site (`GET /v1/sites/{key}/widget`): the server
//! serialises this type, and the widget's browser tests boot the widget on its
//! serialisation, so the two cannot disagree on a field. (The widget reads it as plain
//! JS properties: a serde deserializer in the wasm would cost more than the whole
//! widget; README, "Widget size".)

use crate::Words;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// A site's settings, as the widget needs them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetSettings {
    /// The top of the scale: 5 (stars) or 10 (0 to 10).
    pub scale: u8,
    /// The reason chips offered after a near miss.
    pub reasons: Vec<String>,
    /// The apology after a near miss, in the business's words.
    pub apology: String,
    /// Who will get back to the customer ("The Corner Bistro team").
    pub owner: String,
    /// The acknowledge deadline, in whole minutes.
    pub ack_within_minutes: u64,
    /// The public review link, offered to every rater.
    pub review_url: Option<String>,
    /// Whether the asking page's origin may send ratings: the widget stays hidden when
    /// not.
    pub origin_allowed: bool,
    /// The site's accent colour (`#0a7d5a`): buttons and the checked score, unless the
    /// page sets `--nearmiss-accent`.
    pub accent: Option<String>,
    /// The customer's language tag the words are in (`de-AT`): the browser formats
    /// numbers and times by it, and lays out right to left for Arabic.
    pub lang: String,
    /// The site's time zone (IANA, like `Europe/Berlin`): promised times are its clock's.
    pub time_zone: String,
    /// Every word the customer reads that the site does not set, in `lang`.
    pub words: Words,
}
