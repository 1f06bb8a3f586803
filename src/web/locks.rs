//! The Web Locks API (`navigator.locks`), as the tabs' leader lock (`channel.rs`) and
//! the persisted outbox's owner and restore locks (`outbox.rs`) use it: reached by
//! property and called as functions, because Web Locks are not among web-sys's stable
//! bindings and the app's tests hand in fakes.

use js_sys::{Function, Object, Promise};
use wasm_bindgen::{JsCast, JsValue};

use super::js;

/// `navigator.locks` when it has a `request` function; `None` where Web Locks are
/// missing (an insecure origin, an old browser).
pub fn manager() -> Option<JsValue> {
    let locks = js::get(&js::get(&js_sys::global(), "navigator"), "locks");
    js::get(&locks, "request").is_function().then_some(locks)
}

/// `locks.request(name, options, callback)`: a promise that settles as the request
/// does (with what `callback` returned once granted and that settled, or rejected when
/// the browser refuses, aborts or steals it); a throw is a rejected promise.
pub fn request(locks: &JsValue, name: &JsValue, options: &Object, callback: &JsValue) -> Promise {
    let request = js::get(locks, "request").unchecked_into::<Function>();
    js::promise_of(request.call3(locks, name, options, callback))
}

/// `locks.query()`: a promise of `{ held, pending }`; a throw is a rejected promise.
#[cfg(feature = "persist")]
pub fn query(locks: &JsValue) -> Promise {
    let query = js::get(locks, "query").unchecked_into::<Function>();
    js::promise_of(query.call0(locks))
}
