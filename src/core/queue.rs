//! The pending queue (docs/delivery-rules.md, rules 1 and 2): messages waiting to be
//! posted, kept in send order (by `MsgId`) so a re-queued message goes back to its
//! place, and bounded on every path in, evicting the oldest.

use alloc::vec::Vec;

use super::seq;

use super::endpoint::Endpoint;
use super::ids::MsgId;

/// A message the core has accepted and not yet settled, with its delivery history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) msg: MsgId,
    pub(crate) endpoint: Endpoint,
    /// 404s met so far (docs/delivery-rules.md, rule 5).
    pub(crate) stale_404s: u32,
    /// Retries after transient failures so far (docs/delivery-rules.md, rule 6).
    pub(crate) retries: u32,
    /// A prompt (`Machine::send_prompt`), under the rules of the existing client's
    /// current contract.
    pub(crate) prompt: bool,
}

impl Pending {
    pub(crate) fn new(msg: MsgId, endpoint: Endpoint) -> Self {
        Pending {
            msg,
            endpoint,
            stale_404s: 0,
            retries: 0,
            prompt: false,
        }
    }

    /// A prompt: a message to `send` sent with `Machine::send_prompt`.
    pub(crate) fn prompt(msg: MsgId) -> Self {
        Pending {
            prompt: true,
            ..Pending::new(msg, Endpoint::Send)
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Queue(Vec<Pending>);

impl Queue {
    /// Puts `item` at its place in send order; past `bound` the oldest entry (maybe
    /// `item` itself) is evicted and returned for reporting.
    pub(crate) fn insert(&mut self, item: Pending, bound: usize) -> Option<Pending> {
        self.insert_evicting(item, bound, |_| true)
    }

    /// [`Queue::insert`], where only entries `evictable` says so may be evicted: past
    /// `bound` the oldest of them goes, and none if none is.
    pub(crate) fn insert_evicting(
        &mut self,
        item: Pending,
        bound: usize,
        evictable: impl Fn(&Pending) -> bool,
    ) -> Option<Pending> {
        // Usually `item` is the newest, or a re-queued one a few places from the back.
        let at = self
            .0
            .iter()
            .rposition(|p| p.msg < item.msg)
            .map_or(0, |i| i + 1);
        seq::insert_at(&mut self.0, at, item);
        if self.0.len() > bound {
            let oldest = self.0.iter().position(evictable)?;
            self.take(oldest)
        } else {
            None
        }
    }

    /// Removes and returns the first entry (in send order) that `which` picks.
    pub(crate) fn take_first(&mut self, which: impl Fn(&Pending) -> bool) -> Option<Pending> {
        let at = self.0.iter().position(which)?;
        self.take(at)
    }

    /// Removes and returns the entry at `at` (in send order); `None` past the end.
    pub(crate) fn take(&mut self, at: usize) -> Option<Pending> {
        seq::remove_at(&mut self.0, at)
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Pending> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: u32) -> Pending {
        Pending::new(MsgId(n), Endpoint::Send)
    }

    fn ids(queue: &Queue) -> Vec<u32> {
        queue.iter().map(|p| p.msg.0).collect()
    }

    #[test]
    fn requeued_message_goes_back_to_its_place_in_send_order() {
        let mut queue = Queue::default();
        for n in [2, 4, 5] {
            queue.insert(item(n), 10);
        }
        queue.insert(item(3), 10);
        queue.insert(item(1), 10);
        assert_eq!(ids(&queue), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn insert_past_the_bound_evicts_the_oldest() {
        let mut queue = Queue::default();
        queue.insert(item(1), 2);
        queue.insert(item(2), 2);
        let evicted = queue.insert(item(3), 2);
        assert_eq!(evicted.map(|p| p.msg), Some(MsgId(1)));
        assert_eq!(ids(&queue), [2, 3]);
    }

    #[test]
    fn requeue_of_the_oldest_into_a_full_queue_evicts_it_at_once() {
        let mut queue = Queue::default();
        queue.insert(item(5), 2);
        queue.insert(item(6), 2);
        let evicted = queue.insert(item(1), 2);
        assert_eq!(evicted.map(|p| p.msg), Some(MsgId(1)));
        assert_eq!(queue.len(), 2);
    }

    #[test]
    fn past_the_bound_only_evictable_entries_go_oldest_first() {
        let mut queue = Queue::default();
        let kept = |p: &Pending| !p.prompt;
        queue.insert_evicting(Pending::prompt(MsgId(1)), 2, kept);
        queue.insert_evicting(item(2), 2, kept);
        let evicted = queue.insert_evicting(item(3), 2, kept);
        assert_eq!(evicted.map(|p| p.msg), Some(MsgId(2)), "not the prompt");
        let evicted = queue.insert_evicting(Pending::prompt(MsgId(4)), 2, kept);
        assert_eq!(evicted.map(|p| p.msg), Some(MsgId(3)));
        assert_eq!(
            queue.insert_evicting(Pending::prompt(MsgId(5)), 2, kept),
            None
        );
        assert_eq!(ids(&queue), [1, 4, 5], "nothing evictable left");
    }

    #[test]
    fn take_first_takes_the_oldest_match_only() {
        let mut queue = Queue::default();
        for n in 1..=3 {
            queue.insert(item(n), 10);
        }
        assert_eq!(
            queue.take_first(|p| p.msg.0 >= 2).map(|p| p.msg),
            Some(MsgId(2))
        );
        assert_eq!(queue.take_first(|p| p.msg.0 > 5), None);
        assert_eq!(ids(&queue), [1, 3]);
    }

    #[test]
    fn take_removes_the_entry_at_its_place_and_nothing_past_the_end() {
        let mut queue = Queue::default();
        queue.insert(item(1), 10);
        queue.insert(Pending::new(MsgId(2), Endpoint::Stop), 10);
        queue.insert(item(3), 10);
        let taken = queue.take(1);
        assert_eq!(taken.map(|p| p.endpoint), Some(Endpoint::Stop));
        assert_eq!(ids(&queue), [1, 3]);
        assert_eq!(queue.take(2), None);
        assert_eq!(ids(&queue), [1, 3]);
    }
}
