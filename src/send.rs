//! What the widget sends and what it reads back: the JSON bodies of `POST /v1/ratings`
//! and `POST /v1/ratings/{id}/details` (the core's types), the answer's case reference,
//! and how a failed send is told apart (worth retrying or refused).

use crate::dom::{object, prop};
use alloc::string::String;
use nearmiss_core::{Details, Rating};
use wasm_bindgen::JsValue;

/// The body of `POST /v1/ratings` as JSON (absent fields left out).
pub fn rating_body(r: &Rating) -> String {
    json(&object(&[
        ("id", r.id.as_str().into()),
        ("site", r.site.as_str().into()),
        ("score", (r.score as f64).into()),
        ("interaction", optional(&r.interaction)),
        ("token", optional(&r.token)),
        ("page", optional(&r.page)),
        ("locale", optional(&r.locale)),
        ("rerate", optional(&r.rerate)),
        ("edit", optional(&r.edit)),
    ]))
}

/// The body of `POST /v1/ratings/{id}/score` as JSON.
pub fn score_body(site: &str, edit: &str, score: i64) -> String {
    json(&object(&[
        ("site", site.into()),
        ("edit", edit.into()),
        ("score", (score as f64).into()),
    ]))
}

/// The body of `POST /v1/ratings/{id}/details` as JSON.
pub fn details_body(d: &Details) -> String {
    // Left out when empty, as the core's type writes it.
    let reasons = match d.reasons.is_empty() {
        true => JsValue::UNDEFINED,
        false => {
            let reasons = crate::js::Array::new();
            for reason in &d.reasons {
                reasons.push(&reason.as_str().into());
            }
            reasons.into()
        }
    };
    let contact = match &d.contact {
        Some(c) => object(&[
            ("name", optional(&c.name)),
            ("email", optional(&c.email)),
            ("phone", optional(&c.phone)),
            ("consent", c.consent.into()),
        ]),
        None => JsValue::UNDEFINED,
    };
    json(&object(&[
        ("site", d.site.as_str().into()),
        ("edit", optional(&d.edit)),
        ("comment", optional(&d.comment)),
        ("reasons", reasons),
        ("contact", contact),
    ]))
}

fn optional(value: &Option<String>) -> JsValue {
    value
        .as_deref()
        .map(JsValue::from)
        .unwrap_or(JsValue::UNDEFINED)
}

fn json(value: &JsValue) -> String {
    crate::js::stringify(value)
        .ok()
        .and_then(|json| json.as_string())
        .unwrap_or_default()
}

/// What the server answered to a rating: the case it opened, if any.
#[derive(Clone, Default)]
pub struct Answer {
    pub case_ref: Option<String>,
    /// When the business promised to answer (RFC 3339).
    pub promise_by: Option<String>,
}

impl Answer {
    pub fn from_reply(reply: &JsValue) -> Answer {
        let case = prop(reply, "case");
        Answer {
            case_ref: prop(&case, "ref").as_string(),
            promise_by: prop(&prop(&case, "promise"), "by").as_string(),
        }
    }
}

/// Whether a failed send (the outbox's rejection) is worth trying again: the network
/// (0), or a busy or failing server (its status). A refusal comes as minus its status.
pub fn is_transient(code: &JsValue) -> bool {
    code.as_f64().unwrap_or(0.0) >= 0.0
}

/// A random (version 4) UUID. `crypto.getRandomValues` works on plain-http pages too,
/// where `crypto.randomUUID` does not.
pub fn new_id() -> String {
    let mut bytes = [0u8; 16];
    crate::js::get_random_values(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(36);
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(HEX[(b >> 4) as usize] as char);
        id.push(HEX[(b & 0x0f) as usize] as char);
    }
    id
}

/// The page without its query string or fragment, which may hold personal data.
pub fn page(window: &JsValue) -> Option<String> {
    let location = prop(window, "location");
    let mut page = prop(&location, "origin").as_string()?;
    page.push_str(&prop(&location, "pathname").as_string()?);
    Some(page)
}

/// The browser's language.
pub fn language(window: &JsValue) -> Option<String> {
    prop(&prop(window, "navigator"), "language").as_string()
}
