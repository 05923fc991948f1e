//! The widget's side of the outbox that lives in the loader (`www/outbox.js`): every
//! rating and details submission is stored there before any network call, and sent
//! through it, so nothing the customer gave is lost to a flaky network or a closed tab.
//! The outbox owns the retry schedule (its backoff, or the server's `Retry-After`).

use crate::dom::call;
use alloc::string::String;
use wasm_bindgen::JsValue;

/// The loader's outbox object (`{put, send, flush, wait}`).
pub struct Outbox(pub JsValue);

impl Outbox {
    /// Stores a submission (`kind`: `r` rating, `d` details); returns its key.
    pub fn put(&self, id: &str, kind: &str, url: &str, body: &str) -> String {
        call(
            &self.0,
            "put",
            &[id.into(), kind.into(), url.into(), body.into()],
        )
        .as_string()
        .unwrap_or_default()
    }

    /// Milliseconds until a stored submission may be tried again.
    pub fn wait(&self, key: &str) -> i32 {
        call(&self.0, "wait", &[key.into()])
            .as_f64()
            .unwrap_or(2000.0) as i32
    }

    /// Sends a stored submission: a promise of the server's JSON that rejects with 0
    /// (network), the status (worth retrying) or minus the status (refused, dropped).
    pub fn send(&self, key: &str, url: &str, body: &str) -> JsValue {
        let promise = call(&self.0, "send", &[key.into(), url.into(), body.into()]);
        if promise.is_undefined() {
            crate::dom::warn("nearmiss: no outbox");
            return crate::js::reject(&JsValue::from(0));
        }
        crate::js::resolve(&promise)
    }
}
