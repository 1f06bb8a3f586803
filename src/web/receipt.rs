//! Reading a receipt: the body of a 2xx answer to a prompt under `receipts`, handed to
//! the core as an `AnswerBody` (docs/delivery-rules.md, rule 14). The body is read with
//! the answer's own `json()` (or `text()` and `JSON.parse` when it has only that), then
//! read by name into the core's `ReceiptBody` through `serde_wasm_bindgen`; what the
//! parsed body means is the core's judgement (`AnswerBody::from_parsed`).
//!
//! What an app's `fetch` answers is duck-typed, as everywhere: a plain `{ ok: true }`
//! with no body methods is an answer without a receipt.

use js_sys::{Function, Promise, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::js;
use crate::core::{AnswerBody, ReceiptBody};

/// The body of `response` as the core judges it.
pub async fn read(response: &JsValue) -> AnswerBody {
    AnswerBody::from_parsed(parsed_body(response).await.and_then(|body| {
        serde_wasm_bindgen::from_value::<ReceiptBody>(body).ok()
    }))
}

/// The body parsed as JSON, or `None` when there is none to read or it is not JSON.
async fn parsed_body(response: &JsValue) -> Option<JsValue> {
    if let Some(value) = call_and_await(response, "json").await {
        return value.ok();
    }
    let text = call_and_await(response, "text").await?.ok()?.as_string()?;
    JSON::parse(&text).ok()
}

/// `response[method]()`, awaited: `None` when the answer has no such method, else
/// what it resolved to, or the error it threw or rejected with.
async fn call_and_await(response: &JsValue, method: &str) -> Option<Result<JsValue, JsValue>> {
    let function = js::get(response, method).dyn_into::<Function>().ok()?;
    let promise = match function.call0(response) {
        Ok(value) => Promise::resolve(&value),
        Err(error) => return Some(Err(error)),
    };
    Some(JsFuture::from(promise).await)
}
