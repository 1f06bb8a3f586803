//! The shell's declarations of the JS half it still calls (`helper.js`, `options.js`,
//! and the opt-in entries' `outbox.js` and `tabs.js`), each function under its JS
//! name, and the clock and random numbers it reads (js-sys). Everything is duck-typed and non-throwing, because injected
//! fakes are plain objects rather than the platform classes.
//!
//! Strings cross as JS strings (`&JsValue`), never as `&str`: a `&str` parameter makes
//! wasm-bindgen put a decoding wrapper in the glue, and the build can only rename the
//! helper's functions when the wasm imports them directly.

use wasm_bindgen::prelude::*;

/// `Math.random()`: the seed of the core's backoff jitter.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// The platform work still done in JS (issue 21 moves it to Rust, kind by kind). Each
/// connection's streams, lifecycle listeners and app listener live in its `State`; the
/// shell owns the state and hears them through its one inbox (see `inputs.rs`).
#[wasm_bindgen(module = "/src/web/helper.js")]
extern "C" {
    /// A JS object of the helper's: one connection's platform objects and its inbox.
    pub type State;

    /// `object[key]`, or undefined when `object` is not an object or the getter throws.
    #[wasm_bindgen(js_name = readProperty)]
    pub fn read_property(object: &JsValue, key: &JsValue) -> JsValue;

    /// A new connection state: a copy of the app's `config` (what `connection.config`
    /// returns, read at each use like the existing client's), the shell's `inbox`,
    /// the longest event data it parses (`maxEventBytes`, in UTF-16 units), and whether
    /// the inbox needs the time of each server event (1 or 0: the core's
    /// `event_time_needed`; without it the clock is not read per event).
    #[wasm_bindgen(js_name = createState)]
    pub fn create_state(
        config: &JsValue,
        inbox: &JsValue,
        max_event_length: f64,
        timed_events: i32,
    ) -> State;

    /// The config copy of a state.
    #[wasm_bindgen(js_name = configOf)]
    pub fn config_of(state: &State) -> JsValue;

    /// Retires a state: closes its streams, disarms its timer, removes its lifecycle
    /// listeners, and cuts its inbox (a late POST answer then reaches nobody).
    pub fn retire(state: &State);

    /// Opens stream `id`: `{config.baseUrl}/api/chat/events` with
    /// `config.createEventSource` (read now, when it is a function) or
    /// `new EventSource(url)`, with the shell's handlers on it: `welcome` as a listener
    /// (`{ passive: true }`), every other event through the `onmessage` property,
    /// errors through `onerror`. Each event is parsed there and reaches the inbox in one
    /// call. 0 when no source could be made (a throw, or a factory returning no object),
    /// after a warning saying why (quoting the error thrown).
    #[wasm_bindgen(js_name = openStream)]
    pub fn open_stream(state: &State, id: i32) -> i32;

    /// Closes stream `id`, then detaches its handlers (so `close()` cannot call back).
    #[wasm_bindgen(js_name = closeStream)]
    pub fn close_stream(state: &State, id: i32);

    /// The app's listener (`onMessage`); anything but a function means none.
    #[wasm_bindgen(js_name = setListener)]
    pub fn set_listener(state: &State, listener: &JsValue);

    /// Hands the listener the `{ type }` notice `_open`, `_close` or `_foreground`
    /// (see [`super::shell::notice_code`]).
    pub fn notify(state: &State, notice: i32);

    /// `console.warn("[sse-courier] " + text)`.
    pub fn warn(text: &JsValue);

    /// Whether `value` is an `Error` (what the checks give instead of throwing: an
    /// import that may throw costs a wrapper in the glue).
    #[wasm_bindgen(js_name = isError)]
    pub fn is_error(value: &JsValue) -> bool;

    /// The `type` of a message `send()` was given, or an `Error` saying what is wrong
    /// when the message is not a plain object or its `type` not a string.
    #[wasm_bindgen(js_name = messageType)]
    pub fn message_type(message: &JsValue) -> JsValue;

    /// `JSON.stringify(message)`, a JS string (the body is never copied through
    /// Rust), or an `Error` naming JSON (with the cause's message) when it throws or
    /// gives no string.
    #[wasm_bindgen(js_name = messageBody)]
    pub fn message_body(message: &JsValue) -> JsValue;
}

