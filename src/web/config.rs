//! Reads the JS config object once, at construction, into the core's `Config` plus the
//! few options only the shell needs. Every rejection names the field.
//!
//! Hand-read with `Reflect` rather than serde-wasm-bindgen: the config holds functions
//! (`fetch`, `createEventSource`, `onDelivery`) serde cannot carry, and the derive
//! machinery costs kilobytes of wasm for a dozen fields.

use alloc::string::String;
use js_sys::Array;
use wasm_bindgen::JsValue;

use super::js;
use crate::core::{Config, Endpoint, EndpointSet};

/// A config value that cannot be used; the message names the field and what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigError {
    NotAnObject,
    BaseUrl,
    BaseUrlTrailingSlash,
    Fetch,
    CreateEventSource,
    OnDelivery,
    SuspendUrl,
    ReconnectDelayMs,
    RetryableEndpoints,
    LifecycleEndpointRetryable,
    MaxPendingSends,
    MaxStaleRetries,
    MaxSendRetries,
    StaleAfterMs,
    PostTimeoutMs,
    Backoff,
    BackoffInitialMs,
    BackoffMaxMs,
    OrderedSends,
    MaxEventBytes,
}

impl ConfigError {
    pub fn message(self) -> &'static str {
        match self {
            Self::NotAnObject => "config must be an object with at least a baseUrl string",
            Self::BaseUrl => "config.baseUrl must be a string (\"\" for same-origin)",
            Self::BaseUrlTrailingSlash => {
                "config.baseUrl must not end with '/' nor contain '?' or '#': paths are appended to it"
            }
            Self::Fetch => "config.fetch must be a function (url, init) => Promise<Response>",
            Self::CreateEventSource => {
                "config.createEventSource must be a function (url) => EventSource"
            }
            Self::OnDelivery => "config.onDelivery must be a function (report) => void",
            Self::SuspendUrl => "config.suspendUrl must be a string",
            Self::ReconnectDelayMs => "config.reconnectDelayMs must be a non-negative number",
            Self::RetryableEndpoints => {
                "config.retryableEndpoints must be an array of endpoint names (send, stop, interrupt, permission, mode, watch, switch)"
            }
            Self::LifecycleEndpointRetryable => {
                "config.retryableEndpoints must not name suspend, close, unwatch, stop or reconnect: lifecycle messages are never replayed"
            }
            Self::MaxPendingSends => "config.maxPendingSends must be a positive integer",
            Self::MaxStaleRetries => "config.maxStaleRetries must be a positive integer",
            Self::MaxSendRetries => "config.maxSendRetries must be a non-negative integer",
            Self::StaleAfterMs => "config.staleAfterMs must be a positive number",
            Self::PostTimeoutMs => "config.postTimeoutMs must be a positive number",
            Self::Backoff => "config.backoff must be an object { initialMs?, maxMs? }",
            Self::BackoffInitialMs => "config.backoff.initialMs must be a positive number",
            Self::BackoffMaxMs => {
                "config.backoff.maxMs must be a positive number not below backoff.initialMs"
            }
            Self::OrderedSends => "config.orderedSends must be a boolean",
            Self::MaxEventBytes => "config.maxEventBytes must be a positive integer",
        }
    }
}

/// What the shell itself needs beyond the core's config.
pub struct ShellOptions {
    pub base_url: String,
    pub suspend_url: String,
    pub post_timeout: bool,
    pub max_event_bytes: u32,
}

const DEFAULT_MAX_EVENT_BYTES: u32 = 1 << 20;

