//! The core's settings, their defaults (those of the existing client), and their
//! validation with errors that name the JS option at fault.

use super::backoff::Backoff;
use super::endpoint::EndpointSet;

/// The longest delay a host timer can hold (`setTimeout` takes a signed 32-bit
/// count of milliseconds and fires at once past it).
pub const MAX_TIMER_MS: u64 = 2_147_483_647;

/// Delivery settings. `Default` reproduces the existing client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Delay before reopening the stream after the first failed reconnect POST.
    pub reconnect_delay_ms: u64,
    /// Endpoints whose messages are re-queued on 404 and retried on 5xx/429/network
    /// errors. Lifecycle endpoints are never retried whatever this says
    /// (docs/delivery-rules.md, rule 3).
    pub retryable: EndpointSet,
    /// Bound of the pending queue; overflow evicts the oldest message.
    pub max_pending_sends: usize,
    /// A message that met 404 this many times is dropped.
    pub max_stale_retries: u32,
    /// Retries of a retryable message after 5xx/429/network errors/timeouts before
    /// it is reported failed.
    pub max_send_retries: u32,
    /// Heartbeat watchdog: rebuild a stream silent for this long. Off when `None`.
    pub stale_after_ms: Option<u64>,
    /// Abort a POST unanswered for this long. Off when `None`.
    pub post_timeout_ms: Option<u64>,
    /// Delays of send retries and of the second and later reconnect attempts.
    pub backoff: Backoff,
    /// At most one retryable POST outstanding (in flight or waiting to be retried);
    /// the rest wait in the queue, so the server accepts them in send order.
    pub ordered_sends: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reconnect_delay_ms: 500,
            retryable: EndpointSet::default_retryable(),
            max_pending_sends: 100,
            max_stale_retries: 3,
            max_send_retries: 5,
            stale_after_ms: None,
            post_timeout_ms: None,
            backoff: Backoff::default(),
            ordered_sends: false,
        }
    }
}

impl Config {
    /// Checks every field; the shell refuses the config before building anything.
    /// (An unvalidated config never makes the core panic, it just behaves oddly.)
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.reconnect_delay_ms > MAX_TIMER_MS {
            return Err(ConfigError::ReconnectDelayMs);
        }
        if self.max_pending_sends == 0 {
            return Err(ConfigError::MaxPendingSends);
        }
        if self.max_stale_retries == 0 {
            return Err(ConfigError::MaxStaleRetries);
        }
        if !optional_delay_ok(self.stale_after_ms) {
            return Err(ConfigError::StaleAfterMs);
        }
        if !optional_delay_ok(self.post_timeout_ms) {
            return Err(ConfigError::PostTimeoutMs);
        }
        if self.backoff.initial_ms == 0 || self.backoff.initial_ms > MAX_TIMER_MS {
            return Err(ConfigError::BackoffInitialMs);
        }
        if self.backoff.max_ms < self.backoff.initial_ms || self.backoff.max_ms > MAX_TIMER_MS {
            return Err(ConfigError::BackoffMaxMs);
        }
        Ok(())
    }
}

fn optional_delay_ok(ms: Option<u64>) -> bool {
    !matches!(ms, Some(ms) if ms == 0 || ms > MAX_TIMER_MS)
}

/// A config field out of range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    ReconnectDelayMs,
    MaxPendingSends,
    MaxStaleRetries,
    StaleAfterMs,
    PostTimeoutMs,
    BackoffInitialMs,
    BackoffMaxMs,
}

