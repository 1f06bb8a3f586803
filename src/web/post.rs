//! One `fetch` POST as the existing client makes it, and the reading of its answer.
//!
//! The call is made synchronously (tests assert right after `send()`), with exactly two
//! arguments and a plain init object whose `headers` has exactly the two protocol keys;
//! `signal` appears only when a POST timeout is configured. The answer is read
//! duck-typed (`ok`, `status`) because fakes resolve with plain objects.
//!
//! The answer is awaited with `Promise.allSettled([answer]).then(callback)` rather than
//! a Rust future: one self-freeing closure per POST, and no async executor in the wasm.

use alloc::rc::Rc;
use core::cell::Cell;

use js_sys::{Array, Function, Object, Promise};
use wasm_bindgen::prelude::*;
use web_sys::AbortController;

use super::callbacks::Callback;
use super::js;
use crate::core::PostOutcome;

/// The request of one POST.
pub struct PostRequest<'a> {
    pub url: &'a str,
    pub connection_id: &'a str,
    pub body: &'a JsValue,
    pub signal: Option<&'a AbortController>,
}

/// Calls `fetch` now and returns its answer (a promise, or whatever a fake returned:
/// `Promise.allSettled` resolves it); a synchronous throw or a missing fetch become an
/// already-rejected promise (a network error).
pub fn start(fetch: Option<(Function, JsValue)>, request: &PostRequest) -> JsValue {
    let init = Object::new();
    js::set(&init, "method", &JsValue::from_str("POST"));
    let headers = Object::new();
    js::set(
        &headers,
        "Content-Type",
        &JsValue::from_str("application/json"),
    );
    js::set(
        &headers,
        "X-Connection-ID",
        &JsValue::from_str(request.connection_id),
    );
    js::set(&init, "headers", &headers);
    js::set(&init, "body", request.body);
    if let Some(controller) = request.signal {
        js::set(&init, "signal", &js::get(controller, "signal"));
    }
    let Some((fetch, this)) = fetch else {
        return Promise::reject(&JsValue::UNDEFINED).into();
    };
    fetch
        .call2(&this, &JsValue::from_str(request.url), &init)
        .unwrap_or_else(|error| Promise::reject(&error).into())
}

#[wasm_bindgen]
extern "C" {
    /// `Promise.allSettled(list)`: fulfils (never rejects) with one
    /// `{ status, value }` or `{ status, reason }` per entry.
    #[wasm_bindgen(js_namespace = Promise, js_name = allSettled)]
    fn all_settled(list: &Array) -> Settling;

    /// The promise `Promise.allSettled` returns.
    type Settling;

    #[wasm_bindgen(method)]
    fn then(this: &Settling, on_fulfilled: &JsValue);
}

/// Calls `on_outcome` with the answer's outcome once `answer` settles (always in a
/// later microtask, never synchronously). The closure owns itself until it runs, then
/// frees itself; like the future it replaces, it lives as long as an unsettled answer.
pub fn when_settled(answer: &JsValue, on_outcome: impl FnOnce(PostOutcome) + 'static) {
    let slot: Rc<Cell<Option<Callback>>> = Rc::default();
    let owner = slot.clone();
    let mut on_outcome = Some(on_outcome);
    let callback = Callback::new(move |settled: JsValue| {
        let _this = owner.take();
        if let Some(on_outcome) = on_outcome.take() {
            // A rejection has no `value`: read as `undefined`, it is a network error.
            on_outcome(outcome(&js::get(&settled, "0")));
        }
    });
    let list = Array::new();
    list.push(answer);
    all_settled(&list).then(callback.as_ref());
    slot.set(Some(callback));
}

/// The outcome of a settled answer: `ok` true is accepted whatever the status (fakes
/// send `{ ok: true }` alone); otherwise the status; a rejection is a network error.
fn outcome(settled: &JsValue) -> PostOutcome {
    let response = js::get(settled, "value");
    discard_body(&response);
    if js::get(&response, "ok").as_bool() == Some(true) {
        PostOutcome::Accepted
    } else {
        let status = js::get(&response, "status").as_f64().unwrap_or(0.0);
        if (1.0..=999.0).contains(&status) {
            PostOutcome::Status(status as u16)
        } else {
            PostOutcome::NetworkError
        }
    }
}

/// Cancels the answer's body, which nothing reads: Chromium keeps unread responses
/// alive and, after about 16,000 of them in one page, fails every new request (the
/// benchmark found it). Fakes' plain `{ ok }` objects have no body and are skipped;
/// `allSettled` swallows a rejected cancel (a locked or already-read body).
fn discard_body(response: &JsValue) {
    let body = js::get(response, "body");
    if let Some(cancel) = js::get_function(&body, "cancel") {
        if let Ok(cancelled) = cancel.call0(&body) {
            let list = Array::new();
            list.push(&cancelled);
            all_settled(&list);
        }
    }
}

/// A fresh AbortController, when the platform has one.
pub fn abort_controller() -> Option<AbortController> {
    AbortController::new().ok()
}
