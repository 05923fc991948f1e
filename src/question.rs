//! The first screen: the site's question and its score control.

use crate::dom;
use crate::js::Element;
use crate::score::ScoreGroup;
use crate::site::Site;

/// Draws the question in `screen` (after a case was put right, the re-rating page's
/// own); the radios take focus from the first.
pub fn build(screen: &Element, site: &Site, rerating: bool) -> ScoreGroup {
    let word = if rerating {
        "rerate_question"
    } else {
        "question"
    };
    let title = site.add(screen, "h2", "title", word);
    dom::attrs(&title, &[("id", "nm-title")]);
    ScoreGroup::build(screen, site, "nm-title")
}
