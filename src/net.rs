//! What the widget sends and how a send can fail. The loader's outbox does the `fetch`
//! (bodies as `text/plain` JSON: a CORS "simple" request, so a phone on a slow network
//! pays no preflight round trip); this module builds the bodies and waits between tries.

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

/// Why a call did not succeed.
pub enum Failure {
    /// No answer: offline, refused, blocked.
    Network,
    /// The server answered with this status.
    Status(u16),
}

impl Failure {
    /// Worth trying again: the network, a timeout, a busy or failing server.
    pub fn is_transient(&self) -> bool {
        match self {
            Failure::Network => true,
            Failure::Status(status) => matches!(status, 408 | 429 | 500..=599),
        }
    }
}

pub fn warn(message: &str) {
    web_sys::console::warn_1(&JsValue::from_str(message));
}

/// A plain object from key/value pairs; `undefined` values are left out.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = js_sys::Object::new();
    for (key, value) in pairs {
        if !value.is_undefined() {
            let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), value);
        }
    }
    object.into()
}

/// A value as JSON text.
pub fn json_text(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .map(String::from)
        .unwrap_or_default()
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}
