//! The `Machine`: its state, construction, the action queue and the read-only
//! accessors. What it does on each input lives in `lifecycle` (stream and
//! connection state), `delivery` (messages) and `timer` (deadlines).

use alloc::string::String;
use alloc::vec::Vec;

use super::action::Action;
use super::auth::Auth;
use super::chain::Chain;
use super::config::Config;
use super::flight::Flights;
use super::ids::{MsgId, PostId, StreamId};
use super::lifecycle::Phase;
use super::persist::Outbox;
use super::probe::Probe;
use super::prompts::Prompts;
use super::queue::Queue;
use super::replay::Replay;
use super::retry::Retries;
use super::rng::Rng;
use super::seq;
use super::sessions::Sessions;
use super::stats::Stats;

/// The sans-IO delivery state machine. Feed it inputs (each with the current time
/// in milliseconds), then drain `poll_action` and re-arm one host timer at
/// `poll_timeout`.
#[derive(Clone, Debug)]
pub struct Machine {
    pub(super) config: Config,
    pub(super) rng: Rng,
    pub(super) phase: Phase,
    /// Bumps on every new stream, welcome, stream error, scheduled reconnect and
    /// disconnect: anything that ends the connection a POST was sent on. A POST
    /// answer from an older generation is late and never changes connection state.
    pub(super) generation: u32,
    pub(super) connection_id: Option<String>,
    /// The existing client's `_isReconnect`: a welcome was seen before, so the next
    /// one needs a reconnect POST (if sessions are tracked).
    pub(super) welcomed_before: bool,
    /// Failed reconnect attempts in a row, for the reconnect backoff.
    pub(super) reconnect_failures: u32,
    /// Last sign of life on the current stream, for the heartbeat watchdog.
    pub(super) last_activity: u64,
    pub(super) sessions: Sessions,
    pub(super) queue: Queue,
    pub(super) flights: Flights,
    pub(super) retries: Retries,
    /// The unsettled prompts (the existing client's current contract; empty when off).
    pub(super) prompts: Prompts,
    pub(super) replay: Replay,
    /// The foreground probe (`foreground_probe`; off, never started).
    pub(super) probe: Probe,
    /// Acknowledged application (`applied_events`; empty when off).
    pub(super) chain: Chain,
    next_msg: u32,
    next_stream: u32,
    next_post: u32,
    pub(super) actions: Vec<Action>,
    pub(super) stats: Stats,
    /// The persisted outbox, when on (`with_persist`; docs/persisted-outbox.md).
    pub(super) persist: Option<alloc::boxed::Box<dyn Outbox>>,
    /// With the outbox on, until the first `restore`: retryable messages wait.
    pub(super) restore_gate: bool,
    /// The authentication latch (`Config::auth_latch`).
    pub(super) auth: Auth,
}

impl Machine {
    /// `seed` feeds the backoff jitter; give each client a different one.
    pub fn new(config: Config, seed: u64) -> Self {
        Machine {
            config,
            rng: Rng::new(seed),
            phase: Phase::Idle,
            generation: 0,
            connection_id: None,
            welcomed_before: false,
            reconnect_failures: 0,
            last_activity: 0,
            sessions: Sessions::default(),
            queue: Queue::default(),
            flights: Flights::default(),
            retries: Retries::default(),
            prompts: Prompts::default(),
            replay: Replay::default(),
            probe: Probe::default(),
            chain: Chain::default(),
            next_msg: 0,
            next_stream: 0,
            next_post: 0,
            actions: Vec::new(),
            stats: Stats::default(),
            persist: None,
            restore_gate: false,
            auth: Auth::default(),
        }
    }

