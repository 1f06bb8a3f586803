//! Rust closures handed to JS, owned so that dropping the owner detaches them:
//! an event listener and a one-shot timeout.
//!
//! These are local stand-ins for gloo-events' `EventListener` and gloo-timers'
//! `callback::Timeout`, with the same behaviour where the shell relies on it (listener
//! added `{ passive: true }` and removed on drop; `setTimeout` looked up on the global
//! at call time and cleared on drop). They exist because both gloo crates need `std`,
//! and the shipped wasm is built `no_std` to stay within the package's size budget
//! (std's panic and formatting machinery cost more than the rest of the shell). Every
//! closure here has the one signature `FnMut(JsValue)`, so wasm-bindgen emits a single
//! closure shim for all of them.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{AddEventListenerOptions, EventTarget};

/// The one closure type the shell hands to JS.
pub type Callback = Closure<dyn FnMut(JsValue)>;

/// `target.addEventListener(kind, callback, { passive: true })`, removed on drop.
pub struct EventListener {
    target: EventTarget,
    kind: &'static str,
    callback: Callback,
}

impl EventListener {
    pub fn new(
        target: &EventTarget,
        kind: &'static str,
        callback: impl FnMut(JsValue) + 'static,
    ) -> EventListener {
        let callback = Closure::new(callback);
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str("passive"), &JsValue::TRUE);
        let _ = target.add_event_listener_with_callback_and_add_event_listener_options(
            kind,
            callback.as_ref().unchecked_ref(),
            options.unchecked_ref::<AddEventListenerOptions>(),
        );
        EventListener {
            target: target.clone(),
            kind,
            callback,
        }
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback_and_bool(
            self.kind,
            self.callback.as_ref().unchecked_ref(),
            false,
        );
    }
}

#[wasm_bindgen]
extern "C" {
    /// The global `setTimeout`, resolved when called (so fake timers see it).
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout(handler: &JsValue, millis: i32) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// `setTimeout(callback, millis)`, cleared on drop. The callback runs at most once.
pub struct Timeout {
    id: JsValue,
    _callback: Callback,
}

impl Timeout {
    /// Arms the timeout; rethrows to JS when `setTimeout` is missing or throws (as
    /// gloo's `unwrap_throw` did).
    pub fn new(millis: u32, callback: impl FnMut(JsValue) + 'static) -> Timeout {
        let callback = Closure::new(callback);
        let id = set_timeout(callback.as_ref(), millis as i32)
            .unwrap_or_else(|error| wasm_bindgen::throw_val(error));
        Timeout {
            id,
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}
