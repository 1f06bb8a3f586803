//! The pending queue (rules 1 and 2): messages waiting to be posted, kept in send
//! order (by `MsgId`) so a re-queued message goes back to its place, and bounded on
//! every path in, evicting the oldest.

use alloc::vec::Vec;

use super::seq;

use super::endpoint::Endpoint;
use super::ids::MsgId;

/// A message the core has accepted and not yet settled, with its delivery history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) msg: MsgId,
    pub(crate) endpoint: Endpoint,
    /// 404s met so far (rule 5).
    pub(crate) stale_404s: u32,
    /// Retries after transient failures so far (rule 6).
    pub(crate) retries: u32,
}

impl Pending {
    pub(crate) fn new(msg: MsgId, endpoint: Endpoint) -> Self {
        Pending {
            msg,
            endpoint,
            stale_404s: 0,
            retries: 0,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Queue(Vec<Pending>);

impl Queue {
    /// Puts `item` at its place in send order; past `bound` the oldest entry (maybe
    /// `item` itself) is evicted and returned for reporting.
    pub(crate) fn insert(&mut self, item: Pending, bound: usize) -> Option<Pending> {
        // Usually `item` is the newest, or a re-queued one a few places from the back.
        let at = self
            .0
            .iter()
            .rposition(|p| p.msg < item.msg)
            .map_or(0, |i| i + 1);
        seq::insert_at(&mut self.0, at, item);
        if self.0.len() > bound {
            self.pop_front()
        } else {
            None
        }
    }

    /// Removes and returns the first entry (in send order) that `may_go` allows.
    pub(crate) fn take_first(&mut self, may_go: impl Fn(&Pending) -> bool) -> Option<Pending> {
        let at = self.0.iter().position(may_go)?;
        seq::remove_at(&mut self.0, at)
    }

    pub(crate) fn pop_front(&mut self) -> Option<Pending> {
        seq::pop_front(&mut self.0)
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
    fn take_first_skips_entries_that_may_not_go() {
        let mut queue = Queue::default();
        queue.insert(item(1), 10);
        queue.insert(Pending::new(MsgId(2), Endpoint::Stop), 10);
        let taken = queue.take_first(|p| p.endpoint == Endpoint::Stop);
        assert_eq!(taken.map(|p| p.msg), Some(MsgId(2)));
        assert_eq!(ids(&queue), [1]);
        assert_eq!(queue.take_first(|_| false), None);
    }
}