    /// The next thing to carry out, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        // A handful at a time: shifting a Vec costs less code than a VecDeque.
        seq::pop_front(&mut self.actions)
    }

    /// Connected: the welcome came and, on a reconnect, the reconnect POST succeeded.
    pub fn is_connected(&self) -> bool {
        matches!(self.phase, Phase::Connected { .. })
    }

    /// The id of the latest welcome; kept after disconnect, like the existing client.
    pub fn connection_id(&self) -> Option<&str> {
        self.connection_id.as_deref()
    }

    /// The stream events are accepted from, if any.
    pub fn current_stream(&self) -> Option<StreamId> {
        self.phase.stream()
    }

    /// Messages in the send queue, not yet posted (or back in it after a 404 or
    /// `disconnect`): JS `pendingCount`.
    pub fn pending_len(&self) -> usize {
        self.queue.len()
    }

    /// Messages posted and not yet settled: awaiting their POST's answer or waiting out
    /// the backoff before their retry (reconnect and suspend POSTs not counted): JS
    /// `inFlightCount`. Every unsettled message is either pending or in flight.
    pub fn in_flight_len(&self) -> usize {
        self.flights.messages().count() + self.retries.len()
    }

    /// Of the messages in flight, those waiting out a retry backoff.
    pub fn retrying_len(&self) -> usize {
        self.retries.len()
    }

    /// The settings it was built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn track_seq(&mut self, session_id: &str, seq: u64) {
        self.sessions.track(session_id, seq);
    }

    /// 0 if the session is unknown.
    pub fn last_seq(&self, session_id: &str) -> u64 {
        self.sessions.last_seq(session_id).unwrap_or(0)
    }

    pub fn clear_session(&mut self, session_id: &str) {
        self.sessions.clear(session_id);
    }

    /// Tracked session ids, in the order they were first tracked.
    pub fn tracked_sessions(&self) -> impl Iterator<Item = &str> {
        self.sessions.ids()
    }

    pub(super) fn push(&mut self, action: Action) {
        self.actions.push(action);
    }

    pub(super) fn alloc_msg(&mut self) -> MsgId {
        self.next_msg = self.next_msg.wrapping_add(1);
        MsgId(self.next_msg)
    }

    /// The next message id `alloc_msg` gives is `first`.
    pub(super) fn start_ids_at(&mut self, first: u32) {
        self.next_msg = first.wrapping_sub(1);
    }

    pub(super) fn alloc_stream(&mut self) -> StreamId {
        self.next_stream = self.next_stream.wrapping_add(1);
        StreamId(self.next_stream)
    }

    pub(super) fn alloc_post(&mut self) -> PostId {
        self.next_post = self.next_post.wrapping_add(1);
        PostId(self.next_post)
    }

    pub(super) fn bump_generation(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        // A probe belongs to the connection it was sent on (rule 23).
        self.probe.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::endpoint::Endpoint;
    use crate::core::outcome::SendOutcome;

    #[test]
    fn config_gives_back_the_settings_it_was_built_with() {
        // The shell reads its switches there (`applied_events` chooses the listener's
        // path), so it must be the machine's own, not a default.
        let config = Config {
            applied_events: true,
            max_pending_sends: 7,
            ..Config::default()
        };
        let m = Machine::new(config.clone(), 1);
        assert_eq!(m.config(), &config);
        assert_ne!(m.config(), &Config::default());
    }

    #[test]
    fn new_machine_is_idle_with_nothing_to_do() {
        let mut m = Machine::new(Config::default(), 1);
        assert_eq!(m.poll_action(), None);
        assert_eq!(m.poll_timeout(), None);
        assert!(!m.is_connected());
        assert_eq!(m.connection_id(), None);
        assert_eq!(m.current_stream(), None);
    }

    #[test]
    fn message_ids_increase_in_send_order() {
        let mut m = Machine::new(Config::default(), 1);
        m.connect(0);
        let ids: Vec<SendOutcome> = (0..3).map(|_| m.send(0, Endpoint::Send)).collect();
        assert_eq!(
            ids,
            [
                SendOutcome::Queued(MsgId(1)),
                SendOutcome::Queued(MsgId(2)),
                SendOutcome::Queued(MsgId(3))
            ]
        );
    }

    #[test]
    fn refused_send_allocates_no_id() {
        let mut m = Machine::new(Config::default(), 1);
        assert_eq!(m.send(0, Endpoint::Send), SendOutcome::Refused);
        m.connect(0);
        assert_eq!(m.send(0, Endpoint::Send), SendOutcome::Queued(MsgId(1)));
    }
}
