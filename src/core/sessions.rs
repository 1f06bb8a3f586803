//! Tracked sessions and the last seq seen on each (docs/delivery-rules.md, rule 8),
//! in insertion order like the existing client's `Map`, so reconnect and suspend
//! bodies list them in the same order.

use super::action::SessionSeq;
use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

#[derive(Clone, Debug, Default)]
pub(crate) struct Sessions(Vec<(String, u64)>);

impl Sessions {
    /// Sets a session's seq, keeping its place if it is already tracked.
    pub(crate) fn track(&mut self, session_id: &str, seq: u64) {
        match self.entry(session_id) {
            Some(entry) => entry.1 = seq,
            None => self.0.push((session_id.to_owned(), seq)),
        }
    }

    /// The session's entry: one search shared by every lookup.
    fn entry(&mut self, session_id: &str) -> Option<&mut (String, u64)> {
        self.0.iter_mut().find(|(id, _)| id == session_id)
    }

    /// Tracks `seq` if it is newer than what is known; false means a replay.
    pub(crate) fn observe(&mut self, session_id: &str, seq: u64) -> bool {
        match self.entry(session_id) {
            Some(entry) if seq <= entry.1 => false,
            Some(entry) => {
                entry.1 = seq;
                true
            }
            None => {
                self.0.push((session_id.to_owned(), seq));
                true
            }
        }
    }

    pub(crate) fn last_seq(&self, session_id: &str) -> Option<u64> {
        self.0
            .iter()
            .find(|(id, _)| id == session_id)
            .map(|(_, seq)| *seq)
    }

    pub(crate) fn clear(&mut self, session_id: &str) {
        self.0.retain(|(id, _)| id != session_id);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(id, _)| id.as_str())
    }

    pub(crate) fn snapshot(&self) -> Vec<SessionSeq> {
        self.0
            .iter()
            .map(|(id, seq)| SessionSeq {
                session_id: id.clone(),
                last_seq: *seq,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retracking_a_session_keeps_its_place() {
        let mut sessions = Sessions::default();
        sessions.track("a", 1);
        sessions.track("b", 2);
        sessions.track("a", 3);
        let ids: Vec<&str> = sessions.ids().collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(sessions.last_seq("a"), Some(3));
    }

    #[test]
    fn observe_refuses_seqs_not_newer_than_tracked() {
        let mut sessions = Sessions::default();
        assert!(sessions.observe("s", 5));
        assert!(!sessions.observe("s", 5));
        assert!(!sessions.observe("s", 4));
        assert!(sessions.observe("s", 6));
        assert_eq!(sessions.last_seq("s"), Some(6));
    }

    #[test]
    fn clearing_forgets_the_session() {
        let mut sessions = Sessions::default();
        sessions.track("s", 9);
        sessions.clear("s");
        assert!(sessions.is_empty());
        assert_eq!(sessions.last_seq("s"), None);
        assert!(sessions.observe("s", 1), "a cleared session starts over");
    }

    #[test]
    fn snapshot_lists_sessions_in_insertion_order() {
        let mut sessions = Sessions::default();
        sessions.track("z", 1);
        sessions.track("a", 2);
        let snapshot = sessions.snapshot();
        assert_eq!(snapshot[0].session_id, "z");
        assert_eq!(snapshot[1].last_seq, 2);
    }
}
