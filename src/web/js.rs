//! The shell's declarations of the JS it still calls (`inbound.js`), each function
//! under its JS name, the clock and random numbers it reads (js-sys), and the small
//! helpers the platform modules share. Everything is duck-typed and
//! non-throwing, because injected fakes are plain objects rather than the platform
//! classes.
//!
//! Strings cross as JS strings (`&JsValue`), never as `&str`: a `&str` parameter makes
//! wasm-bindgen put a decoding wrapper in the glue, and the build can only rename the
//! helper's functions when the wasm imports them directly.

use wasm_bindgen::prelude::*;

/// `Math.random()`: the seed of the core's backoff jitter.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// `console.warn("[sse-courier] " + text)`, the prefix joined as JS strings (the text
/// is not copied through the wasm), `console.warn` looked up at the call (so that a
/// test's spy hears it).
pub fn warn(text: &JsValue) {
    let line = js_sys::JsString::from("[sse-courier] ").concat(text);
    web_sys::console::warn_1(&line);
}

/// Frees a wasm object the JS holds (an inbox) once the current call into the wasm
/// has returned: it may be that object's own, and an object is not freed while one of
/// its methods runs. A task of wasm-bindgen-futures' queue runs in a later microtask.
pub fn free_later(object: &JsValue) {
    let object = object.clone();
    wasm_bindgen_futures::spawn_local(async move {
        call_method(&object, "free");
    });
}

/// The inbound hot path (see `inbound.js` for why it is JS).
#[wasm_bindgen(module = "/src/web/inbound.js")]
extern "C" {
    /// A connection's memory of the last `sessionId` handed to the wasm, shared by its
    /// streams' handlers; `chained` and `probes` (JS booleans: a `bool` parameter would
    /// need a glue shim, which the renamed build's snippet aliases do not carry) say
    /// whether the connection applies events by acknowledgement, and whether it takes
    /// the foreground probe's echoes from its streams.
    #[wasm_bindgen(js_name = sessionMemory)]
    pub fn session_memory(chained: &JsValue, probes: &JsValue) -> JsValue;

    /// The `onmessage` handler of a stream whose events `inbox` (a `StreamInbox`) hears;
    /// `memory` is the connection's `session_memory()`.
    #[wasm_bindgen(js_name = eventHandler)]
    pub fn event_handler(inbox: &JsValue, max_event_length: f64, memory: &JsValue) -> JsValue;

    /// An event's data as a plain object, or undefined when it is not a string of at
    /// most `max_event_length` UTF-16 units holding a JSON object (the hot path's own
    /// parse, for the `welcome` events).
    #[wasm_bindgen(js_name = parseEventData)]
    pub fn parse_event_data(event: &JsValue, max_event_length: f64) -> JsValue;

    /// Calls the app's `callback` with `value`; what it throws is reported with
    /// `console.error`, never let through.
    #[wasm_bindgen(js_name = callApp)]
    pub fn call_app(callback: &js_sys::Function, value: &JsValue);

    /// Calls the app's listener with a chained event: 1 when it returned `true`, -1
    /// when it returned `false` or threw (reported with `console.error`), else 0.
    #[wasm_bindgen(js_name = applyApp)]
    pub fn apply_app(listener: &js_sys::Function, value: &JsValue) -> i32;
}

// A built-in js-sys declares in a shape that would throw.
#[wasm_bindgen]
extern "C" {
    /// `String(value)`; the error when its `toString` throws.
    #[wasm_bindgen(js_name = String, catch)]
    fn string_of(value: &JsValue) -> Result<String, JsValue>;

    /// `JSON.parse(text)` of a JS string (js-sys's takes a `&str`, which would copy a
    /// stored message's body through Rust); the error when it is no JSON.
    #[cfg(feature = "persist")]
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    pub fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;
}

/// A thrown (or returned) value as a warning quotes it: `Name: message` for an
/// `Error`-like object, else `String(value)`.
pub fn describe(value: &JsValue) -> String {
    let text = |value: &JsValue| string_of(value).unwrap_or_else(|_| "an unprintable value".into());
    let name = get(value, "name");
    if value.is_object() && !name.is_undefined() {
        return [text(&name), text(&get(value, "message"))].join(": ");
    }
    text(value)
}

