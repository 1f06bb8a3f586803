//! sse-courier: a chat connection that never loses a message.
//!
//! - [`core`] is the sans-IO delivery state machine: plain Rust, no browser types,
//!   tested natively. It is fed what happened (with the current time) and hands back
//!   actions to carry out.
//! - `web` (wasm32 only) is the browser shell and the `Connection` class exported to JS:
//!   it turns `EventSource`, `fetch`, timers and page lifecycle events into core inputs
//!   and carries out the core's actions.

extern crate alloc;

pub mod core;

#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
pub use web::Connection;

/// A small free-list allocator (address-ordered, coalescing) in place of std's
/// dlmalloc: measured 2.4 KB gzip smaller than dlmalloc and 0.6 KB smaller than talc.
/// The shell's heap is small (a bounded queue, a few strings), so its linear-time
/// search does not matter.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: the wasm build is single-threaded (no `atomics` target feature).
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
