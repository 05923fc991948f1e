//! `nearmiss('on', 'rated' | 'flagged' | 'sent', fn)`: the host page's callbacks.
//! A callback that throws is reported to the console and never breaks the widget.

use alloc::string::String;
use alloc::vec::Vec;
use wasm_bindgen::JsValue;

#[derive(Default)]
pub struct Events {
    handlers: Vec<(String, js_sys::Function)>,
}

impl Events {
    pub fn add(&mut self, event: String, callback: js_sys::Function) {
        self.handlers.push((event, callback));
    }

    /// The callbacks for `event`: called by the widget once it has let go of its state,
    /// since a callback may call `nearmiss(…)` again.
    pub fn for_event(&self, event: &str) -> Vec<js_sys::Function> {
        self.handlers
            .iter()
            .filter(|(name, _)| name == event)
            .map(|(_, f)| f.clone())
            .collect()
    }
}

/// Calls each callback with `detail`.
pub fn call(callbacks: &[js_sys::Function], detail: &JsValue) {
    for callback in callbacks {
        if let Err(err) = callback.call1(&JsValue::NULL, detail) {
            web_sys::console::warn_2(&JsValue::from_str("nearmiss: an event handler threw"), &err);
        }
    }
}
