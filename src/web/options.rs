//! The options `new Connection(config)` accepts, stated once: `Options` below is the
//! table. Each field is an option: its name is the field's (camelCase, as serde renames
//! it), its type the kind of value it takes. A kind (`Kind`) checks a value, says in its
//! refusal what the value must be (stating any bound, so that a value past it is not
//! taken for one of the wrong sign or type), and keeps what Rust reads of it. The
//! options are read in field order by `reader::Reader`, which names the option in the
//! error and warns of the names no field has: the list of known options is the
//! struct's own list of fields.
//!
//! The defaults of absent options are delivery policy and are the core's
//! (`Config::default`), or the shell's for its own options (`config.rs`).
//! Function-valued options (`fetch`, `createEventSource`, `onDelivery`), `baseUrl` and
//! `suspendUrl` are only checked here: the shell reads them from `connection.config` at
//! each use, so that an app replacing them later is heard.

use alloc::string::String;
use alloc::vec::Vec;

use serde::de::{Deserialize, Deserializer, Error as _};
use wasm_bindgen::{JsCast, JsValue};

use super::js;
use crate::core::Config;

/// `config`: every option, in the order they are checked (the first refused is the one
/// the error names). `None` is an option absent, `undefined` or `null`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    #[allow(dead_code)] // read at each use
    pub base_url: BaseUrl,
    #[allow(dead_code)] // read at each use
    pub fetch: Option<Function>,
    #[allow(dead_code)] // read at each use
    pub create_event_source: Option<Function>,
    #[allow(dead_code)] // read at each use
    pub on_delivery: Option<Function>,
    #[allow(dead_code)] // read at each use
    pub suspend_url: Option<Text>,
    pub reconnect_delay_ms: Option<Millis>,
    pub retryable_endpoints: Option<EndpointNames>,
    pub max_pending_sends: Option<PositiveCount>,
    pub max_stale_retries: Option<PositiveCount>,
    pub max_send_retries: Option<RetryLimit>,
    pub stale_after_ms: Option<PositiveMillis>,
    pub post_timeout_ms: Option<PositiveMillis>,
    pub backoff: Option<BackoffOptions>,
    pub ordered_sends: Option<Flag>,
    pub max_event_bytes: Option<PositiveCount>,
    #[allow(dead_code)] // read at each use
    pub build_event_url: Option<Function>,
    // The existing client's current contract (docs/delivery-rules.md, rules 14 to
    // 19): `strict` turns every part on, and each part's own option overrides it.
    pub strict: Option<Flag>,
    pub receipts: Option<Flag>,
    pub send_without_stream: Option<Flag>,
    pub prompt_outbox: Option<Flag>,
    pub notices: Option<Flag>,
    pub replay_every_welcome: Option<Flag>,
    /// Acknowledged application (docs/delivery-rules.md, rules 20 to 22).
    pub acknowledge_events: Option<Flag>,
    pub retry_jitter: Option<Flag>,
    /// The foreground probe (docs/delivery-rules.md, rule 23): `strict` turns it on
    /// too, except with `shareAcrossTabs` (`config.rs`).
    pub foreground_probe: Option<Flag>,
    // The authentication latch (docs/delivery-rules.md, rule 24); `authCheckUrl` is
    // read at each use.
    pub auth_latch: Option<Flag>,
    pub auth_check_url: Option<Text>,
    #[cfg(feature = "persist")]
    pub persist: Option<PersistOptions>,
    /// Without the `persist` feature the name is still an option, of another entry.
    #[cfg(not(feature = "persist"))]
    #[allow(dead_code)] // refused when given
    pub persist: Option<PersistElsewhere>,
    /// The existing client's option: `persist: { store: outboxStorage }` in short
    /// (`config.rs`).
    #[cfg(feature = "persist")]
    pub outbox_storage: Option<OutboxStorage>,
    #[cfg(not(feature = "persist"))]
    #[allow(dead_code)] // refused when given
    pub outbox_storage: Option<PersistElsewhere>,
    #[cfg(feature = "share-tabs")]
    pub share_across_tabs: Option<Sharing>,
    /// Without the `share-tabs` feature the name is still an option, of another entry.
    #[cfg(not(feature = "share-tabs"))]
    #[allow(dead_code)] // refused unless false
    pub share_across_tabs: Option<SharingElsewhere>,
}

/// `config.backoff`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackoffOptions {
    pub initial_ms: Option<PositiveMillis>,
    pub max_ms: Option<PositiveMillis>,
}

/// `config.persist` (the `sse-courier/persist` and `/full` entries): `store` must be
/// there when `persist` is.
#[cfg(feature = "persist")]
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PersistOptions {
    pub store: Store,
    pub key: Option<Name>,
    pub max_age_ms: Option<AgeMilliseconds>,
}

/// What an option's value must be.
pub trait Kind: Sized {
    /// The value as Rust keeps it, or the refusal: what the value must be, worded to
    /// follow `config.<option> ` ("must be a string").
    fn read(value: &JsValue) -> Result<Self, &'static str>;
}

