//! The browser shell: turns `EventSource`, `fetch`, timers and page lifecycle events
//! into core inputs and carries out the core's actions. It owns the JS objects and
//! holds no delivery logic.

mod config;
mod connection;
mod inputs;
mod js;
mod report;
mod shell;
mod types;

pub use connection::Connection;

use wasm_bindgen::prelude::*;

/// The package version, so a page can check which build it loaded. A JS string made
/// here (typed `string`): returning a Rust `String` costs a copy-out-and-free shim.
#[wasm_bindgen(unchecked_return_type = "string")]
pub fn version() -> JsValue {
    JsValue::from_str(env!("CARGO_PKG_VERSION"))
}
