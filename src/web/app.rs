//! Calls into the app's code: its listener (`onMessage`), which hears server events and
//! the `_open`, `_close` and `_foreground` notices, and `config.onDelivery`. What the
//! app throws is logged, never let through into delivery, and no borrow of the shell
//! is held across a call (the app may call the connection back).

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use super::shell::Shared;
use crate::core::Notice;

/// Calls the app's `callback` with `value`; a throw is reported with `console.error`.
pub fn call_app(callback: &Function, value: &JsValue) {
    if let Err(error) = callback.call1(&JsValue::NULL, value) {
        web_sys::console::error_2(&JsValue::from_str("[sse-courier] listener threw"), &error);
    }
}

/// The app's listener, set by `onMessage`: a function, or anything else for none.
pub fn listener_of(value: &JsValue) -> Option<Function> {
    value.dyn_ref::<Function>().cloned()
}

/// Hands a server event (or a notice) to the app's listener, if it has one.
pub fn dispatch(shell: &Shared, message: &JsValue) {
    let listener = shell.borrow().listener.clone();
    if let Some(listener) = listener {
        call_app(&listener, message);
    }
}

/// Hands the listener the notice `{ type: "_open" }`, `_close` or `_foreground`.
pub fn notify(shell: &Shared, notice: Notice) {
    let kind = match notice {
        Notice::Open => "_open",
        Notice::Close => "_close",
        Notice::Foreground => "_foreground",
    };
    let message = Object::new();
    let _ = Reflect::set(&message, &"type".into(), &kind.into());
    dispatch(shell, &message);
}