/// Each kind is read through serde: its value is handed over as it is
/// (`serde_wasm_bindgen::preserve`) and `Kind::read` decides. A refusal travels as
/// serde's `missing_field`, the one error of serde's that carries a `&'static str`
/// without formatting it; the reader (which hands over every field, so that serde
/// never reports a field missing itself) turns it into the error naming the option.
macro_rules! deserialize_kinds {
    ($($kind:ty),* $(,)?) => {$(
        impl<'de> Deserialize<'de> for $kind {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                <$kind as Kind>::read(&value(deserializer)?).map_err(D::Error::missing_field)
            }
        }
    )*};
}

/// The value as it is, one function for every kind.
#[inline(never)]
fn value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<JsValue, D::Error> {
    serde_wasm_bindgen::preserve::deserialize(deserializer)
}

deserialize_kinds!(
    BaseUrl,
    Function,
    Text,
    Millis,
    PositiveMillis,
    RetryLimit,
    PositiveCount,
    Flag,
    EndpointNames,
    Name,
    Sharing,
);
#[cfg(feature = "persist")]
deserialize_kinds!(AgeMilliseconds, Store, OutboxStorage);
#[cfg(not(feature = "persist"))]
deserialize_kinds!(PersistElsewhere);
#[cfg(not(feature = "share-tabs"))]
deserialize_kinds!(SharingElsewhere);

// Each bound once, a literal that both a check and its refusal's wording use.
/// `setTimeout` fires at once past a signed 32-bit delay.
macro_rules! max_timer_ms {
    () => {
        2147483647
    };
}
macro_rules! max_count {
    () => {
        4294967295
    };
}
/// `Number.MAX_SAFE_INTEGER`.
#[cfg(feature = "persist")]
macro_rules! max_age_ms {
    () => {
        9007199254740991
    };
}

/// `baseUrl`: a string ("" for same-origin) with no trailing `/`, query or fragment.
pub struct BaseUrl;

impl Kind for BaseUrl {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        let url = value
            .as_string()
            .ok_or("must be a string (\"\" for same-origin)")?;
        if url.ends_with('/') || url.contains(['?', '#']) {
            return Err("must not end with '/' nor contain '?' or '#'");
        }
        Ok(BaseUrl)
    }
}

/// A function (`fetch`, `createEventSource`, `onDelivery`).
pub struct Function;

impl Kind for Function {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        value
            .is_function()
            .then_some(Function)
            .ok_or("must be a function")
    }
}

/// A string (`suspendUrl`).
pub struct Text;

impl Kind for Text {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        value.is_string().then_some(Text).ok_or("must be a string")
    }
}

/// A number in `[0, max]` (`positive`: in `(0, max]`), as whole milliseconds: a
/// fraction rounds up, never to an earlier time.
fn milliseconds(value: &JsValue, positive: bool, max: u64) -> Option<u64> {
    let ms = value.as_f64()?;
    let low = if positive { ms > 0.0 } else { ms >= 0.0 };
    (low && ms <= max as f64).then(|| ms.ceil() as u64)
}

/// A delay in ms, 0 included (`reconnectDelayMs`).
pub struct Millis(pub u64);

impl Kind for Millis {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        milliseconds(value, false, max_timer_ms!())
            .map(Millis)
            .ok_or(concat!(
                "must be a non-negative number of at most ",
                max_timer_ms!(),
                " (ms)"
            ))
    }
}

/// A delay in ms, not 0 (`staleAfterMs`, `postTimeoutMs`, `backoff.*`).
pub struct PositiveMillis(pub u64);

impl Kind for PositiveMillis {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        milliseconds(value, true, max_timer_ms!())
            .map(PositiveMillis)
            .ok_or(concat!(
                "must be a positive number of at most ",
                max_timer_ms!(),
                " (ms)"
            ))
    }
}

/// An age in ms, never a timer's delay (`persist.maxAgeMs`).
#[cfg(feature = "persist")]
pub struct AgeMilliseconds(pub u64);

#[cfg(feature = "persist")]
impl Kind for AgeMilliseconds {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        milliseconds(value, true, max_age_ms!())
            .map(AgeMilliseconds)
            .ok_or(concat!(
                "must be a positive number of at most ",
                max_age_ms!(),
                " (ms)"
            ))
    }
}

/// An integer in `[0, 2^32 - 1]` (`positive`: not 0).
fn count(value: &JsValue, positive: bool) -> Option<u32> {
    let n = js::as_count(value)?;
    (n <= max_count!() && (n > 0 || !positive)).then_some(n as u32)
}

/// A number of retries, 0 included, or `Infinity`: never give up (`maxSendRetries`).
/// The largest count is the core's `UNLIMITED_RETRIES` too: 2^32 - 1 retries never end
/// in a page's life either.
pub struct RetryLimit(pub u32);

impl Kind for RetryLimit {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        if value.as_f64() == Some(f64::INFINITY) {
            return Ok(RetryLimit(Config::UNLIMITED_RETRIES));
        }
        count(value, false).map(RetryLimit).ok_or(concat!(
            "must be a non-negative integer of at most ",
            max_count!(),
            ", or Infinity (no limit)"
        ))
    }
}

