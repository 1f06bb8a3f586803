//! The core's settings and their defaults (those of the existing client). The options
//! are checked in the shell (src/web/options.rs and src/web/config.rs), not here.

use super::backoff::Backoff;
use super::endpoint::EndpointSet;

/// Delivery settings. `Default` reproduces the existing client. The core takes any
/// values: one the shell would refuse (a zero queue bound, say) never makes it panic,
/// it just behaves oddly.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_matches_the_existing_client() {
        let config = Config::default();
        assert_eq!(config.reconnect_delay_ms, 500);
        assert_eq!(config.max_pending_sends, 100);
        assert_eq!(config.stale_after_ms, None);
        assert_eq!(config.post_timeout_ms, None);
        assert!(!config.ordered_sends);
    }
}
