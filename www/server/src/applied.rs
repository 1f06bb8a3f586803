//! Acknowledged application, the server's side: the cursor each session was applied
//! up to (`/api/chat/session-event-applied`), the reconnect snapshots offered instead
//! of a replay (and their acknowledgement, `/api/chat/reconnect-snapshot-applied`), and
//! the faults a test switches on through `/api/test/`: events dropped from the live
//! stream (stored, so a replay brings them), snapshots offered on every reconnect that
//! supports an applied cursor, and snapshot acknowledgements answered without
//! `applied`.

use std::collections::HashMap;

use serde_json::{json, Value};

/// What the server knows of applied events, and the faults that bend it.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// Per session, the highest seq a client said it applied.
    cursors: HashMap<String, u64>,
    /// Open snapshot offers, by connection and session: their cursor and id.
    offers: HashMap<(String, String), (u64, String)>,
    next_offer: u64,
    /// The next this many appended events are stored but not sent live.
    pub drop_live: u64,
    /// Answer a reconnect that supports an applied cursor with a snapshot offer per
    /// session instead of its replay.
    pub offer_snapshots: bool,
    /// Answer snapshot acknowledgements `{ ok: true }`, without `applied`.
    pub break_snapshots: bool,
}

impl Applied {
    /// A client applied `session` up to `seq`; the cursor never moves back.
    pub fn acknowledge(&mut self, session: &str, seq: u64) -> u64 {
        let cursor = self.cursors.entry(session.to_string()).or_default();
        *cursor = (*cursor).max(seq);
        *cursor
    }

    /// Whether the next appended event is sent live (consumes one drop).
    pub fn send_live(&mut self) -> bool {
        if self.drop_live == 0 {
            return true;
        }
        self.drop_live -= 1;
        false
    }

    /// Opens a snapshot offer of `session` at `cursor` on `connection`: the event to send.
    pub fn offer(&mut self, connection: &str, session: &str, cursor: u64) -> Value {
        self.next_offer += 1;
        let offer_id = format!("offer-{}", self.next_offer);
        self.offers.insert(
            (connection.to_string(), session.to_string()),
            (cursor, offer_id.clone()),
        );
        json!({
            "type": "session_reconnect_snapshot",
            "sessionId": session,
            "cursor": cursor,
            "offerId": offer_id,
            "cursorValid": true,
        })
    }

    /// The answer to a snapshot's acknowledgement: `{ ok, applied }`, or `{ ok }` alone
    /// while the `break-snapshots` fault is on.
    pub fn snapshot_answer(
        &mut self,
        connection: &str,
        session: &str,
        cursor: u64,
        offer_id: Option<&str>,
    ) -> Value {
        if self.break_snapshots {
            return json!({"ok": true});
        }
        let applied = self.snapshot_applied(connection, session, cursor, offer_id);
        json!({"ok": true, "applied": applied})
    }

    /// The client applied the snapshot named: true (and the offer closed, the cursor
    /// moved) when it names the open offer.
    fn snapshot_applied(
        &mut self,
        connection: &str,
        session: &str,
        cursor: u64,
        offer_id: Option<&str>,
    ) -> bool {
        let key = (connection.to_string(), session.to_string());
        let matches = self
            .offers
            .get(&key)
            .is_some_and(|(c, id)| *c == cursor && offer_id.map_or(true, |o| o == id));
        if !matches {
            return false;
        }
        self.offers.remove(&key);
        self.acknowledge(session, cursor);
        true
    }

    /// The applied cursors, for `/api/test/state`.
    pub fn describe(&self) -> Value {
        json!({
            "cursors": self.cursors,
            "openOffers": self.offers.len(),
            "dropLive": self.drop_live,
            "offerSnapshots": self.offer_snapshots,
            "breakSnapshots": self.break_snapshots,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_never_moves_back() {
        let mut applied = Applied::default();
        assert_eq!(applied.acknowledge("s", 4), 4);
        assert_eq!(applied.acknowledge("s", 2), 4);
        assert_eq!(applied.acknowledge("t", 1), 1);
    }

    #[test]
    fn dropped_events_are_counted_down() {
        let mut applied = Applied {
            drop_live: 2,
            ..Applied::default()
        };
        assert!(!applied.send_live());
        assert!(!applied.send_live());
        assert!(applied.send_live());
    }

    #[test]
    fn only_the_open_offer_applies_and_only_once() {
        let mut applied = Applied::default();
        let offer = applied.offer("c1", "s", 7);
        let id = offer["offerId"].as_str().unwrap().to_string();
        assert!(!applied.snapshot_applied("c1", "s", 6, Some(&id)));
        assert!(!applied.snapshot_applied("c2", "s", 7, Some(&id)));
        assert!(!applied.snapshot_applied("c1", "s", 7, Some("other")));
        assert!(applied.snapshot_applied("c1", "s", 7, Some(&id)));
        assert!(!applied.snapshot_applied("c1", "s", 7, Some(&id)), "once");
        assert_eq!(applied.acknowledge("s", 0), 7);
    }

    #[test]
    fn a_broken_acknowledgement_is_answered_without_applied_and_leaves_the_offer_open() {
        let mut applied = Applied {
            break_snapshots: true,
            ..Applied::default()
        };
        applied.offer("c1", "s", 3);
        assert_eq!(
            applied.snapshot_answer("c1", "s", 3, None),
            json!({"ok": true})
        );
        applied.break_snapshots = false;
        let answer = applied.snapshot_answer("c1", "s", 3, None);
        assert_eq!(answer, json!({"ok": true, "applied": true}));
    }
}
