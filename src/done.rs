//! The last screen: thanks, and after a near miss the case reference with who will
//! answer and by when (on the site's clock, in the customer's language); a note while what they sent still
//! waits for the network; the public review link, offered to every rater.

use crate::dom;
use crate::js::Date;
use crate::js::Element;
use crate::send::Answer;
use crate::site::Site;
use alloc::string::String;
use wasm_bindgen::JsValue;

/// Draws the screen in `screen` and returns its title (which takes focus). `note` is
/// the word of a note under it; `changeable` offers "Change my score".
pub fn build(
    screen: &Element,
    site: &Site,
    answer: Option<&Answer>,
    contact_given: bool,
    note: Option<&str>,
    changeable: bool,
) -> Element {
    let case_ref = answer.and_then(|a| a.case_ref.as_deref());
    let title = match case_ref {
        Some(case_ref) => {
            let title = reference(screen, site, case_ref);
            let by = answer
                .and_then(|a| a.promise_by.as_deref())
                .map(|by| site_time(site, by))
                .unwrap_or_default();
            let next = site.word(if contact_given {
                "done_contact"
            } else {
                "done_look"
            });
            let next = dom::fill(&next, &[("owner", &site.owner), ("time", &by)]);
            dom::add_text(screen, "p", "promise", &next);
            title
        }
        None => site.add(screen, "h2", "title", "done_perfect"),
    };
    dom::attrs(&title, &[("id", "nm-title"), ("tabindex", "-1")]);
    if let Some(word) = note {
        let note = site.add(screen, "p", "note", word);
        dom::attrs(&note, &[("role", "status")]);
    }
    if changeable {
        let change = site.add(screen, "button", "change", "change_score");
        dom::attrs(&change, &[("type", "button")]);
    }
    if let Some(url) = &site.review_url {
        // Offered to every rater, perfect or not: never review gating.
        let link = site.add(screen, "a", "review", "review");
        dom::attrs(
            &link,
            &[("href", url), ("target", "_blank"), ("rel", "noopener")],
        );
    }
    title
}

/// The screen of an interaction this browser rated already: its case's reference after
/// a near miss, thanks otherwise. Returns the title.
pub fn already(screen: &Element, site: &Site, case_ref: Option<&str>) -> Element {
    let title = match case_ref {
        Some(case_ref) => reference(screen, site, case_ref),
        None => site.add(screen, "h2", "title", "rated"),
    };
    dom::attrs(&title, &[("id", "nm-title"), ("tabindex", "-1")]);
    title
}

/// The title naming the case's reference: the words around it, and it in <strong>.
fn reference(screen: &Element, site: &Site, case_ref: &str) -> Element {
    let title = dom::add(screen, "h2", "title");
    let words = dom::fill(&site.word("done_miss"), &[("ref", "\u{0}")]);
    let (before, after) = words.split_once('\u{0}').unwrap_or((&words, ""));
    dom::add_text(&title, "span", "", before);
    dom::add_text(&title, "strong", "ref", case_ref);
    dom::add_text(&title, "span", "", after);
    title
}

/// An RFC 3339 time as the site's clock reads it, in the customer's language: "3:15 PM",
/// or on another day (a site with opening hours promises the next opening) "Monday 9:15
/// AM"; with the zone's name ("3:15 PM GMT") when the customer's own clock differs.
fn site_time(site: &Site, rfc3339: &str) -> String {
    let at = Date::new(rfc3339);
    let say = |date: &Date, fields: &[(&str, JsValue)]| {
        let mut options = alloc::vec![("timeZone", site.time_zone.clone())];
        options.extend_from_slice(fields);
        // An unknown zone (an old browser's list) leaves the customer's own clock.
        date.to_locale_string(&site.lang, &dom::object(&options))
            .or_else(|_| date.to_locale_string(&site.lang, &dom::object(fields)))
            .unwrap_or_default()
    };
    let day = [("dateStyle", "short".into())];
    let mut fields = alloc::vec![("hour", "numeric".into()), ("minute", "2-digit".into())];
    if say(&at, &day) != say(&Date::now(), &day) {
        fields.push(("weekday", "long".into()));
    }
    let shown = say(&at, &fields);
    let own = at.to_locale_string(&site.lang, &dom::object(&fields));
    if own.is_ok_and(|own| own == shown) {
        return shown;
    }
    fields.push(("timeZoneName", "short".into()));
    say(&at, &fields)
}
