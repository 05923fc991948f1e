//! The widget's side of the outbox that lives in the loader (`www/outbox.js`): every
//! rating and details submission is stored there before any network call, and sent
//! through it, so nothing the customer gave is lost to a flaky network or a closed tab.

use crate::dom::prop;
use crate::net::{self, Failure};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The loader's outbox object (`{put, send, flush, wait}`).
pub struct Outbox(pub JsValue);

impl Outbox {
    fn call(&self, method: &str, args: &[JsValue]) -> Option<JsValue> {
        let function = prop(&self.0, method).dyn_into::<js_sys::Function>().ok()?;
        let args: js_sys::Array = args.iter().collect();
        function.apply(&self.0, &args).ok()
    }

    /// Stores a submission (`kind`: `r` rating, `d` details); returns its key.
    pub fn put(&self, id: &str, kind: &str, url: &str, body: &str) -> String {
        self.call("put", &[id.into(), kind.into(), url.into(), body.into()])
            .and_then(|key| key.as_string())
            .unwrap_or_default()
    }

    /// Milliseconds until a stored submission may be tried again: the outbox's backoff
    /// or the server's `Retry-After`.
    pub fn wait(&self, key: &str) -> i32 {
        self.call("wait", &[key.into()])
            .and_then(|ms| ms.as_f64())
            .unwrap_or(2000.0) as i32
    }

    /// Sends a stored submission; removed from the outbox once the server took it.
    pub async fn send(&self, key: &str, url: &str, body: &str) -> Result<JsValue, Failure> {
        let Some(promise) = self.call("send", &[key.into(), url.into(), body.into()]) else {
            net::warn("nearmiss: no outbox");
            return Err(Failure::Network);
        };
        JsFuture::from(js_sys::Promise::from(promise))
            .await
            .map_err(|code| match code.as_f64().unwrap_or(0.0) {
                0.0 => Failure::Network,
                status => Failure::Status(status.abs() as u16),
            })
    }
}
