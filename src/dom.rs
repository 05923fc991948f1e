//! Small builders for the widget's elements. Text goes in with `set_text_content` only:
//! nothing a business or a customer typed is ever parsed as HTML.

use wasm_bindgen::UnwrapThrowExt;
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
    if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
        let _ = el.focus();
    }
}
