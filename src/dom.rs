//! Small builders for the widget's elements, and plain property access. Text goes in
//! with `set_text_content` only: nothing a business or a customer typed is ever parsed
//! as HTML.

use crate::js::{self, Element};
use alloc::string::String;
use wasm_bindgen::JsValue;

/// `<tag class="class">` appended to `parent`.
pub fn add(parent: &Element, tag: &str, class: &str) -> Element {
    let el = js::create_element(tag);
    if !class.is_empty() {
        el.set_class_name(class);
    }
    parent.append_child(&el);
    el
}

/// Like [`add`], with text.
pub fn add_text(parent: &Element, tag: &str, class: &str, text: &str) -> Element {
    let el = add(parent, tag, class);
    el.set_text_content(text);
    el
}

/// Sets attributes from pairs.
pub fn attrs(el: &Element, pairs: &[(&str, &str)]) {
    for (name, value) in pairs {
        el.set_attribute(name, value);
    }
}

/// Shows or hides `el` (the stylesheets hide `[hidden]` whatever else applies).
pub fn show(el: &Element, shown: bool) {
    el.toggle_attribute("hidden", !shown);
}

/// Moves keyboard focus to `el`, for the next screen or the next radio.
pub fn focus(el: &Element) {
    // Through the property, not web-sys's HtmlElement: one JS shim fewer.
    call(el, "focus", &[]);
}

/// Calls `object[method](...args)`, ignoring what it returns or throws.
pub fn call(object: &JsValue, method: &str, args: &[JsValue]) -> JsValue {
    let function = prop(object, method);
    if !function.is_function() {
        return JsValue::UNDEFINED;
    }
    js::apply(&function, object, &array(args)).unwrap_or(JsValue::UNDEFINED)
}

/// A JS array of `values`.
pub fn array(values: &[JsValue]) -> js::Array {
    let array = js::Array::new();
    for value in values {
        array.push(value);
    }
    array
}

/// `object[key]`, or `undefined`. Used instead of web-sys's typed getters where those
/// would each add a JS shim to the download (`value`, `checked`, `location.origin`, …).
pub fn prop(object: &JsValue, key: &str) -> JsValue {
    // Reflect.get throws for what is not an object (a function is one): caught here.
    js::get(object, key).unwrap_or(JsValue::UNDEFINED)
}

/// `object[key]` as text, when it is non-empty text.
pub fn text(object: &JsValue, key: &str) -> Option<String> {
    prop(object, key).as_string().filter(|s| !s.is_empty())
}

/// `object[key] = value`.
pub fn set_prop(object: &JsValue, key: &str, value: &JsValue) {
    let _ = js::set(object, key, value);
}

/// A plain object from key/value pairs; `undefined` values are left out.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = js::object();
    for (key, value) in pairs {
        if !value.is_undefined() {
            set_prop(&object, key, value);
        }
    }
    object
}

/// A number as decimal text, without `core::fmt` (which would add kilobytes).
pub fn number(n: u32) -> String {
    let mut text = String::new();
    let mut unit = 1_000_000_000;
    while unit > 0 {
        let digit = n / unit % 10;
        if digit != 0 || !text.is_empty() || unit == 1 {
            text.push(char::from(b'0' + digit as u8));
        }
        unit /= 10;
    }
    text
}

/// `template` with each `{name}` replaced by its value in `values` (unknown names are
/// left as they are). Written out rather than `str::replace`, whose searcher brings
/// core's formatting code into the wasm.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = String::new();
    let mut name: Option<String> = None;
    for c in template.chars() {
        match (&mut name, c) {
            (None, '{') => name = Some(String::new()),
            (None, c) => text.push(c),
            (Some(n), '}') => {
                match values.iter().find(|(key, _)| key == n) {
                    Some((_, value)) => text.push_str(value),
                    None => {
                        text.push('{');
                        text.push_str(n);
                        text.push('}');
                    }
                }
                name = None;
            }
            (Some(n), c) => n.push(c),
        }
    }
    if let Some(n) = name {
        text.push('{');
        text.push_str(&n);
    }
    text
}

/// A message on the console: the page's developers read it, customers never do.
pub fn warn(message: &str) {
    js::warn(message);
}

#[cfg(test)]
mod tests {
    use super::{fill, number};

    #[test]
    fn numbers_are_written_in_decimal() {
        assert_eq!(number(0), "0");
        assert_eq!(number(7), "7");
        assert_eq!(number(2000), "2000");
        assert_eq!(number(u32::MAX), "4294967295");
    }

    #[test]
    fn placeholders_are_filled_and_unknown_ones_kept() {
        let values = [("owner", "Sam"), ("minutes", "15")];
        assert_eq!(
            fill(
                "{owner} will look into this within {minutes} minutes.",
                &values
            ),
            "Sam will look into this within 15 minutes."
        );
        assert_eq!(fill("{who} {owner} {", &values), "{who} Sam {");
        assert_eq!(fill("Thank you, {owner}!", &[]), "Thank you, {owner}!");
    }
}
