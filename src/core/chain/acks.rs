//! The acknowledgements owed to the server (`/api/chat/session-event-applied`): per
//! session, one POST at a time and in order, each with its own timeout
//! ([`ACK_TIMEOUT_MS`]). An acknowledgement says "applied up to this seq", so those
//! owed while one is in flight fold into one: the highest. A failed or timed-out one
//! forces a reconnect, whose reconnect POST names the cursors anyway.

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::action::Action;
use crate::core::flight::{Flight, Purpose};
use crate::core::ids::PostId;
use crate::core::machine::Machine;
use crate::core::outcome::PostOutcome;
use crate::core::stats::bump;

/// Every acknowledgement POST is given up after this long.
pub const ACK_TIMEOUT_MS: u64 = 10_000;

#[derive(Clone, Debug, PartialEq, Eq)]
struct SessionAcks {
    session: String,
    in_flight: Option<PostId>,
    owed: Option<u64>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Acks(Vec<SessionAcks>);

impl Acks {
    fn owe(&mut self, session: &str, seq: u64) {
        match self.0.iter_mut().find(|s| s.session == session) {
            Some(entry) => entry.owed = Some(entry.owed.map_or(seq, |owed| owed.max(seq))),
            None => self.0.push(SessionAcks {
                session: session.into(),
                in_flight: None,
                owed: Some(seq),
            }),
        }
    }

    /// A session with an acknowledgement owed and none in flight.
    fn ready(&mut self) -> Option<&mut SessionAcks> {
        self.0
            .iter_mut()
            .find(|s| s.in_flight.is_none() && s.owed.is_some())
    }

    /// Takes the next acknowledgement to post as `post`: its session and seq.
    fn start(&mut self, post: PostId) -> Option<(String, u64)> {
        let entry = self.ready()?;
        let seq = entry.owed.take()?;
        entry.in_flight = Some(post);
        Some((entry.session.clone(), seq))
    }

    /// The POST in flight ended; false if it was not one of ours.
    fn landed(&mut self, post: PostId) -> bool {
        match self.0.iter_mut().find(|s| s.in_flight == Some(post)) {
            Some(entry) => {
                entry.in_flight = None;
                true
            }
            None => false,
        }
    }
}

impl Machine {
    /// Owes the server the acknowledgement of `seq` in `session`, posted as soon as
    /// the session has none in flight and a connection is known.
    pub(in crate::core) fn owe_ack(&mut self, now: u64, session: &str, seq: u64) {
        self.chain.acks.owe(session, seq);
        self.post_acks(now);
    }

    /// Posts every acknowledgement that may go now. Without a welcomed connection they
    /// wait for one (`flush` calls this).
    pub(in crate::core) fn post_acks(&mut self, now: u64) {
        while self.live_connection_id().is_some() && self.chain.acks.ready().is_some() {
            let id = self.alloc_post();
            let Some((session, seq)) = self.chain.acks.start(id) else {
                return;
            };
            bump(&mut self.stats.acks_posted);
            self.flights.push(Flight {
                post: id,
                generation: self.generation,
                deadline: Some(now.saturating_add(ACK_TIMEOUT_MS)),
                purpose: Purpose::Applied,
            });
            self.push(Action::PostApplied {
                id,
                connection_id: self.live_connection_id().map(Into::into),
                session_id: session,
                seq,
            });
        }
    }

    /// The answer to an acknowledgement POST sent on `generation`. A failure on the
    /// current connection rebuilds it; a late one only frees the session's slot.
    pub(in crate::core) fn on_ack_answer(
        &mut self,
        now: u64,
        post: PostId,
        generation: u32,
        outcome: PostOutcome,
    ) {
        if !self.chain.acks.landed(post) {
            return;
        }
        if outcome.is_ok() {
            self.post_acks(now);
        } else if generation == self.generation {
            bump(&mut self.stats.ack_failures);
            self.restart_stream(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_owed_while_one_is_in_flight_fold_into_the_highest() {
        let mut acks = Acks::default();
        acks.owe("a", 3);
        assert_eq!(acks.start(PostId(1)), Some(("a".into(), 3)));
        acks.owe("a", 5);
        acks.owe("a", 4);
        acks.owe("b", 1);
        assert_eq!(acks.start(PostId(2)), Some(("b".into(), 1)));
        assert_eq!(acks.start(PostId(3)), None, "a waits for its POST");
        assert!(acks.landed(PostId(1)));
        assert!(!acks.landed(PostId(1)), "once");
        assert_eq!(acks.start(PostId(4)), Some(("a".into(), 5)));
    }

    #[test]
    fn the_timeout_is_ten_seconds() {
        assert_eq!(ACK_TIMEOUT_MS, 10_000);
    }
}
