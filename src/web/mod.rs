//! The browser shell: turns `EventSource`, `fetch`, timers and page lifecycle events
//! into core inputs and carries out the core's actions. It owns the JS objects and
//! holds no delivery logic.
//!
//! It has two halves. The Rust half (`shell`, `inputs`, `report`, `config`,
//! `connection`) decides what to do with each input and action. The JS half
//! (`helper.js`, declared in `js`) is what touches the platform objects: it opens and
//! closes EventSources, makes POSTs, arms the one host timer, adds and removes the
//! lifecycle listeners, builds the notices and reports, and checks the app's input.
//! Each connection's platform objects live in one JS state object that the Rust shell
//! owns; everything the platform reports comes back through one object, the inbox.
//! The split is for size: from Rust each property read or call is a wasm import with
//! its own glue, where one helper call does the same work in far fewer bytes (each
//! step and its figures are in the commit history).

mod boundary;
mod config;
mod connection;
mod inputs;
mod js;
#[cfg(feature = "persist")]
mod outbox;
mod post;
mod report;
mod shell;
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
