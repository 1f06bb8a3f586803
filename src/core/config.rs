//! The core's settings and their defaults (those of the existing client). The options
//! are checked in the shell (src/web/options.rs and src/web/config.rs), not here.
//!
//! The existing client's *current* contract (issue 22: receipts, prompts that do not
//! wait for the stream, its outbox rules, per-prompt notices, replay on every welcome,
//! its retry policy) is a set of opt-in fields, each off by default;
//! [`Config::current_contract`] turns them all on at once
//! (docs/delivery-rules.md, rules 14 to 19).

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
    /// Retries of a retryable message after 5xx/429/network errors/timeouts (and, with
    /// `receipts`, 2xx answers without a receipt) before it is reported failed;
    /// [`Config::UNLIMITED_RETRIES`] never gives up.
    pub max_send_retries: u32,
    /// Heartbeat watchdog: rebuild a stream silent for this long. Off when `None`.
    pub stale_after_ms: Option<u64>,
    /// Abort a POST unanswered for this long. Off when `None`.
    pub post_timeout_ms: Option<u64>,
    /// Delays of send retries and of the second and later reconnect attempts.
    pub backoff: Backoff,
    /// Each backoff delay is drawn between half and all of its ceiling; off, it is the
    /// ceiling itself, min(`max_ms`, `initial_ms` × 2ⁿ), as the existing client waits.
    pub retry_jitter: bool,
    /// At most one retryable POST outstanding (in flight or waiting to be retried);
    /// the rest wait in the queue, so the server accepts them in send order.
    pub ordered_sends: bool,
    /// A 2xx answer to a prompt counts only with its receipt,
    /// `{accepted: true, clientMsgId: <its own>, sessionId: string | null}`; any other
    /// 2xx is ambiguous and the prompt is sent again, same body, under the retry rules
    /// (docs/delivery-rules.md, rule 14).
    pub receipts: bool,
    /// Prompts go out at once, one at a time and in send order, whether or not a
    /// stream is connected (with `X-Connection-ID` only when one is); a 404 on a prompt
    /// is final. Other messages still wait for the connection (rule 15).
    pub send_without_stream: bool,
    /// The outbox keeps what the user typed: a full outbox refuses new prompts instead
    /// of evicting, `clear_pending_sends` keeps prompts, prompts of one draft with no
    /// session take the session of the first receipt that names one, and a session a
    /// receipt names is tracked and replayed (rule 16).
    pub prompt_outbox: bool,
    /// Per-prompt notices (`Action::Prompt`) and the errors of failed control messages
    /// (`Action::ControlFailed`) for the app's listener (rule 17).
    pub notices: bool,
    /// With tracked sessions, the first welcome too is followed by the reconnect POST,
    /// so that sessions known before the stream opened are replayed (rule 18).
    pub replay_every_welcome: bool,
    /// Back in the foreground on a connection that looks connected, probe it: a POST
    /// whose echo must come down the stream within a second, else the stream is
    /// rebuilt; a page restored from the back/forward cache rebuilds it at once
    /// (docs/delivery-rules.md, rule 23).
    pub foreground_probe: bool,
    /// Events that carry `prevSessionSeq` are chained per session and count as seen
    /// only once the app's listener applied them; gaps are held and resynced, snapshot
    /// offers wait for the app (docs/delivery-rules.md, rules 20 to 22).
    pub applied_events: bool,
    /// The authentication latch: an `auth_expired` event, or a 401 from the check
    /// asked for after a stream error, closes the stream, settles every message and
    /// holds every reconnect until `restore_authentication` (rule 24).
    pub auth_latch: bool,
}

impl Config {
    /// `max_send_retries` that never gives up: the existing client retries a prompt
    /// until it is accepted.
    pub const UNLIMITED_RETRIES: u32 = u32::MAX;

    /// The existing client's current contract as a whole: every opt-in of issue 22 on,
    /// issue 23's acknowledged application (`applied_events`) and authentication latch
    /// (`auth_latch`), and its retry policy (no limit,
    /// min(1 s × 2ⁿ, 10 s) without jitter, 15 s timeout on every POST). The rest stays as [`Config::default`].
    pub fn current_contract() -> Self {
        Config {
            max_send_retries: Self::UNLIMITED_RETRIES,
            post_timeout_ms: Some(15_000),
            backoff: Backoff {
                initial_ms: 1_000,
                max_ms: 10_000,
            },
            retry_jitter: false,
            receipts: true,
            send_without_stream: true,
            prompt_outbox: true,
            notices: true,
            replay_every_welcome: true,
            foreground_probe: true,
            applied_events: true,
            auth_latch: true,
            ..Config::default()
        }
    }

    /// A message that met a retryable failure after `retries` retries may be retried
    /// once more.
    pub(crate) fn may_retry(&self, retries: u32) -> bool {
        self.max_send_retries == Self::UNLIMITED_RETRIES || retries < self.max_send_retries
    }
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
            retry_jitter: true,
            ordered_sends: false,
            receipts: false,
            send_without_stream: false,
            prompt_outbox: false,
            notices: false,
            replay_every_welcome: false,
            foreground_probe: false,
            applied_events: false,
            auth_latch: false,
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
        assert!(config.retry_jitter);
        assert_eq!(config.max_send_retries, 5);
        let contract_off = !config.receipts
            && !config.send_without_stream
            && !config.prompt_outbox
            && !config.notices
            && !config.replay_every_welcome
            && !config.applied_events;
        assert!(contract_off, "issue 22's contract is opt-in");
        assert!(!config.foreground_probe, "issue 23's probe is opt-in");
        assert!(!config.auth_latch, "issue 23's latch is opt-in");
    }

    #[test]
    fn current_contract_is_the_existing_clients_retry_policy_with_every_part_on() {
        let config = Config::current_contract();
        assert!(config.receipts && config.send_without_stream && config.prompt_outbox);
        assert!(config.notices && config.replay_every_welcome && config.applied_events);
        assert!(config.foreground_probe);
        assert!(config.auth_latch);
        assert_eq!(config.max_send_retries, Config::UNLIMITED_RETRIES);
        assert_eq!(config.post_timeout_ms, Some(15_000));
        assert_eq!(
            (
                config.backoff.ceiling(0),
                config.backoff.ceiling(3),
                config.backoff.ceiling(9)
            ),
            (1_000, 8_000, 10_000)
        );
        assert!(!config.retry_jitter);
        assert_eq!(
            config.max_pending_sends,
            Config::default().max_pending_sends
        );
    }

    #[test]
    fn retries_stop_at_the_limit_unless_unlimited() {
        let limited = Config {
            max_send_retries: 2,
            ..Config::default()
        };
        assert!(limited.may_retry(1));
        assert!(!limited.may_retry(2));
        let unlimited = Config::current_contract();
        assert!(unlimited.may_retry(0));
        assert!(unlimited.may_retry(u32::MAX - 1));
        assert!(unlimited.may_retry(u32::MAX), "never gives up");
    }
}
