//! Small, non-panicking helpers over raw JS values: property access, JSON, time,
//! console. Everything the shell reads from JS goes through here, duck-typed, because
//! injected fakes are plain objects rather than the platform classes.

use alloc::string::String;
use js_sys::{Function, Object, Reflect, JSON};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;
}

/// The hand-written JS helper module: the few things cheaper to do in JS than through
/// one import per property (event parsing, the POST and its answer).
#[wasm_bindgen(inline_js = "let q;\
const g=(o,k)=>{try{if(o===Object(o))return o[k]}catch(_){}};\
export function r(e,m,l){let d,v;try{d=e.data}catch(_){return null}\
if(typeof d!=='string'||d.length>m)return null;try{v=JSON.parse(d)}catch(_){return null}\
if(v===null||typeof v!=='object'||Array.isArray(v))return null;\
const s=v.sessionId,n=v.seq;\
q=typeof s==='string'&&Number.isSafeInteger(n)&&n>=0?s===l?n:-1-n:NaN;return v}\
export function c(){return q}\
export function p(f,t,u,i,b,s){const o={method:'POST',headers:{'Content-Type':'application/json','X-Connection-ID':i},body:b};\
if(s)o.signal=s.signal;if(!f)return Promise.reject();try{return f.call(t,u,o)}catch(e){return Promise.reject(e)}}\
export function w(a,c){Promise.allSettled([a]).then(([r])=>{const v=r.value,b=g(v,'body'),k=g(b,'cancel');\
if(typeof k==='function')try{Promise.allSettled([k.call(b)])}catch(_){}\
const s=g(v,'status');c(g(v,'ok')===true?0:typeof s==='number'&&s>=1&&s<=999?s:-1)})}")]
extern "C" {
    /// One crossing for an event: `event.data` read, checked to be a string of at most
    /// `max` UTF-16 units, `JSON.parse`d and checked to be a plain object, which is
    /// returned (or null when any step fails). It also notes the event's seq code for
    /// [`seq_code`], comparing `sessionId` with `last` (the JS string of the session
    /// the shell saw last) so a run of one session's events never copies the id.
    #[wasm_bindgen(js_name = r)]
    pub fn read_event(event: &JsValue, max: u32, last: &JsValue) -> JsValue;

    /// The seq code of the last event [`read_event`] returned: `NaN` when `sessionId`
    /// is not a string or `seq` not a non-negative integer; the seq when the session is
    /// `last`; `-1 - seq` when it is another session.
    #[wasm_bindgen(js_name = c)]
    pub fn seq_code() -> f64;

    /// `fetch.call(this, url, { method: 'POST', headers: { 'Content-Type':
    /// 'application/json', 'X-Connection-ID': id }, body })`, plus `signal` (read from
    /// `controller`) only when a controller is given. A missing fetch or a synchronous
    /// throw become an already-rejected promise (a network error).
    #[wasm_bindgen(js_name = p)]
    pub fn post(
        fetch: &JsValue,
        this: &JsValue,
        url: &str,
        id: &str,
        body: &JsValue,
        controller: &JsValue,
    ) -> JsValue;

    /// Once `answer` settles (always in a later microtask), cancels its unread body and
    /// calls `callback` with its outcome code: 0 when `ok` is true, the status when it
    /// is a number in 1..=999, else -1 (a network error).
    #[wasm_bindgen(js_name = w)]
    pub fn when_settled(answer: &JsValue, callback: &JsValue);
}

/// `globalThis` (a window, a worker's `self`, Node's `global`).
pub fn global() -> JsValue {
    GLOBAL_THIS.with(JsValue::clone)
}

/// `obj[key]`, or `undefined` when `obj` is not an object or the getter throws.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    if !obj.is_object() && !obj.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[index]`, or `undefined` when `obj` is not an object or the getter throws.
pub fn get_at(obj: &JsValue, index: f64) -> JsValue {
    Reflect::get(obj, &JsValue::from_f64(index)).unwrap_or(JsValue::UNDEFINED)
}

/// `obj[key] = value` on an object the shell created itself (cannot throw).
pub fn set(obj: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), value);
}

/// `obj[key]` when it is a function.
pub fn get_function(obj: &JsValue, key: &str) -> Option<Function> {
    get(obj, key).dyn_into::<Function>().ok()
}

/// A plain `{ type }` object, the shape of the `_open`/`_close`/`_foreground` notices.
pub fn type_object(kind: &str) -> Object {
    let obj = Object::new();
    set(&obj, "type", &JsValue::from_str(kind));
    obj
}

/// `JSON.stringify(value)` as a JS string value (kept in JS: the body is never copied
/// through Rust), or the JS error it threw.
pub fn stringify(value: &JsValue) -> Result<JsValue, JsValue> {
    let text = JSON::stringify(value)?;
    if text.is_undefined() {
        // Nothing to serialise (e.g. a `toJSON` returning undefined): no error message.
        return Err(JsValue::UNDEFINED);
    }
    Ok(text.into())
}

/// Milliseconds since the epoch, read at call time so fake timers (which fake `Date`)
/// drive the core's clock.
pub fn now() -> u64 {
    let ms = js_sys::Date::now();
    if ms > 0.0 {
        ms as u64
    } else {
        0
    }
}

/// A JS number as a non-negative integer, or `None` when it is not one.
pub fn as_count(value: &JsValue) -> Option<u64> {
    let n = value.as_f64()?;
    // In [0, 2^53) the truncation to u64 is exact, so it round-trips iff `n` is whole
    // (`f64::fract` needs std).
    if (0.0..=9_007_199_254_740_991.0).contains(&n) && (n as u64) as f64 == n {
        Some(n as u64)
    } else {
        None
    }
}

/// `console.warn("[sse-courier] " + text)`.
pub fn warn(text: &str) {
    let mut line = String::from("[sse-courier] ");
    line.push_str(text);
    web_sys::console::warn_1(&JsValue::from_str(&line));
}

/// `console.error` for an exception thrown by the app's own callback: reported, never
/// allowed to unwind through the delivery loop.
pub fn report_callback_error(error: &JsValue) {
    web_sys::console::error_2(&JsValue::from_str("[sse-courier] listener threw"), error);
}
