//! Reads the JS config object once, at construction, into the core's `Config` plus the
//! few options only the shell needs. Every rejection names the option.
//!
//! Each option's name, kind, bound and refusal are stated once, in `options.rs` (the
//! struct `Options` is the table), and read through serde by `reader.rs`, which also
//! warns of unknown options. Here: the checks across options or against the core's
//! tables (`backoff.maxMs` not below `backoff.initialMs`, given the core's defaults, so
//! that its error can say which value is a default; the endpoint names of
//! `retryableEndpoints`, the core's `Endpoint::from_path`), and the defaults of absent
//! options, the core's (`Config::default`) but for the shell's own.

use alloc::string::String;

use serde::Deserialize;
use wasm_bindgen::JsValue;

use super::options::{BackoffOptions, Flag, Options};
use super::reader::{ConfigError, Reader, Setting};
#[cfg(feature = "persist")]
use crate::core::DEFAULT_MAX_AGE_MS;
use crate::core::{Backoff, Config, Endpoint, EndpointSet};

/// What the shell itself needs beyond the core's config. (`baseUrl`, `suspendUrl` and
/// the app's functions are read from `connection.config` at each use.)
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

/// `persist` (or `outboxStorage`): where the outbox is stored, under which namespace,
/// and how old a stored message may be when it is read back.
#[cfg(feature = "persist")]
pub struct PersistOptions {
    /// "indexeddb", "local", "session" or the app's own store object (`load`, `put`,
    /// `remove`; or `getItem`, `setItem`).
    pub store: JsValue,
    pub namespace: String,
    pub max_age_ms: u64,
}

/// `persist.key` by default: one outbox per origin unless the app names more.
#[cfg(feature = "persist")]
const DEFAULT_PERSIST_KEY: &str = "default";

/// Events whose data is longer than this (in UTF-16 units) are skipped.
const DEFAULT_MAX_EVENT_BYTES: u32 = 1 << 20;

/// Validates the JS config; nothing is kept when any option is wrong. The error is the
/// JS `Error` to throw.
pub fn read(config: &JsValue) -> Result<(Config, ShellOptions), JsValue> {
    Ok(read_options(config)?)
}

fn read_options(config: &JsValue) -> Result<(Config, ShellOptions), ConfigError> {
    if !config.is_object() {
        return Err(ConfigError::NotAnObject);
    }
    let options = Options::deserialize(Reader::new(config))?;
    // The defaults: the seed's, or with `strict` the existing client's current
    // contract as a whole; each option given overrides its part.
    let strict = options.strict.is_some_and(|flag| flag.0);
    let defaults = if strict {
        Config::current_contract()
    } else {
        Config::default()
    };
    #[cfg(feature = "share-tabs")]
    let sharing = options
        .share_across_tabs
        .as_ref()
        .is_some_and(|sharing| sharing.0.is_some());
    #[cfg(not(feature = "share-tabs"))]
    let sharing = false;
    let applied_events =
        acknowledge_events(options.acknowledge_events, sharing, defaults.applied_events)?;
    let foreground_probe = foreground_probe(
        options.foreground_probe.map(|flag| flag.0),
        sharing,
        defaults.foreground_probe,
    )?;
    let flag = |given: Option<Flag>, default: bool| given.map_or(default, |flag| flag.0);
    let check_url = options.auth_check_url.is_some();
    let auth_latch = auth_latch(options.auth_latch, check_url, sharing, defaults.auth_latch)?;
    let backoff = backoff(options.backoff, defaults.backoff)?;
    let retryable = match options.retryable_endpoints {
        Some(names) => retryable(names.0)?,
        None => defaults.retryable,
    };
    let post_timeout_ms = options
        .post_timeout_ms
        .map(|ms| ms.0)
        .or(defaults.post_timeout_ms);
    let core = Config {
        reconnect_delay_ms: options
            .reconnect_delay_ms
            .map_or(defaults.reconnect_delay_ms, |ms| ms.0),
        retryable,
        max_pending_sends: options
            .max_pending_sends
            .map_or(defaults.max_pending_sends, |n| n.0 as usize),
        max_stale_retries: options
            .max_stale_retries
            .map_or(defaults.max_stale_retries, |n| n.0),
        max_send_retries: options
            .max_send_retries
            .map_or(defaults.max_send_retries, |n| n.0),
        // The watchdog is off when absent (0 is refused).
        stale_after_ms: options.stale_after_ms.map(|ms| ms.0),
        post_timeout_ms,
        backoff,
        retry_jitter: flag(options.retry_jitter, defaults.retry_jitter),
        ordered_sends: flag(options.ordered_sends, defaults.ordered_sends),
        receipts: flag(options.receipts, defaults.receipts),
        send_without_stream: flag(options.send_without_stream, defaults.send_without_stream),
        prompt_outbox: flag(options.prompt_outbox, defaults.prompt_outbox),
        notices: flag(options.notices, defaults.notices),
        replay_every_welcome: flag(options.replay_every_welcome, defaults.replay_every_welcome),
        applied_events,
        foreground_probe,
        auth_latch,
    };
    let shell = ShellOptions {
        post_timeout: post_timeout_ms.is_some(),
        max_event_bytes: options
            .max_event_bytes
            .map_or(DEFAULT_MAX_EVENT_BYTES, |n| n.0),
        #[cfg(feature = "persist")]
        persist: persist_options(options.persist, options.outbox_storage)?,
        #[cfg(feature = "share-tabs")]
        share_tabs: options
            .share_across_tabs
            .and_then(|sharing| sharing.0)
            .unwrap_or_default(),
    };
    Ok((core, shell))
}

