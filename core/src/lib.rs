//! The rating schema, its validation and the "is this perfect?" rule.
//!
//! Compiled byte-for-byte into both the widget (wasm) and the server, so the customer
//! and the collector never disagree about what is valid or what is a near miss. No I/O,
//! no web-sys, no tokio; only `serde` derives. No standard library either (only `alloc`),
//! so the widget's wasm carries none.
#![no_std]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod rating;
mod scale;
mod settings;
mod validate;
mod words;

pub use rating::{Contact, Details, Rating, ScoreChange};
pub use scale::{is_perfect, Scale};
pub use settings::WidgetSettings;
pub use validate::{check_line, check_text, ErrorKind, ValidationError, LIMITS};
pub use words::Words;