/// The persisted outbox's JS half: its store, its Web Locks and its reads of the store
/// (see `outbox.rs`). Every function is non-throwing; a failing store is a warning.
/// Only in the build with the `persist` feature.
#[cfg(feature = "persist")]
#[wasm_bindgen(module = "/src/web/outbox.js")]
extern "C" {
    /// A new page load's owner id (`crypto.randomUUID()`, with fallbacks).
    #[wasm_bindgen(js_name = newOwnerId)]
    pub fn new_owner_id() -> JsValue;

    /// The message itself when its `clientMsgId` is a non-empty string, else a
    /// shallow copy with a new one (the app's object is never changed).
    #[wasm_bindgen(js_name = withClientMsgId)]
    pub fn with_client_msg_id(message: &JsValue) -> JsValue;

    /// Opens the outbox: the store `store` names ("indexeddb", "local", "session" or
    /// the app's own) for `namespace`, and the owner lock of `owner`; writes wait for
    /// both. Reads of the store reach `inbox.restore(entries, liveOwners)`.
    #[wasm_bindgen(js_name = openOutbox)]
    pub fn open_outbox(
        store: &JsValue,
        namespace: &JsValue,
        owner: &JsValue,
        inbox: &JsValue,
    ) -> JsValue;

    /// Stores the record (the core's `Record` fields and the message's JSON body)
    /// under `key`: at once when the store is ready, in call order.
    #[wasm_bindgen(js_name = outboxPut)]
    #[allow(clippy::too_many_arguments)]
    pub fn outbox_put(
        outbox: &JsValue,
        version: f64,
        key: &JsValue,
        endpoint: &JsValue,
        order: f64,
        enqueued_at: f64,
        stale_404s: f64,
        retries: f64,
        owner: &JsValue,
        body: &JsValue,
    );

    /// Deletes the record under `key`.
    #[wasm_bindgen(js_name = outboxRemove)]
    pub fn outbox_remove(outbox: &JsValue, key: &JsValue);

    /// Reads the store back into the inbox (inside the restore lock), once the outbox
    /// is ready; a request during a read runs once after it.
    #[wasm_bindgen(js_name = outboxRestore)]
    pub fn outbox_restore(outbox: &JsValue);

    /// A promise of the inbox's `restoredPending()` once the first read of the store
    /// has reached it (of `[]` when the connection is freed first).
    #[wasm_bindgen(js_name = outboxWhenRestored)]
    pub fn outbox_when_restored(outbox: &JsValue) -> JsValue;

    /// Reads the store back again once the page `owner` is gone.
    #[wasm_bindgen(js_name = outboxAwaitOwner)]
    pub fn outbox_await_owner(outbox: &JsValue, owner: &JsValue);

    /// Cuts the inbox and releases the owner lock; writes already started finish.
    #[wasm_bindgen(js_name = closeOutbox)]
    pub fn close_outbox(outbox: &JsValue);
}

/// One stream for all tabs' JS half: the BroadcastChannel and the Web Lock (see
/// `tabs.rs`). Every function is non-throwing. Only in the build with the
/// `share-tabs` feature.
#[cfg(feature = "share-tabs")]
#[wasm_bindgen(module = "/src/web/tabs.js")]
extern "C" {
    /// The channel and the lock named after `share` (a string) or else `base_url`,
    /// reporting to `inbox.channel` and `inbox.lock`; undefined when the page has no
    /// Web Locks or no BroadcastChannel.
    #[wasm_bindgen(js_name = openTabs)]
    pub fn open_tabs(share: &JsValue, base_url: &JsValue, inbox: &JsValue) -> JsValue;

    /// Posts `[kind, epoch, leader, n, text, number, sessions, data]` to the other tabs.
    #[wasm_bindgen(js_name = postWire)]
    #[allow(clippy::too_many_arguments)]
    pub fn post_wire(
        tabs: &JsValue,
        kind: i32,
        epoch: f64,
        leader: f64,
        n: f64,
        text: &JsValue,
        number: f64,
        sessions: &JsValue,
        data: &JsValue,
    );

    /// Queues for the lock (`steal` 1: takes it from its holder), abandoning a queued
    /// request first.
    #[wasm_bindgen(js_name = requestLock)]
    pub fn request_lock(tabs: &JsValue, steal: i32);

    /// Releases the lock, or abandons the queued request.
    #[wasm_bindgen(js_name = releaseLock)]
    pub fn release_lock(tabs: &JsValue);

    /// Releases the lock, closes the channel and cuts the inbox.
    #[wasm_bindgen(js_name = closeTabs)]
    pub fn close_tabs(tabs: &JsValue);
}

/// The helper's dispatch of a server event relayed by another tab.
#[cfg(feature = "share-tabs")]
#[wasm_bindgen(module = "/src/web/helper.js")]
extern "C" {
    /// Hands `message` to the app's listener (a throw is reported, never let through).
    pub fn dispatch(state: &State, message: &JsValue);
}

#[wasm_bindgen(module = "/src/web/options.js")]
extern "C" {
    /// The app's config checked option by option (type and range): an object of the
    /// options present, numbers of milliseconds rounded up, flags as 0 or 1,
    /// `backoff.initialMs` and `backoff.maxMs` as `backoffInitialMs` and
    /// `backoffMaxMs`. An `Error` naming the first option at fault instead
    /// (`config.<option> must …`). `entry` names this build's entry (`persist`,
    /// `tabs`; undefined for the others): an option of another entry is refused,
    /// naming the entry that has it. `default_initial_ms` and `default_max_ms` are the
    /// core's `backoff` defaults, for the one check across options (`backoff.maxMs`
    /// not below `backoff.initialMs`), whose error says which value is a default.
    /// Unknown options are warned of, never refused.
    #[wasm_bindgen(js_name = checkConfig)]
    pub fn check_config(
        config: &JsValue,
        entry: &JsValue,
        default_initial_ms: f64,
        default_max_ms: f64,
    ) -> JsValue;
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
        let item = read_property(list, &JsValue::from_f64(items.len() as f64));
        if item.is_undefined() {
            return items;
        }
        items.push(item);
    }
}
