//! The browser shell: turns `EventSource`, `fetch`, timers and page lifecycle events
//! into core inputs and carries out the core's actions. It owns the platform objects
//! and holds no delivery logic.
//!
//! It is moving onto the design's crates (issue 21), one kind of platform object at a
//! time. Done: the POSTs and the suspend beacon (`post`: web-sys `RequestInit` and
//! `AbortController`, answers awaited with wasm-bindgen-futures), the one host timer
//! (`timer`: gloo-timers), the page lifecycle listeners (`lifecycle`: gloo-events), the
//! delivery reports and `stats()` (`report`, `boundary`: serde-wasm-bindgen, every
//! field by name), the app's options (`options`: a serde struct, read by `reader`, a
//! serde `Deserializer` naming the option in each error; `config` turns them into the
//! core's `Config`) and the check of `send()`'s message. Still in the JS half
//! (`helper.js`, declared in `js`): the warning prefix and freeing the inbox late.

mod app;
mod boundary;
mod config;
mod connection;
mod js;
mod lifecycle;
mod options;
#[cfg(feature = "persist")]
mod outbox;
mod post;
mod reader;
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
