//! The site's settings for the widget (`GET /v1/sites/{key}/widget`): its scale, reason
//! chips, apology, who answers, the public review link, and every word the customer
//! reads, in their language. The loader fetches them alongside the wasm.

use crate::dom::{prop, text};
use crate::js::{Element, Number};
use alloc::string::String;
use alloc::vec::Vec;
use nearmiss_core::Scale;
use wasm_bindgen::{JsCast, JsValue};

pub struct Site {
    pub scale: Scale,
    pub reasons: Vec<String>,
    pub apology: String,
    /// Who answers, isolated for the text's direction.
    pub owner: String,
    pub ack_within_minutes: u32,
    pub review_url: Option<String>,
    /// The site's accent colour (`#0a7d5a`), if it set one.
    pub accent: Option<String>,
    /// The customer's language tag (`de-AT`), for `lang` and the browser's `Intl`.
    pub lang: JsValue,
    /// Arabic: laid out right to left.
    pub rtl: bool,
    /// The site's time zone, which promised times are told in.
    pub time_zone: JsValue,
    /// The customer-facing words (`question`, `send`, `invalid_email`, …).
    words: JsValue,
}

impl Site {
    pub fn from_js(body: &JsValue) -> Site {
        let scale = prop(body, "scale")
            .as_f64()
            .and_then(|top| Scale::try_from(top as u8).ok())
            .unwrap_or_default();
        let list = prop(body, "reasons");
        let count = prop(&list, "length").as_f64().unwrap_or(0.0) as u32;
        let reasons = (0..count.min(50))
            .filter_map(|i| prop(&list, &crate::dom::number(i)).as_string())
            .collect();
        Site {
            scale,
            reasons,
            apology: text(body, "apology").unwrap_or_default(),
            owner: isolated(text(body, "owner").unwrap_or_default()),
            ack_within_minutes: prop(body, "ack_within_minutes").as_f64().unwrap_or(15.0) as u32,
            review_url: text(body, "review_url")
                .filter(|url| url.starts_with("https://") || url.starts_with("http://")),
            accent: text(body, "accent"),
            lang: prop(body, "lang"),
            rtl: text(body, "lang").is_some_and(|lang| lang.starts_with("ar")),
            time_zone: prop(body, "time_zone"),
            words: prop(body, "words"),
        }
    }

    /// `minutes` as the customer's language says it, by the browser's `Intl`: "15
    /// minutes", "2 Stunden", "١٥ دقيقة"; "15 min" where the browser cannot.
    pub fn duration(&self, minutes: u32) -> String {
        let (count, unit) = match minutes {
            m if m >= 60 && m % 60 == 0 => (m / 60, "hour"),
            m => (m, "minute"),
        };
        let options = crate::dom::object(&[
            ("style", "unit".into()),
            ("unit", unit.into()),
            ("unitDisplay", "long".into()),
        ]);
        let number: Number = JsValue::from_f64(count.into()).unchecked_into();
        number
            .to_locale_string(&self.lang, &options)
            .unwrap_or_else(|_| {
                let mut text = crate::dom::number(minutes);
                text.push_str(" min");
                text
            })
    }

    /// One of the words; empty when the server did not send it.
    pub fn word(&self, key: &str) -> String {
        text(&self.words, key).unwrap_or_default()
    }

    /// Shows one of the words in `el`.
    pub fn say(&self, el: &Element, key: &str) {
        el.set_text(&prop(&self.words, key));
    }

    /// `<tag class="class">` with one of the words, appended to `parent`.
    pub fn add(&self, parent: &Element, tag: &str, class: &str, key: &str) -> Element {
        let el = crate::dom::add(parent, tag, class);
        self.say(&el, key);
        el
    }
}

/// `name` isolated from the words around it (Unicode's first-strong isolate): a
/// business's Latin name keeps its own direction inside an Arabic sentence, and the
/// other way round, instead of carrying the sentence's full stop to its far side.
fn isolated(name: String) -> String {
    let mut text = String::from("\u{2068}");
    text.push_str(&name);
    text.push('\u{2069}');
    text
}
