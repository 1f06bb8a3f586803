//! The browser shell: turns `EventSource`, `fetch`, timers and page lifecycle events
//! into core inputs and carries out the core's actions. It owns the platform objects
//! and holds no delivery logic.
//!
//! It is moving onto the design's crates (issue 21), one kind of platform object at a
//! time. Done: the POSTs and the suspend beacon (`post`: web-sys `RequestInit` and
//! `AbortController`, answers awaited with wasm-bindgen-futures), the one host timer
//! (`timer`: gloo-timers), the page lifecycle listeners (`lifecycle`: gloo-events), the
//! delivery reports and `stats()` (`report`, `boundary`: serde-wasm-bindgen, every
//! field by name). Still in the JS half (`helper.js`, declared in `js`): the streams
//! and the parsing of their events, the app's listener and the input checks
//! (`options.js`); the streams reach Rust through one object, the inbox (`inputs`).

mod app;
mod boundary;
mod config;
mod connection;
mod js;
mod lifecycle;
#[cfg(feature = "persist")]
mod outbox;
mod post;
mod report;
mod shell;
mod stream;
#[cfg(feature = "share-tabs")]
mod tabs;
mod timer;
mod types;

pub use connection::Connection;

use wasm_bindgen::prelude::*;

/// The package version, so a page can check which build it loaded. A JS string made
/// here (typed `string`): returning a Rust `String` costs a copy-out-and-free shim.
#[wasm_bindgen(unchecked_return_type = "string")]
pub fn version() -> JsValue {
    JsValue::from_str(env!("CARGO_PKG_VERSION"))
}
