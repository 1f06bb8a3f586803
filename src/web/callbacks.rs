//! The one closure type the shell hands to JS, and a one-shot timeout owning one.
//!
//! `Timeout` is a local stand-in for gloo-timers' `callback::Timeout` (`setTimeout`
//! looked up on the global at call time and cleared on drop), because gloo needs `std`
//! and the shipped wasm is built `no_std` to stay within the package's size budget.
//! Every closure of the shell (timeouts, POST answers, stream and lifecycle handlers,
//! wired by the JS helper in `js.rs`) has the one signature `FnMut(JsValue)`, so
//! wasm-bindgen emits a single closure shim for all of them.

use wasm_bindgen::prelude::*;

/// The one closure type the shell hands to JS.
pub type Callback = Closure<dyn FnMut(JsValue)>;

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
