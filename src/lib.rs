//! sse-courier: a chat connection that never loses a message.
//!
//! - [`core`] is the sans-IO delivery state machine: plain Rust, no browser types,
//!   tested natively. It is fed what happened (with the current time) and hands back
//!   actions to carry out.
//! - `web` (wasm32 only) is the browser shell and the `Connection` class exported to JS:
//!   it turns `EventSource`, `fetch`, timers and page lifecycle events into core inputs
//!   and carries out the core's actions.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
pub use web::Connection;
