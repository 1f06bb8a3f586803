//! Calls into the app's code: its listener (`onMessage`), which hears server events and
//! the `_open`, `_close` and `_foreground` notices, and `config.onDelivery`. What the
//! app throws is logged, never let through into delivery. (The shell calls these with
//! no borrow of its state held: the app may call the connection back.)

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::js;
use crate::core::Notice;

/// Calls the app's `callback` with `value`; a throw is reported with `console.error`
/// (`inbound.js`'s `callApp`, which the hot path calls too).
pub fn call_app(callback: &Function, value: &JsValue) {
    js::call_app(callback, value);
}

/// The app's listener, set by `onMessage`: a function, or anything else for none.
pub fn listener_of(value: &JsValue) -> Option<Function> {
    value.dyn_ref::<Function>().cloned()
}

/// Hands a server event (or a notice) to the app's listener, if it has one.
pub fn dispatch(listener: Option<Function>, message: &JsValue) {
    if let Some(listener) = listener {
        call_app(&listener, message);
    }
}

/// The notice `{ type: "_open" }`, `_close` or `_foreground` the listener gets.
pub fn notice(notice: Notice) -> JsValue {
    let kind = match notice {
        Notice::Open => "_open",
        Notice::Close => "_close",
        Notice::Foreground => "_foreground",
        Notice::AuthLost => "_auth_lost",
    };
    let message = Object::new();
    let _ = Reflect::set(&message, &"type".into(), &kind.into());
    message.into()
}
