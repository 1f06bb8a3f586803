//! Reads the JS config object once, at construction, into the core's `Config` plus the
//! few options only the shell needs. Every rejection names the option.
//!
//! Each option's type and range is checked by `options.js` (its table of options is
//! the one place they are stated), and so is the one check across options
//! (`backoff.maxMs` not below `backoff.initialMs`, given the core's defaults, so that
//! its error can say which value is a default); it hands back the options present,
//! checked and normalised. The defaults of absent options are the core's
//! (`Config::default`), and endpoint names are the core's too (`Endpoint::from_path`),
//! checked here.

use alloc::string::String;

use wasm_bindgen::{JsError, JsValue};

use super::js;
#[cfg(feature = "persist")]
use crate::core::DEFAULT_MAX_AGE_MS;
use crate::core::{Backoff, Config, Endpoint, EndpointSet};

/// What the shell itself needs beyond the core's config. (`baseUrl` and `suspendUrl`
/// are read by the JS helper from `connection.config` where it builds URLs.)
pub struct ShellOptions {
    pub post_timeout: bool,
    pub max_event_bytes: u32,
    /// The `persist` option, when given.
    #[cfg(feature = "persist")]
    pub persist: Option<PersistOptions>,
    /// `shareAcrossTabs`: `true` or the channel's name; undefined when off.
    #[cfg(feature = "share-tabs")]
    pub share_tabs: JsValue,
}

/// `persist`: where the outbox is stored, under which namespace, and how old a stored
/// message may be when it is read back.
#[cfg(feature = "persist")]
pub struct PersistOptions {
    /// "indexeddb", "local", "session" or the app's own store object.
    pub store: JsValue,
    pub namespace: JsValue,
    pub max_age_ms: u64,
}

/// `persist.key` by default: one outbox per origin unless the app names more.
#[cfg(feature = "persist")]
const DEFAULT_PERSIST_KEY: &str = "default";

/// The `persist` option as options.js checked it (`persistStore`, `persistKey`,
/// `persistMaxAgeMs`), when given.
#[cfg(feature = "persist")]
fn persist_options(options: &JsValue) -> Option<PersistOptions> {
    let store = js::get(options, "persistStore");
    let max_age_ms = js::get(options, "persistMaxAgeMs").as_f64();
    (!store.is_undefined()).then(|| PersistOptions {
        store,
        namespace: match js::get(options, "persistKey") {
            key if key.is_undefined() => js::string(DEFAULT_PERSIST_KEY),
            key => key,
        },
        max_age_ms: max_age_ms.map_or(DEFAULT_MAX_AGE_MS, |ms| ms as u64),
    })
}

/// This build's entry, for the options only it has (see `checkConfig` in options.js).
fn entry() -> JsValue {
    if cfg!(all(feature = "persist", feature = "share-tabs")) {
        js::string("full")
    } else if cfg!(feature = "persist") {
        js::string("persist")
    } else if cfg!(feature = "share-tabs") {
        js::string("tabs")
    } else {
        JsValue::UNDEFINED
    }
}

/// Events whose data is longer than this (in UTF-16 units) are skipped.
const DEFAULT_MAX_EVENT_BYTES: u64 = 1 << 20;

/// Validates the JS config; nothing is kept when any option is wrong. The error is the
/// JS `Error` to throw.
pub fn read(config: &JsValue) -> Result<(Config, ShellOptions), JsValue> {
    let defaults = Config::default();
    let options = js::check_config(
        config,
        &entry(),
        defaults.backoff.initial_ms as f64,
        defaults.backoff.max_ms as f64,
    );
    if js::is_error(&options) {
        return Err(options);
    }
    // An option as the number options.js made of it (milliseconds rounded up, a flag
    // as 0 or 1), or `default` when absent.
    let number = |name: &str, default: u64| match js::get(&options, name).as_f64() {
        Some(n) => n as u64,
        None => default,
    };
    let retryable = match js::get(&options, "retryableEndpoints") {
        names if names.is_undefined() => defaults.retryable,
        names => retryable(&names)?,
    };
    // The two timeouts are off when absent (options.js refuses 0).
    let optional = |name: &str| {
        let ms = number(name, 0);
        (ms != 0).then_some(ms)
    };
    let post_timeout_ms = optional("postTimeoutMs");
    let core = Config {
        reconnect_delay_ms: number("reconnectDelayMs", defaults.reconnect_delay_ms),
        retryable,
        max_pending_sends: number("maxPendingSends", defaults.max_pending_sends as u64) as usize,
        max_stale_retries: number("maxStaleRetries", defaults.max_stale_retries.into()) as u32,
        max_send_retries: number("maxSendRetries", defaults.max_send_retries.into()) as u32,
        stale_after_ms: optional("staleAfterMs"),
        post_timeout_ms,
        backoff: Backoff {
            initial_ms: number("backoffInitialMs", defaults.backoff.initial_ms),
            max_ms: number("backoffMaxMs", defaults.backoff.max_ms),
        },
        ordered_sends: number("orderedSends", defaults.ordered_sends.into()) != 0,
    };
    let shell = ShellOptions {
        post_timeout: post_timeout_ms.is_some(),
        max_event_bytes: number("maxEventBytes", DEFAULT_MAX_EVENT_BYTES) as u32,
        #[cfg(feature = "persist")]
        persist: persist_options(&options),
        #[cfg(feature = "share-tabs")]
        share_tabs: js::get(&options, "shareAcrossTabs"),
    };
    Ok((core, shell))
}

/// The endpoints named by `retryableEndpoints` (options.js checked it is an array of
/// strings): each must be an endpoint path, and none a lifecycle one
/// (docs/delivery-rules.md, rule 3).
fn retryable(names: &JsValue) -> Result<EndpointSet, JsValue> {
    let mut set = EndpointSet::empty();
    let mut index = 0;
    while let Some(name) = js::item(names, index).as_string() {
        match Endpoint::from_path(&name) {
            Some(endpoint) if !endpoint.is_lifecycle() => set.insert(endpoint),
            _ => return Err(refuse_retryable(&name)),
        }
        index += 1;
    }
    Ok(set)
}

/// The error for `name` in `retryableEndpoints`: it names the entry at fault, says why
/// (not an endpoint, perhaps a message type; or a lifecycle endpoint, never retried)
/// and lists the names allowed, from the core's table of endpoints. Built by
/// concatenation: the shipped build leaves `core::fmt` out.
fn refuse_retryable(name: &str) -> JsValue {
    let mut text = String::from("config.retryableEndpoints must ");
    if Endpoint::from_path(name).is_some() {
        text.push_str("not name \"");
        text.push_str(name);
        text.push_str("\" (the lifecycle endpoints ");
        text.push_str(Endpoint::LIFECYCLE_PATHS);
        text.push_str(" are never retried)");
    } else {
        text.push_str("name endpoints, and \"");
        text.push_str(name);
        text.push_str("\" is not one");
        // A message type (`permission_response`) given where its endpoint
        // (`permission`) was meant: the error names that endpoint.
        if let Some(endpoint) = Endpoint::from_message_type(name).filter(|e| !e.is_lifecycle()) {
            text.push_str(" (it is the message type posted to \"");
            text.push_str(endpoint.path());
            text.push_str("\")");
        }
    }
    text.push_str("; it may name ");
    text.push_str(Endpoint::RETRYABLE_PATHS);
    refuse(&text)
}

fn refuse(text: &str) -> JsValue {
    JsError::new(text).into()
}
