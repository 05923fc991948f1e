//! `nearmiss('on', 'rated' | 'flagged' | 'sent', fn)`: the host page's callbacks.
//! A callback that throws is reported to the console and never breaks the widget.

use std::cell::RefCell;
use wasm_bindgen::JsValue;

#[derive(Default)]
pub struct Events {
    handlers: RefCell<Vec<(String, js_sys::Function)>>,
}

impl Events {
    pub fn add(&self, event: String, callback: js_sys::Function) {
        self.handlers.borrow_mut().push((event, callback));
    }

    pub fn emit(&self, event: &str, detail: &JsValue) {
        // Cloned out first: a callback may call `nearmiss('on', …)` again.
        let callbacks: Vec<js_sys::Function> = self
            .handlers
            .borrow()
            .iter()
            .filter(|(name, _)| name == event)
            .map(|(_, f)| f.clone())
            .collect();
        for callback in callbacks {
            if let Err(err) = callback.call1(&JsValue::NULL, detail) {
                web_sys::console::warn_2(
                    &JsValue::from_str("nearmiss: an event handler threw"),
                    &err,
                );
            }
        }
    }
}
