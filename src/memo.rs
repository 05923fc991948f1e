//! What this browser remembers of an interaction (an order, a visit), in localStorage:
//! that it was rated (and its case's reference), so that the widget shows that instead
//! of asking again; or that the customer closed the widget without rating, so that a
//! page that asks at once does not ask again. Without an interaction nothing is kept.

use crate::dom::{call, prop};
use alloc::string::String;
use wasm_bindgen::JsValue;

/// What is remembered.
pub enum Memo {
    /// Closed without a score.
    Dismissed,
    /// Rated; the case's reference when it was a near miss and the server answered.
    Rated(Option<String>),
}

fn key(site: &str, interaction: &str) -> String {
    let mut key = String::from("nearmiss:i:");
    key.push_str(site);
    key.push(':');
    key.push_str(interaction);
    key
}

/// The memo of `interaction`, if any (none where storage is unavailable).
pub fn read(window: &JsValue, site: &str, interaction: &str) -> Option<Memo> {
    let storage = prop(window, "localStorage");
    let value = call(&storage, "getItem", &[key(site, interaction).into()]).as_string()?;
    match value.strip_prefix('r') {
        Some(reference) => Some(Memo::Rated(
            Some(String::from(reference)).filter(|r| !r.is_empty()),
        )),
        None => (value == "d").then_some(Memo::Dismissed),
    }
}

/// Forgets `interaction` (its rating was refused: nothing was rated).
pub fn forget(window: &JsValue, site: &str, interaction: &str) {
    let storage = prop(window, "localStorage");
    call(&storage, "removeItem", &[key(site, interaction).into()]);
}

/// Remembers `memo` for `interaction` (nothing where storage is unavailable).
pub fn write(window: &JsValue, site: &str, interaction: &str, memo: &Memo) {
    let value = match memo {
        Memo::Dismissed => String::from("d"),
        Memo::Rated(reference) => {
            let mut value = String::from("r");
            value.push_str(reference.as_deref().unwrap_or(""));
            value
        }
    };
    let storage = prop(window, "localStorage");
    call(
        &storage,
        "setItem",
        &[key(site, interaction).into(), value.into()],
    );
}
