//! Reconnect snapshots: the server may answer a reconnect with a
//! `session_reconnect_snapshot` offer instead of the whole replay. While an offer is
//! open its session's chained events are held; the app loads the snapshot its own
//! way and calls `acknowledgeReconnectSnapshot`, which posts
//! `/api/chat/reconnect-snapshot-applied`. Only the server's `{ applied: true }` moves
//! the cursor to the offer's; an offer not applied within [`OFFER_TIMEOUT_MS`] resyncs.

use alloc::string::String;
use alloc::vec::Vec;

use crate::core::action::Action;
use crate::core::flight::{Flight, Purpose};
use crate::core::ids::{PostId, StreamId};
use crate::core::machine::Machine;
use crate::core::seq;
use crate::core::stats::bump;

/// An offer not applied this long after it came forces a resync.
pub const OFFER_TIMEOUT_MS: u64 = 30_000;

#[derive(Clone, Debug, PartialEq, Eq)]
struct Offer {
    session: String,
    cursor: u64,
    offer_id: Option<String>,
    since: u64,
    /// The `reconnect-snapshot-applied` POST asking for it, while in flight.
    posted: Option<PostId>,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Offers(Vec<Offer>);

impl Offers {
    pub(crate) fn is_open(&self, session: &str) -> bool {
        self.0.iter().any(|o| o.session == session)
    }

    pub(crate) fn deadline(&self) -> Option<u64> {
        self.0
            .iter()
            .map(|o| o.since.saturating_add(OFFER_TIMEOUT_MS))
            .min()
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    fn take_posted(&mut self, post: PostId) -> Option<Offer> {
        let at = self.0.iter().position(|o| o.posted == Some(post))?;
        seq::remove_at(&mut self.0, at)
    }
}

impl Machine {
    /// A `session_reconnect_snapshot` event `{ sessionId, cursor, offerId? }` on
    /// `stream`; false when it is not from the current stream (not dispatched). A new
    /// offer for a session replaces the one open.
    pub fn on_snapshot_offer(
        &mut self,
        now: u64,
        stream: StreamId,
        session: &str,
        cursor: u64,
        offer_id: Option<&str>,
    ) -> bool {
        if self.phase.stream() != Some(stream) {
            return false;
        }
        self.last_activity = now;
        self.track_cursor(session);
        self.chain.offers.0.retain(|o| o.session != session);
        self.chain.offers.0.push(Offer {
            session: session.into(),
            cursor,
            offer_id: offer_id.map(Into::into),
            since: now,
            posted: None,
        });
        true
    }

    /// `acknowledgeReconnectSnapshot(sessionId, cursor, offerId)`: the app applied the
    /// snapshot. False unless it names the open offer (the same cursor and offer id)
    /// and a connection is known to post it on; asked twice, it is posted once.
    pub fn acknowledge_snapshot(
        &mut self,
        now: u64,
        session: &str,
        cursor: u64,
        offer_id: Option<&str>,
    ) -> bool {
        let Some(connection_id) = self.live_connection_id().map(String::from) else {
            return false;
        };
        let named = |o: &&mut Offer| {
            o.session == session && o.cursor == cursor && o.offer_id.as_deref() == offer_id
        };
        match self.chain.offers.0.iter_mut().find(named) {
            None => return false,
            Some(offer) if offer.posted.is_some() => return true,
            Some(_) => {}
        }
        let id = self.alloc_post();
        if let Some(offer) = self.chain.offers.0.iter_mut().find(named) {
            offer.posted = Some(id);
        }
        self.flights.push(Flight {
            post: id,
            generation: self.generation,
            deadline: self.post_deadline(now),
            purpose: Purpose::Snapshot,
        });
        self.push(Action::PostSnapshotApplied {
            id,
            connection_id,
            session_id: session.into(),
            cursor,
            offer_id: offer_id.map(Into::into),
        });
        true
    }

    /// The answer to a `reconnect-snapshot-applied` POST: `applied` only for a 2xx
    /// whose body said `{ applied: true }`. Applied, the offer closes and the cursor
    /// moves to its; otherwise it stays open (the app may ask again) until it expires.
    pub fn on_snapshot_answer(&mut self, now: u64, post: PostId, applied: bool) {
        if self.flights.take(post).is_none() {
            return;
        }
        self.settle_snapshot(now, post, applied);
    }

    pub(in crate::core) fn settle_snapshot(&mut self, now: u64, post: PostId, applied: bool) {
        let Some(mut offer) = self.chain.offers.take_posted(post) else {
            return;
        };
        if !applied {
            offer.posted = None;
            self.chain.offers.0.push(offer);
            return;
        }
        bump(&mut self.stats.snapshots_applied);
        // Never back: a snapshot behind the cursor only lets the held events go on.
        let cursor = self.sessions.last_seq(&offer.session).unwrap_or(0);
        self.advance_cursor(now, &offer.session, offer.cursor.max(cursor));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_the_oldest_offer_plus_thirty_seconds() {
        let offer = |session: &str, since| Offer {
            session: session.into(),
            cursor: 1,
            offer_id: None,
            since,
            posted: None,
        };
        let offers = Offers(Vec::from([offer("a", 50), offer("b", 20)]));
        assert_eq!(offers.deadline(), Some(20 + OFFER_TIMEOUT_MS));
        assert!(offers.is_open("b") && !offers.is_open("c"));
        assert_eq!(OFFER_TIMEOUT_MS, 30_000);
    }
}
