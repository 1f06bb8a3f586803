//! Reading a receipt: the body of a 2xx answer to a prompt under `receipts`, handed to
//! the core as an `AnswerBody` (docs/delivery-rules.md, rule 14). The body is read with
//! the answer's own `json()` (or `text()` and `JSON.parse` when it has only that), then
//! its three fields by name into the core's `ReceiptBody`; what the parsed body means
//! is the core's judgement (`AnswerBody::from_parsed`).
//!
//! By name rather than through serde's `Deserialize`: serde-wasm-bindgen's type errors
//! format the number they met, which links core's float formatting into the wasm
//! (+17 KB raw, +7 KB gzip, measured with the receipt read through
//! `serde_wasm_bindgen::from_value`). The shape read here is the one
//! `ReceiptBody`'s serde derive states and the core's native tests pin;
//! tests/js/contract.test.ts holds the shell to the same list of bodies.
//!
//! What an app's `fetch` answers is duck-typed, as everywhere: a plain `{ ok: true }`
//! with no body methods is an answer without a receipt.

use js_sys::{Function, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::js;
use crate::core::{AnswerBody, ReceiptBody};

/// The body of `response` as the core judges it.
pub async fn read(response: &JsValue) -> AnswerBody {
    let body = parsed_body(response).await;
    AnswerBody::from_parsed(body.as_ref().and_then(receipt_body))
}

/// `{ accepted: boolean, clientMsgId: string, sessionId: string | null }`, other fields
/// ignored; `None` when a field is missing or of another type (`sessionId` must be
/// there: `null` is a value, absence is not).
fn receipt_body(body: &JsValue) -> Option<ReceiptBody> {
    if !body.is_object() {
        return None;
    }
    let session_id = js::get(body, "sessionId");
    Some(ReceiptBody {
        accepted: js::get(body, "accepted").as_bool()?,
        client_msg_id: js::get(body, "clientMsgId").as_string()?,
        session_id: match session_id.as_string() {
            Some(session_id) => Some(session_id),
            None if session_id.is_null() => None,
            None => return None,
        },
    })
}

/// The body parsed as JSON, or `None` when there is none to read or it is not JSON.
pub async fn parsed_body(response: &JsValue) -> Option<JsValue> {
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
    Some(JsFuture::from(js::promise_of(function.call0(response))).await)
}
