//! One `fetch` POST as the existing client makes it, and the reading of its answer.
//!
//! The call is made synchronously (tests assert right after `send()`), with exactly two
//! arguments and a plain init object whose `headers` has exactly the two protocol keys;
//! `signal` appears only when a POST timeout is configured. The answer is read
//! duck-typed (`ok`, `status`) because fakes resolve with plain objects.

use js_sys::{Function, Object, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

use super::js;
use crate::core::PostOutcome;

/// The request of one POST.
pub struct PostRequest<'a> {
    pub url: &'a str,
    pub connection_id: &'a str,
    pub body: &'a JsValue,
    pub signal: Option<&'a AbortController>,
}

/// Calls `fetch` now and returns the promise of its answer; a synchronous throw or a
/// missing fetch become an already-rejected promise (a network error).
pub fn start(fetch: Option<(Function, JsValue)>, request: &PostRequest) -> Promise {
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
        js::set(&init, "signal", &controller.signal());
    }
    let Some((fetch, this)) = fetch else {
        return Promise::reject(&JsValue::from_str("no fetch available"));
    };
    match fetch.call2(&this, &JsValue::from_str(request.url), &init) {
        Ok(answer) => Promise::resolve(&answer),
        Err(error) => Promise::reject(&error),
    }
}

/// Waits for the answer: `ok` true is accepted whatever the status (fakes send
/// `{ ok: true }` alone); otherwise the status; a rejection is a network error.
pub async fn outcome(answer: Promise) -> PostOutcome {
    match JsFuture::from(answer).await {
        Ok(response) => {
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
        Err(_) => PostOutcome::NetworkError,
    }
}

/// A fresh AbortController, when the platform has one.
pub fn abort_controller() -> Option<AbortController> {
    AbortController::new().ok()
}
