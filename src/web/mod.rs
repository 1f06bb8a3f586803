//! The browser shell: turns `EventSource`, `fetch`, timers and page lifecycle events
//! into core inputs and carries out the core's actions. It owns the platform objects
//! and holds no delivery logic.
//!
//! Each kind of platform object has its module, on the design's crates, which reports
//! what it hears as one type, `input::Input`, through an `Inputs` handle (none of them
//! reaches into the shell's state; `shell::on_input` feeds each to the core): the streams
//! (`stream`: web-sys `EventSource`, or the app's factory), the POSTs and the suspend
//! beacon (`post`: web-sys `RequestInit` and `AbortController`, answers awaited with
//! wasm-bindgen-futures), the one host timer (`timer`: gloo-timers), the page lifecycle
//! listeners (`lifecycle`: gloo-events), the app's listener and `onDelivery` (`app`,
//! `report`), and the values that cross with a shape (`boundary`: serde-wasm-bindgen,
//! every field by name). The app's options are a serde struct (`options`), read by
//! `reader`, a serde `Deserializer` that names the option in each error; `config`
//! turns them into the core's `Config`. `shell` holds the state and runs the loop;
//! `connection` is the JS face; `outgoing` the messages without a fate yet; `auth` the
//! authentication latch's methods and its check's GET. Still JS:
//! `inbound.js`, the inbound hot path (one call into the wasm per server event; its
//! header gives the figures that keep it JS); nothing else. The opt-in capabilities, each in its own build: the
//! persisted outbox (`outbox`: its writes, reads and owner locks; `store`: Web Storage
//! as web-sys `Storage`, IndexedDB through web-sys's `Idb*` types, the app's own store
//! by property), and one stream for all tabs (`tabs`; `channel`: its BroadcastChannel
//! and lock). Web Locks are reached by property (`locks`: they are not among web-sys's
//! stable bindings, and the app's tests hand in fakes).

mod app;
mod auth;
mod boundary;
#[cfg(feature = "share-tabs")]
mod channel;
mod config;
mod connection;
mod ids;
mod input;
mod js;
mod lifecycle;
#[cfg(any(feature = "persist", feature = "share-tabs"))]
mod locks;
mod options;
#[cfg(feature = "persist")]
mod outbox;
mod outgoing;
mod post;
mod probe;
mod prompt;
mod reader;
mod receipt;
mod report;
mod shell;
#[cfg(feature = "persist")]
mod store;
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