/// `foregroundProbe`, as `given` or `strict`'s `default`. The probe rides on this tab's
/// own stream, so it is not made to work across tabs (one tab holds the stream):
/// `strict` leaves it off when `sharing`, and asking for both is refused.
fn foreground_probe(
    given: Option<bool>,
    sharing: bool,
    default: bool,
) -> Result<bool, ConfigError> {
    match given {
        Some(true) if sharing => Err(ConfigError::Refused {
            path: "foregroundProbe".into(),
            refusal: "must not be true with config.shareAcrossTabs: the probe needs the page's own stream, and one tab holds the shared one",
        }),
        Some(given) => Ok(given),
        None => Ok(default && !sharing),
    }
}

/// `acknowledgeEvents`, given or from `strict`. One tab's listener applies the events
/// of its own stream, so with one stream for all tabs `strict` leaves it off and asking
/// for it is refused.
fn acknowledge_events(
    given: Option<Flag>,
    sharing: bool,
    strict_default: bool,
) -> Result<bool, ConfigError> {
    match given {
        Some(Flag(true)) if sharing => Err(ConfigError::Refused {
            path: "acknowledgeEvents".into(),
            refusal: "cannot be used with config.shareAcrossTabs: each tab applies its own stream's events",
        }),
        Some(Flag(given)) => Ok(given),
        None => Ok(strict_default && !sharing),
    }
}

/// `authLatch`, given or as `strict` says; `authCheckUrl` only with it. The latch is a
/// tab's own and the shared stream the leader's (docs/shared-stream.md), so with
/// `shareAcrossTabs` `strict` leaves it off and asking for it is refused.
fn auth_latch(
    given: Option<Flag>,
    check_url: bool,
    sharing: bool,
    default: bool,
) -> Result<bool, ConfigError> {
    let on = match given.map(|flag| flag.0) {
        Some(true) if sharing => {
            return Err(ConfigError::Refused {
                path: "authLatch".into(),
                refusal: "must not be true with config.shareAcrossTabs: the latch is not shared across tabs (strict leaves it off when sharing)",
            })
        }
        Some(on) => on,
        None => default && !sharing,
    };
    if check_url && !on {
        return Err(ConfigError::Refused {
            path: "authCheckUrl".into(),
            refusal: "is used only with config.authLatch: true (or config.strict)",
        });
    }
    Ok(on)
}

/// `persist`, or `outboxStorage` alone, which is `persist: { store: outboxStorage }`:
/// an app moving from the existing client passes its `outboxStorage` and expects what
/// it holds to be kept as that client kept it, without learning a new option. Both
/// together are refused: the store would be named twice.
#[cfg(feature = "persist")]
fn persist_options(
    persist: Option<super::options::PersistOptions>,
    outbox_storage: Option<super::options::OutboxStorage>,
) -> Result<Option<PersistOptions>, ConfigError> {
    let persist = match (persist, outbox_storage) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::Refused {
                path: "outboxStorage".into(),
                refusal: "must not be given with config.persist: give it as persist.store",
            })
        }
        (None, Some(storage)) => {
            return Ok(Some(PersistOptions {
                store: storage.0,
                namespace: DEFAULT_PERSIST_KEY.into(),
                max_age_ms: DEFAULT_MAX_AGE_MS,
            }))
        }
        (persist, None) => persist,
    };
    Ok(persist.map(|persist| PersistOptions {
        store: persist.store.0,
        namespace: persist
            .key
            .and_then(|key| key.0.as_string())
            .unwrap_or_else(|| DEFAULT_PERSIST_KEY.into()),
        max_age_ms: persist.max_age_ms.map_or(DEFAULT_MAX_AGE_MS, |ms| ms.0),
    }))
}

/// `backoff`, each delay as given or the core's default; `maxMs` must not be below
/// `initialMs`.
fn backoff(given: Option<BackoffOptions>, defaults: Backoff) -> Result<Backoff, ConfigError> {
    let (initial, max) = given.map_or((None, None), |b| (b.initial_ms, b.max_ms));
    let setting = |given: Option<u64>, default| Setting {
        ms: given.unwrap_or(default),
        given: given.is_some(),
    };
    let initial = setting(initial.map(|ms| ms.0), defaults.initial_ms);
    let max = setting(max.map(|ms| ms.0), defaults.max_ms);
    if max.ms < initial.ms {
        return Err(ConfigError::BackoffBelowInitial { max, initial });
    }
    Ok(Backoff {
        initial_ms: initial.ms,
        max_ms: max.ms,
    })
}

/// The endpoints named by `retryableEndpoints`: each must be an endpoint path, and none
/// a lifecycle one (docs/delivery-rules.md, rule 3).
fn retryable(names: alloc::vec::Vec<String>) -> Result<EndpointSet, ConfigError> {
    let mut set = EndpointSet::empty();
    for name in names {
        match Endpoint::from_path(&name) {
            Some(endpoint) if !endpoint.is_lifecycle() => set.insert(endpoint),
            Some(_) => return Err(ConfigError::LifecycleEndpoint { name }),
            None => {
                let message_type_of =
                    Endpoint::from_message_type(&name).filter(|e| !e.is_lifecycle());
                return Err(ConfigError::NotAnEndpoint {
                    name,
                    message_type_of,
                });
            }
        }
    }
    Ok(set)
}
