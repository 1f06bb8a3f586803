//! Acknowledged application (opt-in, `Config::applied_events`; docs/delivery-rules.md,
//! rules 20 to 22): events that carry `prevSessionSeq` are chained per session, and a
//! session's cursor (its tracked seq) moves only when the app's listener says it
//! applied the event. This module owns the decisions: which event to hand to the
//! listener now, which to hold (a gap before it, or a snapshot offer open on its
//! session), which to drop as a duplicate, and when the chain is broken beyond repair
//! and the events must be asked for again from the cursor (a *resync*: a forced
//! reconnect whose reconnect POST names the cursors). The acknowledgements it owes
//! the server are in `acks`, the snapshot offers in `offers`.
//!
//! The chain rule: an event `(seq, prev)` of a session whose cursor is `c` is
//! - a duplicate when `seq <= c` (acknowledged again, not dispatched);
//! - next when `prev <= c < seq`: dispatched, and applied only if the listener returns
//!   `true` (then the cursor becomes `seq` and an acknowledgement is owed);
//! - behind a gap when `prev > c`: held, at most [`MAX_HELD_EVENTS`] events or
//!   [`MAX_HELD_BYTES`] per connection, until the gap fills, for at most
//!   [`GAP_TIMEOUT_MS`].
//!
//! A session seen for the first time starts at cursor 0, so its chain is applied from
//! its first event (a session joined midway asks for the rest by resyncing).

mod acks;
mod offers;

use alloc::string::String;
use alloc::vec::Vec;

use super::action::Action;
use super::ids::{EventKey, StreamId};
use super::machine::Machine;
use super::seq;
use super::stats::bump;

pub(crate) use acks::Acks;
pub use acks::ACK_TIMEOUT_MS;
pub(crate) use offers::Offers;
pub use offers::OFFER_TIMEOUT_MS;

/// Events held per connection, at most (the existing client's bound).
pub const MAX_HELD_EVENTS: usize = 256;
/// Bytes of held events per connection, at most (UTF-16 units of their data).
pub const MAX_HELD_BYTES: usize = 2 * 1024 * 1024;
/// A gap still open this long after its first held event forces a resync.
pub const GAP_TIMEOUT_MS: u64 = 15_000;

/// What the shell does with a chained event (`on_chained_event`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainVerdict {
    /// Hand it to the listener now, then report what it returned with `on_applied`.
    Apply(EventKey),
    /// Keep it under this key until `Action::Apply` or `Action::Discard` names it.
    Hold(EventKey),
    /// At or below the cursor (or held already): not dispatched.
    Duplicate,
    /// From a stream that is no longer current, or the chain was given up on (the
    /// resync asks for it again).
    Ignored,
}

/// What the listener returned for an event it was handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// `true`: applied; the cursor moves and the server is told.
    Yes,
    /// Anything else but `false`: not applied yet; the cursor stays (the app may move
    /// it later with `commit_transcript_cursor`, or the event comes again).
    NotYet,
    /// `false`, or the listener threw: resync.
    Refused,
}

/// A chained event kept for later.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Held {
    key: EventKey,
    session: String,
    seq: u64,
    prev: u64,
    bytes: usize,
    since: u64,
}

/// An event handed to the listener whose answer has not come yet.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Handed {
    key: EventKey,
    session: String,
    seq: u64,
}

/// The chain's state: held events, the events being applied, acknowledgements owed
/// and snapshot offers open.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chain {
    held: Vec<Held>,
    held_bytes: usize,
    handed: Vec<Handed>,
    next_key: u32,
    pub(super) acks: Acks,
    pub(super) offers: Offers,
}

impl Chain {
    fn alloc_key(&mut self) -> EventKey {
        self.next_key = self.next_key.wrapping_add(1);
        EventKey(self.next_key)
    }

    fn is_held(&self, session: &str, seq: u64) -> bool {
        self.held
            .iter()
            .any(|h| h.seq == seq && h.session == session)
    }

    /// When the oldest gap has waited long enough: held events of a session with an
    /// open offer wait for the offer instead.
    pub(super) fn gap_deadline(&self) -> Option<u64> {
        self.held
            .iter()
            .filter(|h| !self.offers.is_open(&h.session))
            .map(|h| h.since.saturating_add(GAP_TIMEOUT_MS))
            .min()
    }