/// `list[index]`; undefined when `list` is not an object or has no such item.
pub fn item(list: &JsValue, index: usize) -> JsValue {
    js_sys::Reflect::get_u32(list, index as u32).unwrap_or_default()
}

/// A call's answer as a promise: what it returned, resolved (a thenable followed), or
/// what it threw, rejected. For values the app or a fake hands back, which may or may
/// not be promises.
pub fn promise_of(answer: Result<JsValue, JsValue>) -> js_sys::Promise {
    match answer {
        Ok(value) => js_sys::Promise::resolve(&value),
        Err(error) => js_sys::Promise::reject(&error),
    }
}

/// A new pending promise and the function that resolves it.
#[cfg(any(feature = "persist", feature = "share-tabs"))]
pub fn deferred() -> (js_sys::Promise, js_sys::Function) {
    let mut resolver = JsValue::UNDEFINED;
    // The executor runs at once, inside `new Promise`.
    let promise = js_sys::Promise::new(&mut |resolve, _| resolver = resolve.into());
    (promise, resolver.unchecked_into())
}

/// A promise of what `work` gives, run in a task of its own (as
/// wasm-bindgen-futures' `future_to_promise`, without its JSPI support, which costs 2
/// KB of wasm; `work` cannot fail).
#[cfg(feature = "persist")]
pub fn spawn_promise(
    work: impl core::future::Future<Output = JsValue> + 'static,
) -> js_sys::Promise {
    let (promise, resolve) = deferred();
    wasm_bindgen_futures::spawn_local(async move {
        let value = work.await;
        let _ = resolve.call1(&JsValue::UNDEFINED, &value);
    });
    promise
}

/// `new globalThis[name](arg)` (without an argument when `arg` is undefined), or `None`
/// when there is no such constructor or it throws.
#[cfg(any(feature = "persist", feature = "share-tabs"))]
pub fn construct(name: &str, arg: &JsValue) -> Option<JsValue> {
    let constructor = get(&js_sys::global(), name)
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let args = if arg.is_undefined() {
        js_sys::Array::new()
    } else {
        js_sys::Array::of1(arg)
    };
    js_sys::Reflect::construct(&constructor, &args).ok()
}

/// `object[name]()` when it is a function; what it throws or returns is of no interest.
pub fn call_method(object: &JsValue, name: &str) {
    if let Ok(method) = get(object, name).dyn_into::<js_sys::Function>() {
        let _ = method.call0(object);
    }
}

/// A JS string of a Rust one.
pub fn string(text: &str) -> JsValue {
    JsValue::from_str(text)
}

/// `object[key]` for a key known to Rust; undefined when `object` is not an object or
/// its getter throws.
pub fn get(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &string(key)).unwrap_or_default()
}

/// Milliseconds since the epoch, read at call time so fake timers (which fake `Date`)
/// drive the core's clock.
pub fn now() -> u64 {
    from_js_time(js_sys::Date::now())
}

/// A time in milliseconds from JS (`Date.now()`), as the core counts it.
pub fn from_js_time(ms: f64) -> u64 {
    if ms > 0.0 {
        ms as u64
    } else {
        0
    }
}

/// A JS number as a non-negative integer, or `None` when it is not one.
pub fn as_count(value: &JsValue) -> Option<u64> {
    count(value.as_f64()?)
}

/// A whole number in [0, 2^53) as a count; `None` for anything else (NaN included).
pub fn count(n: f64) -> Option<u64> {
    // In [0, 2^53) the truncation to u64 is exact, so it round-trips iff `n` is whole
    // (`f64::fract` needs std).
    ((0.0..=9_007_199_254_740_991.0).contains(&n) && (n as u64) as f64 == n).then_some(n as u64)
}

/// The items of a JS array, up to the first hole.
#[cfg(any(feature = "persist", feature = "share-tabs"))]
pub fn items(list: &JsValue) -> alloc::vec::Vec<JsValue> {
    let mut items = alloc::vec::Vec::new();
    loop {
        let item = item(list, items.len());
        if item.is_undefined() {
            return items;
        }
        items.push(item);
    }
}
