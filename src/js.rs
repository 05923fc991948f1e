//! The few browser APIs the widget calls, declared here instead of through `js-sys` and
//! `web-sys`: those crates' thousands of declarations each leave code in the wasm (their
//! closure adapters alone were kilobytes), while the widget needs a dozen calls.

use alloc::string::String;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A DOM element; the widget also calls `query_selector` on its shadow root.
    pub type Element;

    #[wasm_bindgen(js_namespace = document, js_name = createElement)]
    pub fn create_element(tag: &str) -> Element;
    #[wasm_bindgen(method, setter = className)]
    pub fn set_class_name(this: &Element, class: &str);
    #[wasm_bindgen(method, setter = textContent)]
    pub fn set_text_content(this: &Element, text: &str);
    /// Text straight from a JS string (a word), without copying it through the wasm.
    #[wasm_bindgen(method, setter = textContent)]
    pub fn set_text(this: &Element, text: &JsValue);
    #[wasm_bindgen(method, js_name = appendChild)]
    pub fn append_child(this: &Element, child: &Element);
    #[wasm_bindgen(method, js_name = setAttribute)]
    pub fn set_attribute(this: &Element, name: &str, value: &str);
    #[wasm_bindgen(method, js_name = getAttribute)]
    pub fn get_attribute(this: &Element, name: &str) -> Option<String>;
    #[wasm_bindgen(method, js_name = hasAttribute)]
    pub fn has_attribute(this: &Element, name: &str) -> bool;
    #[wasm_bindgen(method, js_name = toggleAttribute)]
    pub fn toggle_attribute(this: &Element, name: &str, force: bool);
    #[wasm_bindgen(method, js_name = querySelector)]
    pub fn query_selector(this: &Element, selector: &str) -> Option<Element>;

    #[wasm_bindgen(js_namespace = console)]
    pub fn warn(message: &str);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    pub fn warn_with(message: &str, value: &JsValue);

    #[wasm_bindgen(js_namespace = Reflect, catch)]
    pub fn get(target: &JsValue, key: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = Reflect, catch)]
    pub fn set(target: &JsValue, key: &str, value: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(js_namespace = Reflect, catch)]
    pub fn apply(function: &JsValue, this: &JsValue, args: &Array) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = Reflect, catch)]
    pub fn construct(constructor: &JsValue, args: &Array) -> Result<JsValue, JsValue>;

    /// A JS array, for arguments and for lists sent to the page.
    pub type Array;
    #[wasm_bindgen(constructor)]
    pub fn new() -> Array;
    #[wasm_bindgen(method)]
    pub fn push(this: &Array, value: &JsValue);

    /// `Object()`: a new empty object.
    #[wasm_bindgen(js_name = Object)]
    pub fn object() -> JsValue;
    #[wasm_bindgen(js_namespace = JSON, catch)]
    pub fn stringify(value: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_namespace = Promise)]
    pub fn resolve(value: &JsValue) -> JsValue;
    #[wasm_bindgen(js_namespace = Promise)]
    pub fn reject(value: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = requestAnimationFrame)]
    pub fn request_animation_frame(callback: &JsValue);
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(callback: &JsValue, ms: i32);
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    pub fn get_random_values(bytes: &mut [u8]);

    pub type Date;
    /// Milliseconds since 1970, now.
    #[wasm_bindgen(static_method_of = Date, js_name = now)]
    pub fn now_ms() -> f64;
    #[wasm_bindgen(constructor)]
    pub fn new(rfc3339: &str) -> Date;
    #[wasm_bindgen(constructor, js_class = "Date")]
    pub fn now() -> Date;
    /// Throws for a time zone or language tag the browser does not know.
    #[wasm_bindgen(method, js_name = toLocaleString, catch)]
    pub fn to_locale_string(
        this: &Date,
        locales: &JsValue,
        options: &JsValue,
    ) -> Result<String, JsValue>;

    /// A JS number, to be formatted in the customer's language.
    pub type Number;
    /// Throws for an unknown language tag, or in a browser without unit formatting.
    #[wasm_bindgen(method, js_name = toLocaleString, catch)]
    pub fn to_locale_string(
        this: &Number,
        locales: &JsValue,
        options: &JsValue,
    ) -> Result<String, JsValue>;
}