    /// Takes the held event of `session` that follows `cursor`, lowest seq first.
    fn take_next(&mut self, session: &str, cursor: u64) -> Option<Held> {
        let at = self
            .held
            .iter()
            .enumerate()
            .filter(|(_, h)| h.session == session && h.prev <= cursor && cursor < h.seq)
            .min_by_key(|(_, h)| h.seq)
            .map(|(at, _)| at)?;
        let held = seq::remove_at(&mut self.held, at)?;
        self.held_bytes -= held.bytes;
        Some(held)
    }

    /// Drops the held events of `session` at or below `cursor`, giving their keys.
    fn take_covered(&mut self, session: &str, cursor: u64) -> Vec<EventKey> {
        let mut keys = Vec::new();
        let mut kept = Vec::with_capacity(self.held.len());
        for held in self.held.drain(..) {
            if held.session == session && held.seq <= cursor {
                self.held_bytes -= held.bytes;
                keys.push(held.key);
            } else {
                kept.push(held);
            }
        }
        self.held = kept;
        keys
    }

    /// Empties the chain of a stream that is gone: every held event (giving their
    /// keys), every event being applied and every open snapshot offer.
    fn reset(&mut self) -> Vec<EventKey> {
        self.held_bytes = 0;
        self.handed.clear();
        self.offers.clear();
        self.held.drain(..).map(|h| h.key).collect()
    }
}

impl Machine {
    /// A server event that carries `prevSessionSeq` (with `applied_events` on; the
    /// shell routes other events through `on_event`). `bytes` is the size of its data,
    /// for the held-events bound.
    pub fn on_chained_event(
        &mut self,
        now: u64,
        stream: StreamId,
        session: &str,
        seq: u64,
        prev: u64,
        bytes: usize,
    ) -> ChainVerdict {
        if self.phase.stream() != Some(stream) {
            return ChainVerdict::Ignored;
        }
        self.last_activity = now;
        let cursor = self.track_cursor(session);
        if seq <= cursor || self.chain.is_held(session, seq) {
            bump(&mut self.stats.duplicates_skipped);
            if seq <= cursor {
                self.owe_ack(now, session, seq);
            }
            return ChainVerdict::Duplicate;
        }
        let key = self.chain.alloc_key();
        if prev <= cursor && !self.chain.offers.is_open(session) {
            self.chain.handed.push(Handed {
                key,
                session: session.into(),
                seq,
            });
            return ChainVerdict::Apply(key);
        }
        let over = self.chain.held.len() >= MAX_HELD_EVENTS
            || self.chain.held_bytes.saturating_add(bytes) > MAX_HELD_BYTES;
        if over {
            self.resync(now);
            return ChainVerdict::Ignored;
        }
        self.chain.held_bytes += bytes;
        self.chain.held.push(Held {
            key,
            session: session.into(),
            seq,
            prev,
            bytes,
            since: now,
        });
        ChainVerdict::Hold(key)
    }

    /// What the listener returned for the event handed to it under `key` (by
    /// `ChainVerdict::Apply` or `Action::Apply`). A key the core no longer waits for
    /// (a resync came between) changes nothing.
    pub fn on_applied(&mut self, now: u64, key: EventKey, applied: Applied) {
        let Some(at) = self.chain.handed.iter().position(|h| h.key == key) else {
            return;
        };
        let Some(handed) = seq::remove_at(&mut self.chain.handed, at) else {
            return;
        };
        match applied {
            Applied::Yes => {
                self.advance_cursor(now, &handed.session, handed.seq);
                self.owe_ack(now, &handed.session, handed.seq);
            }
            Applied::NotYet => {}
            Applied::Refused => self.resync(now),
        }
    }

    /// `commitTranscriptCursor(sessionId, seq)`: the app applied the session up to
    /// `seq` by other means. The cursor never moves back.
    pub fn commit_transcript_cursor(&mut self, now: u64, session: &str, seq: u64) {
        if seq > self.track_cursor(session) {
            self.advance_cursor(now, session, seq);
            self.owe_ack(now, session, seq);
        }
    }

    /// The session's applied cursor, what the reconnect POST asks the events after; a
    /// session never seen is tracked from here, at 0, so that a resync asks for it too.
    pub(super) fn track_cursor(&mut self, session: &str) -> u64 {
        if let Some(cursor) = self.sessions.last_seq(session) {
            return cursor;
        }
        self.sessions.track(session, 0);
        0
    }

