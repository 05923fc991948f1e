//! `nearmiss('on', 'rated' | 'flagged' | 'sent', fn)`: the host page's callbacks.
//! A callback that throws is reported to the console and never breaks the widget.

use crate::js;
use alloc::string::String;
use alloc::vec::Vec;
use wasm_bindgen::JsValue;

#[derive(Default)]
pub struct Events {
    handlers: Vec<(String, JsValue)>,
}

impl Events {
    pub fn add(&mut self, event: String, callback: JsValue) {
        self.handlers.push((event, callback));
    }

    /// The callbacks for `event`: called by the widget once it has let go of its state,
    /// since a callback may call `nearmiss(…)` again.
    pub fn for_event(&self, event: &str) -> Vec<JsValue> {
        self.handlers
            .iter()
            .filter(|(name, _)| name == event)
            .map(|(_, f)| f.clone())
            .collect()
    }
}

/// Calls each callback with `detail`.
pub fn call(callbacks: &[JsValue], detail: &JsValue) {
    for callback in callbacks {
        let args = crate::dom::array(core::slice::from_ref(detail));
        if let Err(err) = js::apply(callback, &JsValue::NULL, &args) {
            js::warn_with("nearmiss: an event handler threw", &err);
        }
    }
}
