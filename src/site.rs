//! The site's settings for the widget (`GET /v1/sites/{key}/widget`): its scale, reason
//! chips, apology, who answers, the public review link, and every word the customer
//! reads, in their language. The loader fetches them alongside the wasm.

use crate::dom::{prop, text};
use crate::js::Element;
use alloc::string::String;
use alloc::vec::Vec;
use nearmiss_core::Scale;
use wasm_bindgen::JsValue;

pub struct Site {
    pub scale: Scale,
    pub reasons: Vec<String>,
    pub apology: String,
    pub owner: String,
    pub ack_within_minutes: u32,
    pub review_url: Option<String>,
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
            owner: text(body, "owner").unwrap_or_default(),
            ack_within_minutes: prop(body, "ack_within_minutes").as_f64().unwrap_or(15.0) as u32,
            review_url: text(body, "review_url")
                .filter(|url| url.starts_with("https://") || url.starts_with("http://")),
            words: prop(body, "words"),
        }
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
