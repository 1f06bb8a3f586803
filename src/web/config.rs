//! Reads the JS config object once, at construction, into the core's `Config` plus the
//! few options only the shell needs. Every rejection names the field.
//!
//! Hand-read with `Reflect` rather than serde-wasm-bindgen: the config holds functions
//! (`fetch`, `createEventSource`, `onDelivery`) serde cannot carry, and the derive
//! machinery costs kilobytes of wasm for a dozen fields. The optional fields are one
//! table walked by one loop (a code path per field cost kilobytes too); each error is
//! `config.<field> must be <what the kind needs>`.

use alloc::string::String;
use wasm_bindgen::JsValue;

use super::js;
use crate::core::{Config, Endpoint, EndpointSet};

/// What an optional field must hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Function,
    Text,
    /// Milliseconds, 0 allowed; fractions round up.
    Millis0,
    /// Milliseconds above 0; fractions round up.
    Millis,
    /// A whole number from 0.
    Count0,
    /// A whole number from 1.
    Count1,
    Flag,
    /// An array of retryable endpoint paths.
    Endpoints,
    /// An object holding the `backoff.*` fields.
    Object,
}

impl Kind {
    fn needs(self) -> &'static str {
        match self {
            Kind::Function => "a function",
            Kind::Text => "a string",
            Kind::Millis0 => "a non-negative number",
            Kind::Millis => "a positive number",
            Kind::Count0 => "a non-negative integer",
            Kind::Count1 => "a positive integer",
            Kind::Flag => "a boolean",
            Kind::Endpoints => "an array of endpoint names",
            Kind::Object => "an object",
        }
    }
}

/// The optional fields, in the order they are checked (the first bad one is
/// reported). `backoff.*` fields are read from the `backoff` object.
const FIELDS: [(&str, Kind); 16] = [
    ("fetch", Kind::Function),
    ("createEventSource", Kind::Function),
    ("onDelivery", Kind::Function),
    ("suspendUrl", Kind::Text),
    ("reconnectDelayMs", Kind::Millis0),
    ("retryableEndpoints", Kind::Endpoints),
    ("maxPendingSends", Kind::Count1),
    ("maxStaleRetries", Kind::Count1),
    ("maxSendRetries", Kind::Count0),
    ("staleAfterMs", Kind::Millis),
    ("postTimeoutMs", Kind::Millis),
    ("backoff", Kind::Object),
    ("backoff.initialMs", Kind::Millis),
    ("backoff.maxMs", Kind::Millis),
    ("orderedSends", Kind::Flag),
    ("maxEventBytes", Kind::Count1),
];
// Indexes into FIELDS of the values used below.
const SUSPEND_URL: usize = 3;
const BACKOFF: usize = 11;
const BACKOFF_INITIAL_MS: usize = 12;
const BACKOFF_MAX_MS: usize = 13;
const ORDERED_SENDS: usize = 14;

/// What the shell itself needs beyond the core's config.
pub struct ShellOptions {
    pub base_url: String,
    pub suspend_url: String,
    pub post_timeout: bool,
    pub max_event_bytes: u32,
}

const DEFAULT_MAX_EVENT_BYTES: u64 = 1 << 20;

/// `config.<field> must be <needs>`.
fn error(field: &str, needs: &str) -> String {
    let mut text = String::from("config.");
    text.push_str(field);
    text.push_str(" must ");
    text.push_str(needs);
    text
}

