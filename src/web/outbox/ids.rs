//! The ids the outbox makes: a page load's owner id, and the `clientMsgId` of a stored
//! message the app sent without one (the key the server de-duplicates a resend by).

use alloc::string::String;

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::web::js;

/// A new id: `crypto.randomUUID()`, or 128 random bits in hex where it is missing (an
/// insecure origin), or, lacking `crypto.getRandomValues` too, `Math.random`.
pub fn new_owner_id() -> String {
    let crypto = js::get(&js_sys::global(), "crypto");
    let uuid = js::get(&crypto, "randomUUID")
        .unchecked_into::<Function>()
        .call0(&crypto);
    if let Some(uuid) = uuid.ok().and_then(|uuid| uuid.as_string()) {
        return uuid;
    }
    let bytes = Uint8Array::new_with_length(16);
    let fill = js::get(&crypto, "getRandomValues").unchecked_into::<Function>();
    let random = fill.call1(&crypto, &bytes).is_ok();
    let mut id = String::with_capacity(32);
    for byte in bytes.to_vec() {
        let byte = if random {
            byte
        } else {
            (js::random() * 256.0) as u8
        };
        for digit in [byte >> 4, byte & 15] {
            id.push(char::from_digit(digit.into(), 16).unwrap_or('0'));
        }
    }
    id
}

/// `message` with a non-empty string `clientMsgId`: itself when it has one, else a
/// shallow copy with a new id (the app's object is never changed).
pub fn with_client_msg_id(message: &JsValue) -> JsValue {
    let id = js::get(message, "clientMsgId").as_string();
    if id.is_some_and(|id| !id.is_empty()) {
        return message.clone();
    }
    let copy = Object::assign(&Object::new(), message.unchecked_ref());
    let id = js::string(&new_owner_id());
    let _ = Reflect::set(&copy, &js::string("clientMsgId"), &id);
    copy.into()
}
