//! The first screen: the site's question and its score control.

use crate::dom;
use crate::js::Element;
use crate::score::ScoreGroup;
use crate::site::Site;

/// Draws the question in `screen`; the radios take focus from the first.
pub fn build(screen: &Element, site: &Site) -> ScoreGroup {
    let title = site.add(screen, "h2", "title", "question");
    dom::attrs(&title, &[("id", "nm-title")]);
    ScoreGroup::build(screen, site.scale, "nm-title", &site.word("of"))
}