    /// Moves the cursor to `seq`, drops what it covers, and hands the listener the
    /// held event that follows, if any (the rest follow as each is applied).
    pub(super) fn advance_cursor(&mut self, _now: u64, session: &str, seq: u64) {
        self.sessions.track(session, seq);
        for key in self.chain.take_covered(session, seq) {
            self.push(Action::Discard(key));
        }
        self.release_next(session);
    }

    /// Hands the listener the next held event of `session` unless an offer holds it.
    pub(super) fn release_next(&mut self, session: &str) {
        if self.chain.offers.is_open(session) {
            return;
        }
        let cursor = self.sessions.last_seq(session).unwrap_or(0);
        if let Some(held) = self.chain.take_next(session, cursor) {
            self.chain.handed.push(Handed {
                key: held.key,
                session: held.session,
                seq: held.seq,
            });
            self.push(Action::Apply(held.key));
        }
    }

    /// The chain cannot be completed from what came: rebuild the stream, whose
    /// reconnect POST asks for every session's events after its cursor.
    pub(super) fn resync(&mut self, now: u64) {
        bump(&mut self.stats.resyncs);
        self.restart_stream(now);
    }

    /// A new stream (or none): what was held or handed belongs to the old one; the
    /// server sends it again after the cursors.
    pub(super) fn forget_held(&mut self) {
        for key in self.chain.reset() {
            self.push(Action::Discard(key));
        }
    }

    /// Events held now, for tests and diagnostics.
    pub fn held_len(&self) -> usize {
        self.chain.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(key: u32, session: &str, seq: u64, prev: u64) -> Held {
        Held {
            key: EventKey(key),
            session: session.into(),
            seq,
            prev,
            bytes: 10,
            since: key.into(),
        }
    }

    fn chain_of(events: Vec<Held>) -> Chain {
        Chain {
            held_bytes: events.iter().map(|h| h.bytes).sum(),
            held: events,
            ..Chain::default()
        }
    }

    #[test]
    fn the_bounds_are_the_existing_clients() {
        assert_eq!(MAX_HELD_EVENTS, 256);
        assert_eq!(MAX_HELD_BYTES, 2_097_152);
        assert_eq!(GAP_TIMEOUT_MS, 15_000);
    }

    #[test]
    fn the_next_event_is_the_lowest_that_follows_the_cursor_in_its_session() {
        let mut chain = chain_of(vec![
            held(1, "a", 9, 7),
            held(2, "b", 6, 5),
            held(3, "a", 6, 5),
            held(4, "a", 8, 6),
        ]);
        assert_eq!(chain.take_next("a", 4), None, "5 is missing");
        assert_eq!(chain.take_next("a", 5).map(|h| h.key), Some(EventKey(3)));
        assert_eq!(chain.held_bytes, 30);
        assert_eq!(chain.take_next("a", 6).map(|h| h.key), Some(EventKey(4)));
        assert_eq!(chain.take_next("a", 9), None, "9 is covered, not next");
    }

    #[test]
    fn covered_events_are_taken_only_from_their_session() {
        let mut chain = chain_of(vec![
            held(1, "a", 3, 2),
            held(2, "b", 3, 2),
            held(3, "a", 4, 3),
        ]);
        assert_eq!(chain.take_covered("a", 3), [EventKey(1)]);
        assert_eq!(chain.held.len(), 2);
        assert_eq!(chain.held_bytes, 20);
    }

    #[test]
    fn the_gap_deadline_is_the_oldest_held_event_plus_the_timeout() {
        let chain = chain_of(vec![held(7, "a", 3, 2), held(4, "b", 3, 2)]);
        assert_eq!(chain.gap_deadline(), Some(4 + GAP_TIMEOUT_MS));
        assert_eq!(Chain::default().gap_deadline(), None);
    }

    #[test]
    fn a_reset_gives_every_key_and_empties_the_chain() {
        let mut chain = chain_of(vec![held(1, "a", 3, 2), held(2, "b", 3, 2)]);
        assert_eq!(chain.reset(), [EventKey(1), EventKey(2)]);
        assert_eq!(chain.held_bytes, 0);
        assert!(chain.held.is_empty());
    }
}