impl ConfigError {
    pub fn message(&self) -> &'static str {
        match self {
            ConfigError::ReconnectDelayMs => {
                "reconnectDelayMs must be a number of milliseconds from 0 to 2147483647"
            }
            ConfigError::MaxPendingSends => "maxPendingSends must be a positive integer",
            ConfigError::MaxStaleRetries => "maxStaleRetries must be a positive integer",
            ConfigError::StaleAfterMs => {
                "staleAfterMs must be a positive number of milliseconds up to 2147483647"
            }
            ConfigError::PostTimeoutMs => {
                "postTimeoutMs must be a positive number of milliseconds up to 2147483647"
            }
            ConfigError::BackoffInitialMs => {
                "backoff.initialMs must be a positive number of milliseconds up to 2147483647"
            }
            ConfigError::BackoffMaxMs => {
                "backoff.maxMs must be at least backoff.initialMs and at most 2147483647"
            }
        }
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid_and_matches_the_existing_client() {
        let config = Config::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.reconnect_delay_ms, 500);
        assert_eq!(config.max_pending_sends, 100);
        assert_eq!(config.stale_after_ms, None);
        assert_eq!(config.post_timeout_ms, None);
        assert!(!config.ordered_sends);
    }

    #[test]
    fn zero_queue_bound_is_refused_naming_the_field() {
        let config = Config {
            max_pending_sends: 0,
            ..Config::default()
        };
        let error = config.validate().unwrap_err();
        assert_eq!(error, ConfigError::MaxPendingSends);
        assert_eq!(
            error.to_string(),
            "maxPendingSends must be a positive integer"
        );
    }

    #[test]
    fn each_out_of_range_field_gets_its_own_error() {
        let cases: [(Config, ConfigError); 7] = [
            (
                Config {
                    reconnect_delay_ms: MAX_TIMER_MS + 1,
                    ..Config::default()
                },
                ConfigError::ReconnectDelayMs,
            ),
            (
                Config {
                    max_stale_retries: 0,
                    ..Config::default()
                },
                ConfigError::MaxStaleRetries,
            ),
            (
                Config {
                    stale_after_ms: Some(0),
                    ..Config::default()
                },
                ConfigError::StaleAfterMs,
            ),
            (
                Config {
                    post_timeout_ms: Some(MAX_TIMER_MS + 1),
                    ..Config::default()
                },
                ConfigError::PostTimeoutMs,
            ),
            (
                Config {
                    backoff: Backoff {
                        initial_ms: 0,
                        max_ms: 10,
                    },
                    ..Config::default()
                },
                ConfigError::BackoffInitialMs,
            ),
            (
                Config {
                    backoff: Backoff {
                        initial_ms: 100,
                        max_ms: 10,
                    },
                    ..Config::default()
                },
                ConfigError::BackoffMaxMs,
            ),
            (
                Config {
                    max_pending_sends: 0,
                    ..Config::default()
                },
                ConfigError::MaxPendingSends,
            ),
        ];
        for (config, expected) in cases {
            assert_eq!(config.validate(), Err(expected));
            assert!(expected.message().contains(field_name(expected)));
        }
    }

    #[test]
    fn zero_reconnect_delay_is_allowed() {
        let config = Config {
            reconnect_delay_ms: 0,
            ..Config::default()
        };
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn every_limit_itself_is_allowed_and_one_past_it_is_not() {
        let at_the_limits = Config {
            reconnect_delay_ms: MAX_TIMER_MS,
            max_pending_sends: 1,
            max_stale_retries: 1,
            stale_after_ms: Some(MAX_TIMER_MS),
            post_timeout_ms: Some(1),
            backoff: Backoff {
                initial_ms: MAX_TIMER_MS,
                max_ms: MAX_TIMER_MS,
            },
            ..Config::default()
        };
        assert_eq!(at_the_limits.validate(), Ok(()));
        let low = Config {
            stale_after_ms: Some(1),
            post_timeout_ms: Some(MAX_TIMER_MS),
            backoff: Backoff {
                initial_ms: 1,
                max_ms: 1,
            },
            ..Config::default()
        };
        assert_eq!(low.validate(), Ok(()));
        let past = |config: Config| config.validate().unwrap_err();
        assert_eq!(
            past(Config {
                stale_after_ms: Some(MAX_TIMER_MS + 1),
                ..Config::default()
            }),
            ConfigError::StaleAfterMs
        );
        assert_eq!(
            past(Config {
                post_timeout_ms: Some(0),
                ..Config::default()
            }),
            ConfigError::PostTimeoutMs
        );
        assert_eq!(
            past(Config {
                backoff: Backoff {
                    initial_ms: MAX_TIMER_MS + 1,
                    max_ms: MAX_TIMER_MS + 1,
                },
                ..Config::default()
            }),
            ConfigError::BackoffInitialMs
        );
        assert_eq!(
            past(Config {
                backoff: Backoff {
                    initial_ms: 1,
                    max_ms: MAX_TIMER_MS + 1,
                },
                ..Config::default()
            }),
            ConfigError::BackoffMaxMs
        );
    }

    fn field_name(error: ConfigError) -> &'static str {
        match error {
            ConfigError::ReconnectDelayMs => "reconnectDelayMs",
            ConfigError::MaxPendingSends => "maxPendingSends",
            ConfigError::MaxStaleRetries => "maxStaleRetries",
            ConfigError::StaleAfterMs => "staleAfterMs",
            ConfigError::PostTimeoutMs => "postTimeoutMs",
            ConfigError::BackoffInitialMs => "backoff.initialMs",
            ConfigError::BackoffMaxMs => "backoff.maxMs",
        }
    }
}