/// A count, not 0 (`maxPendingSends`, `maxStaleRetries`, `maxEventBytes`).
pub struct PositiveCount(pub u32);

impl Kind for PositiveCount {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        count(value, true).map(PositiveCount).ok_or(concat!(
            "must be a positive integer of at most ",
            max_count!()
        ))
    }
}

/// A boolean (`orderedSends`).
pub struct Flag(pub bool);

impl Kind for Flag {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        value.as_bool().map(Flag).ok_or("must be a boolean")
    }
}

/// An array of strings (`retryableEndpoints`), copied: the app changing its array
/// later changes nothing. Whether each names an endpoint is the core's table's to say
/// (`config.rs`).
pub struct EndpointNames(pub Vec<String>);

impl Kind for EndpointNames {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        const MUST: &str = "must be an array of endpoint names";
        if !js_sys::Array::is_array(value) {
            return Err(MUST);
        }
        let length = value.unchecked_ref::<js_sys::Array>().length();
        let names = (0..length).map(|index| js::item(value, index as usize).as_string());
        names.collect::<Option<_>>().map(EndpointNames).ok_or(MUST)
    }
}

/// A non-empty string (`persist.key`), kept as the JS string.
pub struct Name(pub JsValue);

impl Kind for Name {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        let named = value.as_string().is_some_and(|name| !name.is_empty());
        named
            .then(|| Name(value.clone()))
            .ok_or("must be a non-empty string")
    }
}

/// `persist.store`: the name of a store of the page, or the app's own (an object with
/// `load`, `put` and `remove` functions, or with `getItem` and `setItem` as the
/// existing client's `outboxStorage`), as given.
#[cfg(feature = "persist")]
pub struct Store(pub JsValue);

#[cfg(feature = "persist")]
impl Kind for Store {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        const NAMES: [&str; 3] = ["indexeddb", "local", "session"];
        let named = value
            .as_string()
            .is_some_and(|name| NAMES.contains(&&*name));
        let has = |methods: &[&str]| {
            value.is_object() && methods.iter().all(|m| js::get(value, m).is_function())
        };
        let own = has(&["load", "put", "remove"]) || has(&["getItem", "setItem"]);
        (named || own).then(|| Store(value.clone())).ok_or(
            "must be one of \"indexeddb\", \"local\", \"session\", an object with load, put and remove functions, or one with getItem and setItem functions",
        )
    }
}

/// `outboxStorage`: the existing client's store, an object with `getItem(key)` and
/// `setItem(key, value)` (`sessionStorage`, `localStorage`, or the app's own).
#[cfg(feature = "persist")]
pub struct OutboxStorage(pub JsValue);

#[cfg(feature = "persist")]
impl Kind for OutboxStorage {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        if !value.is_object() {
            return Err("must be an object with getItem(key) and setItem(key, value) functions, like sessionStorage");
        }
        if !js::get(value, "getItem").is_function() {
            return Err("must have a getItem(key) function");
        }
        if !js::get(value, "setItem").is_function() {
            return Err("must have a setItem(key, value) function");
        }
        Ok(OutboxStorage(value.clone()))
    }
}

/// `shareAcrossTabs`: `true` or the channel's name when on; `false` is off, as if absent.
pub struct Sharing(pub Option<JsValue>);

const SHARING_MUST: &str = "must be a boolean or a non-empty string";

impl Kind for Sharing {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        match value.as_bool() {
            Some(on) => Ok(Sharing(on.then(|| value.clone()))),
            None => Name::read(value)
                .map(|name| Sharing(Some(name.0)))
                .map_err(|_| SHARING_MUST),
        }
    }
}

/// What an option built into another entry of the package says in this one's build.
#[cfg(not(all(feature = "persist", feature = "share-tabs")))]
macro_rules! needs_entry {
    ($entry:literal) => {
        concat!(
            "needs the \"sse-courier/",
            $entry,
            "\" entry: import { Connection } from \"sse-courier/",
            $entry,
            "\" (or \"sse-courier/full\", which has every opt-in)"
        )
    };
}

/// `persist` in a build without it: an object is refused, naming the entry that has it.
#[cfg(not(feature = "persist"))]
pub struct PersistElsewhere;

#[cfg(not(feature = "persist"))]
impl Kind for PersistElsewhere {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        Err(if value.is_object() {
            needs_entry!("persist")
        } else {
            super::reader::MUST_BE_AN_OBJECT
        })
    }
}

/// `shareAcrossTabs` in a build without it: `false` (off) is accepted; on is refused,
/// naming the entry that has it.
#[cfg(not(feature = "share-tabs"))]
pub struct SharingElsewhere;

#[cfg(not(feature = "share-tabs"))]
impl Kind for SharingElsewhere {
    fn read(value: &JsValue) -> Result<Self, &'static str> {
        match Sharing::read(value)? {
            Sharing(None) => Ok(SharingElsewhere),
            Sharing(Some(_)) => Err(needs_entry!("tabs")),
        }
    }
}
