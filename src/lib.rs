//! The nearmiss widget: Rust compiled to WebAssembly, embedded on a business's page by
//! one script tag. The loader (`www/nearmiss.js`) draws the floating button itself and
//! downloads this module only when a customer shows intent; it then calls [`boot`] with
//! the script tag's `data-` attributes, the site's settings and the shadow root it drew
//! in, and forwards `nearmiss(...)` calls to [`command`].
//!
//! The wasm build has no standard library: without it there is no formatting code in the
//! download (a panic stops the widget instead of describing itself). Text is only ever
//! set with `set_text_content`.
#![cfg_attr(target_arch = "wasm32", no_std)]
#![deny(missing_docs)]

extern crate alloc;

mod details;
mod dom;
mod done;
mod embed;
mod events;
mod js;
mod memo;
mod outbox;
mod question;
mod score;
mod send;
mod site;
mod widget;

use wasm_bindgen::prelude::*;

// wasm32-unknown-unknown runs on one thread: the widget never shares memory with a worker.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

// The browser tests link the standard library, which brings its own (feature `std`).
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Starts the widget: `{site, trigger, interaction, interactionToken, lang, rerate,
/// endpoint, outbox, config, root}` (the script tag's `data-` attributes, and what the
/// loader made), where `config` is the site's settings (their JSON, already
/// fetched) and `root` the shadow root the loader drew the button in. A second call
/// replaces the first widget.
#[wasm_bindgen]
pub fn boot(settings: JsValue) {
    widget::boot(settings);
}

/// Runs one `nearmiss(name, a, b)` call: `open` (options), `close`, `on` (event,
/// function), `destroy`.
#[wasm_bindgen]
pub fn command(name: &str, a: JsValue, b: JsValue) {
    widget::command(name, a, b);
}