/// Validates the JS config; nothing is kept when any field is wrong.
pub fn read(config: &JsValue) -> Result<(Config, ShellOptions), ConfigError> {
    if !config.is_object() {
        return Err(ConfigError::NotAnObject);
    }
    let base_url = js::get(config, "baseUrl")
        .as_string()
        .ok_or(ConfigError::BaseUrl)?;
    if base_url.ends_with('/') || base_url.bytes().any(|b| b == b'?' || b == b'#') {
        return Err(ConfigError::BaseUrlTrailingSlash);
    }
    optional_function(config, "fetch", ConfigError::Fetch)?;
    optional_function(config, "createEventSource", ConfigError::CreateEventSource)?;
    optional_function(config, "onDelivery", ConfigError::OnDelivery)?;
    let suspend_url = match present(config, "suspendUrl") {
        None => String::new(),
        Some(v) => v.as_string().ok_or(ConfigError::SuspendUrl)?,
    };

    let mut core = Config::default();
    if let Some(v) = present(config, "reconnectDelayMs") {
        core.reconnect_delay_ms = millis(&v, true).ok_or(ConfigError::ReconnectDelayMs)?;
    }
    if let Some(v) = present(config, "retryableEndpoints") {
        core.retryable = retryable(&v)?;
    }
    if let Some(v) = present(config, "maxPendingSends") {
        core.max_pending_sends = positive_integer(&v).ok_or(ConfigError::MaxPendingSends)? as usize;
    }
    if let Some(v) = present(config, "maxStaleRetries") {
        core.max_stale_retries = positive_integer(&v).ok_or(ConfigError::MaxStaleRetries)?;
    }
    if let Some(v) = present(config, "maxSendRetries") {
        core.max_send_retries = js::as_count(&v)
            .filter(|n| *n <= u64::from(u32::MAX))
            .ok_or(ConfigError::MaxSendRetries)? as u32;
    }
    if let Some(v) = present(config, "staleAfterMs") {
        core.stale_after_ms = Some(millis(&v, false).ok_or(ConfigError::StaleAfterMs)?);
    }
    if let Some(v) = present(config, "postTimeoutMs") {
        core.post_timeout_ms = Some(millis(&v, false).ok_or(ConfigError::PostTimeoutMs)?);
    }
    if let Some(v) = present(config, "backoff") {
        if !v.is_object() {
            return Err(ConfigError::Backoff);
        }
        if let Some(ms) = present(&v, "initialMs") {
            core.backoff.initial_ms = millis(&ms, false).ok_or(ConfigError::BackoffInitialMs)?;
        }
        if let Some(ms) = present(&v, "maxMs") {
            core.backoff.max_ms = millis(&ms, false).ok_or(ConfigError::BackoffMaxMs)?;
        }
        if core.backoff.max_ms < core.backoff.initial_ms {
            return Err(ConfigError::BackoffMaxMs);
        }
    }
    if let Some(v) = present(config, "orderedSends") {
        core.ordered_sends = v.as_bool().ok_or(ConfigError::OrderedSends)?;
    }
    let max_event_bytes = match present(config, "maxEventBytes") {
        None => DEFAULT_MAX_EVENT_BYTES,
        Some(v) => positive_integer(&v).ok_or(ConfigError::MaxEventBytes)?,
    };

    let options = ShellOptions {
        base_url,
        suspend_url,
        post_timeout: core.post_timeout_ms.is_some(),
        max_event_bytes,
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

fn optional_function(obj: &JsValue, key: &str, error: ConfigError) -> Result<(), ConfigError> {
    match present(obj, key) {
        Some(v) if !v.is_function() => Err(error),
        _ => Ok(()),
    }
}

fn millis(value: &JsValue, zero_allowed: bool) -> Option<u64> {
    let n = value.as_f64()?;
    let ok = n.is_finite() && n <= 2_147_483_647.0 && (n > 0.0 || (zero_allowed && n == 0.0));
    // `f64::ceil` needs std; `n` is in [0, 2^31), so truncation is exact.
    ok.then(|| {
        let whole = n as u64;
        whole + u64::from((whole as f64) < n)
    })
}

fn positive_integer(value: &JsValue) -> Option<u32> {
    js::as_count(value)
        .filter(|n| *n >= 1 && *n <= u64::from(u32::MAX))
        .map(|n| n as u32)
}

fn retryable(value: &JsValue) -> Result<EndpointSet, ConfigError> {
    if !Array::is_array(value) {
        return Err(ConfigError::RetryableEndpoints);
    }
    let mut set = EndpointSet::empty();
    for name in Array::from(value).iter() {
        let name = name.as_string().ok_or(ConfigError::RetryableEndpoints)?;
        let endpoint = Endpoint::from_path(&name).ok_or(ConfigError::RetryableEndpoints)?;
        if endpoint.is_lifecycle() {
            return Err(ConfigError::LifecycleEndpointRetryable);
        }
        set.insert(endpoint);
    }
    Ok(set)
}
