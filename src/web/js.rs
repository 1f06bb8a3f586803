//! Small, non-panicking helpers over raw JS values: property access, JSON, time,
//! console. Everything the shell reads from JS goes through here, duck-typed, because
//! injected fakes are plain objects rather than the platform classes.

use wasm_bindgen::prelude::*;

// The two platform functions the shell calls directly (declared here rather than
// through js-sys: the crate's JSPI task machinery would ride along into the wasm).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Date, js_name = now)]
    fn date_now() -> f64;

    /// `Math.random()`: the seed of the core's backoff jitter.
    #[wasm_bindgen(js_namespace = Math)]
    pub fn random() -> f64;
}

/// The JS half of the shell (`helper.js`): what is cheaper done in JS than through one
/// import per property (event parsing, the POST and its answer, reports, notices and
/// bodies, stream, timer and lifecycle wiring, input checks). Its per-connection state
/// object (`State`, made by [`new_state`]) owns the platform objects; the shell owns
/// the state and hears everything through its one inbox.
#[wasm_bindgen(module = "/src/web/helper.js")]
extern "C" {
    /// A JS object of the helper's: one connection's platform objects and its inbox.
    pub type State;

    /// A new connection state: a copy of the app's `config` (what `connection.config`
    /// returns, read at each use like the existing client's) and the shell's `inbox`,
    /// which every stream event, POST answer, lifecycle event and timer reaches as
    /// `inbox(kind, id, value)` (the kinds are in `inputs.rs`).
    #[wasm_bindgen(js_name = u)]
    pub fn new_state(config: &JsValue, inbox: &JsValue) -> State;

    /// The config copy of a state.
    #[wasm_bindgen(js_name = C)]
    pub fn config_of(state: &State) -> JsValue;

    /// Retires a state: closes its streams, disarms its timer, removes its lifecycle
    /// listeners, and cuts its inbox (a late POST answer then reaches nobody).
    #[wasm_bindgen(js_name = f)]
    pub fn retire(state: &State);

    /// One crossing for an event: `event.data` read, checked to be a string of at most
    /// `max` UTF-16 units, `JSON.parse`d and checked to be a plain object, which is
    /// returned (or undefined when any step fails). It also notes the event's seq code for
    /// [`seq_code`], comparing `sessionId` with `last` (the JS string of the session
    /// the shell saw last) so a run of one session's events never copies the id.
    #[wasm_bindgen(js_name = r)]
    pub fn read_event(event: &JsValue, max: f64, last: &JsValue) -> JsValue;

    /// The seq code of the last event [`read_event`] returned: `NaN` when `sessionId`
    /// is not a string or `seq` not a non-negative integer; the seq when the session is
    /// `last`; `-1 - seq` when it is another session.
    #[wasm_bindgen(js_name = c)]
    pub fn seq_code() -> f64;

    /// Opens stream `id`: `{config.baseUrl}/api/chat/events` with
    /// `config.createEventSource` (read now, when it is a function) or
    /// `new EventSource(url)`, with the shell's handlers on it: `welcome` as a listener
    /// (`{ passive: true }`), every other event through the `onmessage` property,
    /// errors through `onerror`. False when no source could be made (a throw, or a
    /// factory returning no object).
    #[wasm_bindgen(js_name = s)]
    pub fn open_stream(state: &State, id: i32) -> bool;

    /// Closes stream `id`, then detaches its handlers (so `close()` cannot call back).
    #[wasm_bindgen(js_name = h)]
    pub fn close_stream(state: &State, id: i32);

    /// POST `post`: `fetch.call(this, url, { method: 'POST', headers: {
    /// 'Content-Type': 'application/json', 'X-Connection-ID': id }, body })`, the url
    /// being `{config.baseUrl}/api/chat/{path}`, with `config.fetch` (read now) when it
    /// is a function, else `globalThis.fetch`, `this` being the object it was read
    /// from. With `signal` (a POST timeout is configured), plus the `signal` of a new
    /// AbortController, kept for [`abort`] until the answer settles. A missing fetch or
    /// a synchronous throw become a network error. Once the answer settles (always in
    /// a later microtask), its unread body is cancelled and the inbox hears the
    /// outcome: 0 when `ok` is true, the status when it is a number in 1..=999, else
    /// -1 (a network error).
    #[wasm_bindgen(js_name = p)]
    pub fn post(state: &State, path: &str, id: &str, body: &JsValue, post: i32, signal: i32);

    /// Aborts POST `post` through its AbortController, if it has one still.
    #[wasm_bindgen(js_name = b)]
    pub fn abort(state: &State, post: i32);

    /// Arms the state's one host timer `ms` from now, replacing any armed one;
    /// disarms it when `ms` is negative. `setTimeout` is looked up when armed.
    #[wasm_bindgen(js_name = m)]
    pub fn arm_timer(state: &State, ms: f64);

    /// Adds `{ sessionId, lastSeq }` to the session list the next [`sessions_json`],
    /// [`beacon`] or [`session_ids`] takes.
    #[wasm_bindgen(js_name = a)]
    pub fn push_session(session_id: &str, last_seq: f64);

    /// `JSON.stringify({ type: kind, sessions })` of the sessions pushed so far (the
    /// list is emptied): keys in the existing client's order, its tests compare it.
    #[wasm_bindgen(js_name = j)]
    pub fn sessions_json(kind: &str) -> JsValue;

    /// The ids of the sessions pushed so far, as an array (the list is emptied).
    #[wasm_bindgen(js_name = i)]
    pub fn session_ids() -> JsValue;

    /// `navigator.sendBeacon(config.suspendUrl, new Blob([JSON.stringify({ connectionId,
    /// sessions })], { type: 'application/json' }))` of the sessions pushed so far (the
    /// list is emptied), when `sendBeacon` exists and `suspendUrl` is a non-empty
    /// string; any throw is swallowed.
    #[wasm_bindgen(js_name = k)]
    pub fn beacon(state: &State, connection_id: &str);

    /// The `{ type }` notice `_open` (0), `_close` (1) or `_foreground` (2).
    #[wasm_bindgen(js_name = t)]
    pub fn notice(kind: i32) -> JsValue;

    /// `callback.call(null, value)`; a throw is reported with `console.error` (the app's
    /// own exception is never allowed to unwind through the delivery loop).
    #[wasm_bindgen(js_name = x)]
    pub fn call_app(callback: &JsValue, value: &JsValue);

    /// Hands `config.onDelivery` (read now; nothing when it is not a function) the
    /// delivery report `{ status, reason?, httpStatus?, endpoint,
    /// clientMsgId?, message }` (`clientMsgId` when the message has a string one), as
    /// [`call_app`] does (`httpStatus` when `http_status` is not 0). `fate` is 0 for delivered; 1 to 3 for dropped (reason
    /// queue_overflow, stale_retries_exhausted, cleared); 4 to 8 for failed (reason
    /// rejected, stale_connection, server_error, network, timeout).
    #[wasm_bindgen(js_name = d)]
    pub fn report(state: &State, fate: i32, http_status: i32, endpoint: &str, message: &JsValue);

    /// Starts listening (once) to the page lifecycle events whose target exists
    /// (`visibilitychange` on `document`; `pageshow`, `pagehide`, `online` on
    /// `globalThis`), each `{ passive: true }`; the inbox hears a code: 0 visible,
    /// 1 hidden, 2 pagehide, 3 pageshow persisted, 4 pageshow not persisted, 5 online.
    #[wasm_bindgen(js_name = y)]
    pub fn listen_lifecycle(state: &State);

    /// Removes the lifecycle listeners [`listen_lifecycle`] added, if any.
    #[wasm_bindgen(js_name = z)]
    pub fn unlisten_lifecycle(state: &State);

    /// Checks each field of the app's config alone (its type and range) and hands back
    /// one entry per field of its table, in order: undefined when absent, else the
    /// value as a number (milliseconds rounded up, a flag as 0/1, 0 for functions,
    /// strings and `backoff`), or for `retryableEndpoints` a copy of the array (of
    /// strings). Gives an `Error` naming the first bad field instead: `config.<field>
    /// must be …` (or `config must be an object with a baseUrl`).
    #[wasm_bindgen(js_name = n)]
    pub fn read_config(config: &JsValue) -> JsValue;

    /// `console.warn("[sse-courier] " + text)`.
    #[wasm_bindgen(js_name = v)]
    pub fn warn(text: &str);

    /// `obj[key]`, or `undefined` when `obj` is not an object or the getter throws.
    #[wasm_bindgen(js_name = g)]
    pub fn get(obj: &JsValue, key: &str) -> JsValue;

    /// `obj[index]`, or `undefined` when `obj` is not an object or the getter throws.
    #[wasm_bindgen(js_name = g)]
    pub fn get_at(obj: &JsValue, index: i32) -> JsValue;

    /// The `type` of a message `send()` was given, or an `Error` saying what is wrong
    /// when the message is not a plain object or its `type` not a string.
    #[wasm_bindgen(js_name = o)]
    pub fn message_type(message: &JsValue) -> JsValue;

    /// `JSON.stringify(message)`, a JS string (the body is never copied through
    /// Rust), or an `Error` naming JSON (with the cause's message) when it throws or
    /// gives no string.
    #[wasm_bindgen(js_name = e)]
    pub fn message_body(message: &JsValue) -> JsValue;

    /// Whether `value` is an `Error` (what the checking helpers give instead of
    /// throwing: an import that may throw costs a wrapper in the glue).
    #[wasm_bindgen(js_name = q)]
    pub fn is_error(value: &JsValue) -> bool;
}

/// Milliseconds since the epoch, read at call time so fake timers (which fake `Date`)
/// drive the core's clock.
pub fn now() -> u64 {
    let ms = date_now();
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
