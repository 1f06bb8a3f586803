//! One `fetch` POST as the existing client makes it, and the reading of its answer.
//!
//! The call is made synchronously (tests assert right after `send()`), with exactly two
//! arguments and a plain init object whose `headers` has exactly the two protocol keys;
//! `signal` appears only when a POST timeout is configured. The answer is read
//! duck-typed (`ok`, `status`) because fakes resolve with plain objects. Both the call
//! (with its AbortController) and the reading are done by the JS helper ([`js::post`],
//! [`js::when_settled`], [`js::abort`]): one crossing each instead of one per property.
//!
//! The answer is awaited with `Promise.allSettled([answer]).then(...)` rather than a
//! Rust future: one self-freeing closure per POST, and no async executor in the wasm.

use alloc::rc::Rc;
use core::cell::Cell;

use wasm_bindgen::prelude::*;

use super::callbacks::Callback;
use super::js;
use crate::core::PostOutcome;

/// Calls `on_outcome` with the answer's outcome once `answer` settles (always in a
/// later microtask, never synchronously). The closure owns itself until it runs, then
/// frees itself; like the future it replaces, it lives as long as an unsettled answer.
/// `post` is the key of the POST's AbortController among `config`'s (negative: none).
/// `ok` true is accepted whatever the status (fakes send `{ ok: true }` alone);
/// otherwise the status; a rejection is a network error.
pub fn when_settled(
    answer: &JsValue,
    config: &JsValue,
    post: f64,
    on_outcome: impl FnOnce(PostOutcome) + 'static,
) {
    let slot: Rc<Cell<Option<Callback>>> = Rc::default();
    let owner = slot.clone();
    let mut on_outcome = Some(on_outcome);
    let callback = Callback::new(move |code: JsValue| {
        let _this = owner.take();
        if let Some(on_outcome) = on_outcome.take() {
            let code = code.as_f64().unwrap_or(-1.0);
            on_outcome(if code == 0.0 {
                PostOutcome::Accepted
            } else if code >= 1.0 {
                PostOutcome::Status(code as u16)
            } else {
                PostOutcome::NetworkError
            });
        }
    });
    js::when_settled(answer, callback.as_ref(), config, post);
    slot.set(Some(callback));
}
