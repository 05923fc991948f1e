//! The nearmiss widget: Rust compiled to WebAssembly, embedded on a business's page by
//! one script tag. The loader (`www/nearmiss.js`) calls [`boot`] with the script tag's
//! `data-` attributes, then forwards `nearmiss(...)` calls to [`command`].
//!
//! Everything lives in one `<nearmiss-widget>` element with an open shadow root; text is
//! only ever set with `set_text_content`.
#![deny(missing_docs)]

mod dom;
mod embed;
mod events;
mod flow;
mod net;
mod outbox;
mod score;
mod site;
mod text;

use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

// wasm32-unknown-unknown runs on one thread: the widget never shares memory with a worker.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

thread_local! {
    static WIDGET: RefCell<Option<Rc<flow::Widget>>> = const { RefCell::new(None) };
}

/// Starts the widget with the embed settings (`{site, trigger, interaction, token, lang,
/// endpoint}`); a second call replaces the first widget.
#[wasm_bindgen]
pub fn boot(settings: JsValue) {
    let embed = match embed::Embed::from_js(&settings) {
        Ok(embed) => embed,
        Err(message) => {
            net::warn(message);
            return;
        }
    };
    let previous = WIDGET.with(|w| w.borrow_mut().take());
    if let Some(previous) = previous {
        previous.destroy();
    }
    if let Some(widget) = flow::Widget::start(embed) {
        WIDGET.with(|w| *w.borrow_mut() = Some(widget));
    }
}

/// Runs one `nearmiss(name, a, b)` call: `open` (options), `close`, `on` (event, function),
/// `destroy`.
#[wasm_bindgen]
pub fn command(name: &str, a: JsValue, b: JsValue) {
    let Some(widget) = WIDGET.with(|w| w.borrow().clone()) else {
        net::warn("nearmiss: not started (is data-site set?)");
        return;
    };
    match name {
        "open" => widget.open(embed::OpenOptions::from_js(&a)),
        "close" => widget.close(),
        "on" => match (a.as_string(), b.dyn_into::<js_sys::Function>()) {
            (Some(event), Ok(callback)) => widget.events.add(event, callback),
            _ => net::warn("nearmiss: 'on' needs an event name and a function"),
        },
        "destroy" => {
            widget.destroy();
            WIDGET.with(|w| *w.borrow_mut() = None);
        }
        _ => net::warn("nearmiss: unknown command"),
    }
}
