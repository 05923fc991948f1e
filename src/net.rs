//! Talking to the collector with `fetch`. Bodies are sent as `text/plain` JSON: a CORS
//! "simple" request, so a phone on a slow network pays no preflight round trip.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, Response};

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

/// `GET url` and its JSON body.
pub async fn get_json(url: &str) -> Result<JsValue, Failure> {
    let window = web_sys::window().ok_or(Failure::Network)?;
    finish(window.fetch_with_str(url)).await
}

/// `POST url` with `body` as JSON, and the answer's JSON body.
pub async fn post_json(url: &str, body: &JsValue) -> Result<JsValue, Failure> {
    let window = web_sys::window().ok_or(Failure::Network)?;
    let text = js_sys::JSON::stringify(body).map_err(|_| Failure::Network)?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&text);
    // Lets a send started just before the page is left still complete.
    // (web-sys has no setter for it.)
    let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &true.into());
    finish(window.fetch_with_str_and_init(url, &init)).await
}

async fn finish(request: js_sys::Promise) -> Result<JsValue, Failure> {
    let response: Response = JsFuture::from(request)
        .await
        .map_err(|_| Failure::Network)?
        // fetch resolves only with a Response.
        .unchecked_into();
    if !response.ok() {
        return Err(Failure::Status(response.status()));
    }
    match response.json() {
        Ok(promise) => Ok(JsFuture::from(promise).await.unwrap_or(JsValue::NULL)),
        Err(_) => Ok(JsValue::NULL),
    }
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