/// Validates the JS config; nothing is kept when any field is wrong. The error is
/// the message for JS.
pub fn read(config: &JsValue) -> Result<(Config, ShellOptions), String> {
    if !config.is_object() {
        return Err("config must be an object with a baseUrl".into());
    }
    let base_url = js::get(config, "baseUrl")
        .as_string()
        .ok_or_else(|| error("baseUrl", "be a string (\"\" for same-origin)"))?;
    if base_url.ends_with('/') || base_url.bytes().any(|b| b == b'?' || b == b'#') {
        return Err(error("baseUrl", "not end with '/' nor contain '?' or '#'"));
    }

    let d = Config::default();
    // Each field's value as a number (a flag as 0/1, endpoints as their bits); the
    // defaults stand where a field is absent. 0 means "off" for the two timeouts,
    // which refuse 0 when given.
    let mut v: [u64; FIELDS.len()] = [
        0,
        0,
        0,
        0,
        d.reconnect_delay_ms,
        u64::from(d.retryable.bits()),
        d.max_pending_sends as u64,
        u64::from(d.max_stale_retries),
        u64::from(d.max_send_retries),
        d.stale_after_ms.unwrap_or(0),
        d.post_timeout_ms.unwrap_or(0),
        0,
        d.backoff.initial_ms,
        d.backoff.max_ms,
        u64::from(d.ordered_sends),
        DEFAULT_MAX_EVENT_BYTES,
    ];
    let mut suspend_url = String::new();
    let mut backoff = JsValue::UNDEFINED;
    let (mut initial_ms, mut max_ms) = (d.backoff.initial_ms, d.backoff.max_ms);
    for (i, (&(field, kind), slot)) in FIELDS.iter().zip(v.iter_mut()).enumerate() {
        // Right after the `backoff.*` fields, as before: checked only when `backoff`
        // is given (the defaults are in order).
        if i == ORDERED_SENDS && !backoff.is_undefined() && max_ms < initial_ms {
            return Err(error("backoff.maxMs", "not be below backoff.initialMs"));
        }
        let value = match field.strip_prefix("backoff.") {
            Some(key) => present(&backoff, key),
            None => present(config, field),
        };
        let Some(value) = value else {
            continue;
        };
        let read = match kind {
            Kind::Function => value.is_function().then_some(0),
            Kind::Text => value.as_string().map(|text| {
                if i == SUSPEND_URL {
                    suspend_url = text;
                }
                0
            }),
            Kind::Millis0 => number(&value, true, false),
            Kind::Millis => number(&value, false, false),
            Kind::Count0 => number(&value, true, true),
            Kind::Count1 => number(&value, false, true),
            Kind::Flag => value.as_bool().map(u64::from),
            Kind::Endpoints => Some(u64::from(retryable(&value, field)?.bits())),
            Kind::Object => value.is_object().then_some(0),
        };
        *slot = read.ok_or_else(|| {
            let mut needs = String::from("be ");
            needs.push_str(kind.needs());
            error(field, &needs)
        })?;
        match i {
            BACKOFF => backoff = value,
            BACKOFF_INITIAL_MS => initial_ms = *slot,
            BACKOFF_MAX_MS => max_ms = *slot,
            _ => {}
        }
    }

    let optional = |ms: u64| (ms != 0).then_some(ms);
    let core = Config {
        reconnect_delay_ms: v[4],
        retryable: EndpointSet::from_bits(v[5] as u16),
        max_pending_sends: v[6] as usize,
        max_stale_retries: v[7] as u32,
        max_send_retries: v[8] as u32,
        stale_after_ms: optional(v[9]),
        post_timeout_ms: optional(v[10]),
        backoff: crate::core::Backoff {
            initial_ms: v[12],
            max_ms: v[13],
        },
        ordered_sends: v[14] != 0,
    };
    let options = ShellOptions {
        base_url,
        suspend_url,
        post_timeout: v[10] != 0,
        max_event_bytes: v[15] as u32,
    };
    Ok((core, options))
}

/// The field's value, unless it is absent (`undefined` or `null` count as absent, as
/// the existing client's spread of defaults treats `undefined`).
fn present(obj: &JsValue, key: &str) -> Option<JsValue> {
    let value = js::get(obj, key);
    if value.is_undefined() || value.is_null() {
        None
    } else {
        Some(value)
    }
}

/// A number of milliseconds up to 2^31 - 1 (rounded up), or with `whole` an integer
/// up to 2^32 - 1; from 0 when `zero` else above 0.
fn number(value: &JsValue, zero: bool, whole: bool) -> Option<u64> {
    let n = value.as_f64()?;
    let max = if whole {
        4_294_967_295.0
    } else {
        2_147_483_647.0
    };
    // In range, `n as u64` truncates exactly (`f64::ceil`/`fract` need std).
    let t = n as u64;
    let ok = (n > 0.0 || (zero && n == 0.0)) && n <= max && (!whole || t as f64 == n);
    ok.then(|| t + u64::from((t as f64) < n))
}

fn retryable(value: &JsValue, field: &str) -> Result<EndpointSet, String> {
    let mut set = EndpointSet::empty();
    let count = js_sys::Array::is_array(value)
        .then(|| js::get(value, "length").as_f64())
        .flatten();
    let Some(count) = count else {
        return Err(error(field, "be an array of endpoint names"));
    };
    let mut i = 0.0;
    while i < count {
        let name = js::get_at(value, i).as_string();
        let endpoint = name.as_deref().and_then(Endpoint::from_path);
        let Some(endpoint) = endpoint else {
            return Err(error(field, "be an array of endpoint names"));
        };
        if endpoint.is_lifecycle() {
            return Err(error(
                field,
                "not name suspend, close, unwatch, stop or reconnect",
            ));
        }
        set.insert(endpoint);
        i += 1.0;
    }
    Ok(set)
}
