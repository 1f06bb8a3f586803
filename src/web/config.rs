//! Reads the JS config object once, at construction, into the core's `Config` plus the
//! few options only the shell needs. Every rejection names the field.
//!
//! The per-field checks (types, ranges, `config.<field> must …` errors) are done by the
//! JS helper ([`js::read_config`]), which hands back one number per field: the same
//! checks written in Rust cost 1.6 KB gzip of wasm, one import crossing per property
//! and a code path per field. The defaults stay here (the core's `Config::default`),
//! and the endpoint names stay the core's (`Endpoint::from_path`).

use wasm_bindgen::{JsError, JsValue};

use super::js;
use crate::core::{Config, Endpoint, EndpointSet};

/// What the shell itself needs beyond the core's config. (`baseUrl` and `suspendUrl`
/// are read by the JS helper from `connection.config` where it builds URLs.)
pub struct ShellOptions {
    pub post_timeout: bool,
    pub max_event_bytes: u32,
}

const DEFAULT_MAX_EVENT_BYTES: u64 = 1 << 20;

// Indexes of the fields in the list the helper returns (the order of its table).
const RECONNECT_DELAY_MS: i32 = 4;
const RETRYABLE_ENDPOINTS: i32 = 5;
const MAX_PENDING_SENDS: i32 = 6;
const MAX_STALE_RETRIES: i32 = 7;
const MAX_SEND_RETRIES: i32 = 8;
const STALE_AFTER_MS: i32 = 9;
const POST_TIMEOUT_MS: i32 = 10;
const BACKOFF_INITIAL_MS: i32 = 12;
const BACKOFF_MAX_MS: i32 = 13;
const ORDERED_SENDS: i32 = 14;
const MAX_EVENT_BYTES: i32 = 15;

/// Validates the JS config; nothing is kept when any field is wrong. The error is the
/// JS `Error` to throw.
pub fn read(config: &JsValue) -> Result<(Config, ShellOptions), JsValue> {
    let fields = js::read_config(config);
    if js::is_error(&fields) {
        return Err(fields);
    }
    // A field's number, or `default` when it was absent (the helper gives undefined).
    let field = |index: i32, default: u64| match js::get_at(&fields, index).as_f64() {
        Some(n) => n as u64,
        None => default,
    };
    let d = Config::default();
    let retryable = match js::get_at(&fields, RETRYABLE_ENDPOINTS) {
        list if list.is_undefined() => d.retryable,
        list => retryable(&list)?,
    };
    // 0 means "off" for the two timeouts, which the helper refuses when given as 0.
    let optional = |ms: u64| (ms != 0).then_some(ms);
    let post_timeout_ms = optional(field(POST_TIMEOUT_MS, 0));
    let core = Config {
        reconnect_delay_ms: field(RECONNECT_DELAY_MS, d.reconnect_delay_ms),
        retryable,
        max_pending_sends: field(MAX_PENDING_SENDS, d.max_pending_sends as u64) as usize,
        max_stale_retries: field(MAX_STALE_RETRIES, u64::from(d.max_stale_retries)) as u32,
        max_send_retries: field(MAX_SEND_RETRIES, u64::from(d.max_send_retries)) as u32,
        stale_after_ms: optional(field(STALE_AFTER_MS, 0)),
        post_timeout_ms,
        backoff: crate::core::Backoff {
            initial_ms: field(BACKOFF_INITIAL_MS, d.backoff.initial_ms),
            max_ms: field(BACKOFF_MAX_MS, d.backoff.max_ms),
        },
        ordered_sends: field(ORDERED_SENDS, u64::from(d.ordered_sends)) != 0,
    };
    // The helper checked each field alone (so `Config::validate` holds but for this);
    // what is left is across fields: a `backoff.maxMs` below the given or default
    // `backoff.initialMs`. (Calling `validate` would link its seven messages.)
    if core.backoff.max_ms < core.backoff.initial_ms {
        return Err(refuse(
            "config.backoff.maxMs must not be below backoff.initialMs",
        ));
    }
    let options = ShellOptions {
        post_timeout: post_timeout_ms.is_some(),
        max_event_bytes: field(MAX_EVENT_BYTES, DEFAULT_MAX_EVENT_BYTES) as u32,
    };
    Ok((core, options))
}

/// The endpoints named by `retryableEndpoints` (the helper checked it is an array of
/// strings): each must be an endpoint path, and none a lifecycle one (rule 3).
fn retryable(list: &JsValue) -> Result<EndpointSet, JsValue> {
    let mut set = EndpointSet::empty();
    let mut i = 0;
    while let Some(name) = js::get_at(list, i).as_string() {
        let Some(endpoint) = Endpoint::from_path(&name) else {
            return Err(refuse(
                "config.retryableEndpoints must be an array of endpoint names",
            ));
        };
        if endpoint.is_lifecycle() {
            return Err(refuse(
                "config.retryableEndpoints must not name suspend, close, unwatch, stop or reconnect",
            ));
        }
        set.insert(endpoint);
        i += 1;
    }
    Ok(set)
}

fn refuse(text: &str) -> JsValue {
    JsError::new(text).into()
}
