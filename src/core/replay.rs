//! The reconnect POST: the request that the server replay the tracked sessions over
//! the current connection (docs/delivery-rules.md, rules 1, 7, 8 and 18).
//!
//! It follows a welcome when sessions are tracked: every welcome but the connection
//! object's first one (the existing client), or every one (`replay_every_welcome`, or
//! when a receipt named a session no connection has replayed yet). While a welcome's
//! reconnect POST is in flight the connection is handshaking: sends wait, and `_open`
//! comes once the last reconnect POST is answered `ok`. A receipt naming a new session
//! asks for a replay too (`prompt_outbox`). Requests are serialised: one reconnect POST
//! at a time per connection; a request while one is in flight marks it dirty, and one
//! more follows its answer.

use alloc::borrow::ToOwned;

use super::action::{Action, Body, Warning};
use super::endpoint::Endpoint;
use super::flight::{Flight, Purpose};
use super::lifecycle::Phase;
use super::machine::Machine;
use super::outcome::PostOutcome;
use super::stats::bump;

/// Where the replay requests stand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Replay {
    /// The generation whose reconnect POST is in flight, if any.
    in_flight: Option<u32>,
    /// Asked for again while that POST was in flight: one more follows it.
    dirty: bool,
    /// Asked for with no connection to ask on: the next welcome replays.
    owed: bool,
}

impl Machine {
    /// Whether this welcome must be followed by the reconnect POST.
    pub(super) fn welcome_needs_replay(&self) -> bool {
        let wanted = self.welcomed_before || self.config.replay_every_welcome || self.replay.owed;
        wanted && !self.sessions.is_empty()
    }

    /// The connection id while a welcome of the current stream is known: what a POST
    /// may carry as `X-Connection-ID` without the stream being confirmed.
    pub(super) fn live_connection_id(&self) -> Option<&str> {
        match self.phase {
            Phase::Handshaking { .. } | Phase::Connected { .. } => self.connection_id.as_deref(),
            _ => None,
        }
    }

    /// Asks the server to replay the tracked sessions now, after the reconnect POST in
    /// flight, or at the next welcome when there is no connection to ask on.
    pub(super) fn request_replay(&mut self, now: u64) {
        if self.live_connection_id().is_none() {
            self.replay.owed = true;
        } else if self.replay.in_flight == Some(self.generation) {
            self.replay.dirty = true;
        } else {
            self.post_reconnect(now);
        }
    }

    pub(super) fn post_reconnect(&mut self, now: u64) {
        let Some(connection_id) = self.connection_id.as_deref().map(ToOwned::to_owned) else {
            return;
        };
        self.replay = Replay {
            in_flight: Some(self.generation),
            dirty: false,
            owed: false,
        };
        bump(&mut self.stats.reconnect_posts);
        let id = self.alloc_post();
        self.flights.push(Flight {
            post: id,
            generation: self.generation,
            deadline: self.post_deadline(now),
            purpose: Purpose::Reconnect,
        });
        self.push(Action::Post {
            id,
            endpoint: Endpoint::Reconnect,
            connection_id,
            body: Body::Reconnect(self.sessions.snapshot()),
            keepalive: false,
        });
    }

    /// The answer to the reconnect POST sent on `generation` (a late one is only
    /// counted, by `settle`). A failure rebuilds the stream later; a success confirms
    /// the connection, unless another request came meanwhile: its POST goes first.
    pub(super) fn on_reconnect_answer(&mut self, now: u64, generation: u32, outcome: PostOutcome) {
        let (stream, handshaking) = match self.phase {
            _ if generation != self.generation => return,
            Phase::Handshaking { stream } => (stream, true),
            Phase::Connected { stream } => (stream, false),
            _ => return,
        };
        self.replay.in_flight = None;
        if !outcome.is_ok() {
            bump(&mut self.stats.reconnect_post_failures);
            self.push(Action::Warn(Warning::ReconnectPostFailed(outcome)));
            self.schedule_reconnect(now);
        } else if self.replay.dirty {
            self.post_reconnect(now);
        } else if handshaking {
            self.become_connected(now, stream);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Config;
    use crate::core::ids::StreamId;

    fn machine(replay_every_welcome: bool) -> Machine {
        let config = Config {
            replay_every_welcome,
            ..Config::default()
        };
        let mut m = Machine::new(config, 1);
        m.connect(0);
        m
    }

    #[test]
    fn a_first_welcome_replays_only_when_asked_and_only_with_sessions() {
        let mut m = machine(false);
        m.track_seq("s", 1);
        assert!(!m.welcome_needs_replay(), "the existing client");
        m.replay.owed = true;
        assert!(m.welcome_needs_replay(), "a receipt's session is owed one");
        let mut m = machine(true);
        assert!(!m.welcome_needs_replay(), "no session, nothing to replay");
        m.track_seq("s", 1);
        assert!(m.welcome_needs_replay());
    }

    #[test]
    fn the_connection_id_is_live_only_once_the_current_stream_is_welcomed() {
        let mut m = machine(false);
        assert_eq!(m.live_connection_id(), None);
        m.on_welcome(0, StreamId(1), "c1");
        assert_eq!(m.live_connection_id(), Some("c1"));
        m.on_stream_error(0, StreamId(1), false);
        assert_eq!(m.connection_id(), Some("c1"), "kept");
        assert_eq!(m.live_connection_id(), None, "but no longer live");
    }

    #[test]
    fn a_request_without_a_connection_is_owed_to_the_next_welcome() {
        let mut m = machine(false);
        m.track_seq("s", 0);
        m.request_replay(0);
        assert!(m.replay.owed);
        assert_eq!(m.poll_action(), Some(Action::OpenStream(StreamId(1))));
        assert_eq!(m.poll_action(), None, "nothing posted");
    }
}
