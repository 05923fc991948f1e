//! Small builders for the widget's elements, and plain property access. Text goes in
//! with `set_text_content` only: nothing a business or a customer typed is ever parsed
//! as HTML.

use wasm_bindgen::{JsValue, UnwrapThrowExt};
use web_sys::{Document, Element};

pub fn document() -> Option<Document> {
    web_sys::window()?.document()
}

/// `<tag class="class">` appended to `parent`.
pub fn add(parent: &Element, tag: &str, class: &str) -> Element {
    // Throws to JS instead of panicking: no formatting code in the wasm for these.
    let doc = parent.owner_document().or_else(document).unwrap_throw();
    let el = doc.create_element(tag).unwrap_throw();
    if !class.is_empty() {
        el.set_class_name(class);
    }
    let _ = parent.append_child(&el);
    el
}

/// Like [`add`], with text.
pub fn add_text(parent: &Element, tag: &str, class: &str, text: &str) -> Element {
    let el = add(parent, tag, class);
    el.set_text_content(Some(text));
    el
}

/// Sets attributes from pairs.
pub fn attrs(el: &Element, pairs: &[(&str, &str)]) {
    for (name, value) in pairs {
        let _ = el.set_attribute(name, value);
    }
}

/// Moves keyboard focus to `el`, for the next screen or the next radio.
pub fn focus(el: &Element) {
    use wasm_bindgen::JsCast;
    // Through the property, not web-sys's HtmlElement: one JS shim fewer.
    if let Ok(focus) = prop(el, "focus").dyn_into::<js_sys::Function>() {
        let _ = focus.call0(el);
    }
}

/// `object[key]`, or `undefined`. Used instead of web-sys's typed getters where those
/// would each add a JS shim to the download (`value`, `checked`, `location.origin`, …).
pub fn prop(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    js_sys::Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `object[key] = value`.
pub fn set_prop(object: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(object, &JsValue::from_str(key), value);
}
