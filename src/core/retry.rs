//! Messages waiting out a backoff delay before their next attempt
//! (docs/delivery-rules.md, rule 6).

use alloc::vec::Vec;

use super::seq;

use super::ids::MsgId;
use super::queue::Pending;

#[derive(Clone, Debug, Default)]
pub(crate) struct Retries(Vec<(u64, Pending)>);

impl Retries {
    pub(crate) fn push(&mut self, due: u64, item: Pending) {
        self.0.push((due, item));
    }

    /// Removes the message due by `now` that was sent first, so retries that come
    /// due together go out in send order.
    pub(crate) fn take_due(&mut self, now: u64) -> Option<Pending> {
        // A plain loop: the iterator-adapter chain cost twice the code.
        let mut first: Option<(MsgId, usize)> = None;
        for (i, (due, p)) in self.0.iter().enumerate() {
            if *due <= now && first.map_or(true, |(msg, _)| p.msg < msg) {
                first = Some((p.msg, i));
            }
        }
        seq::remove_at(&mut self.0, first?.1).map(|(_, item)| item)
    }

    /// Removes the first-sent message whatever its due time.
    pub(crate) fn take_any(&mut self) -> Option<Pending> {
        self.take_due(u64::MAX)
    }

    /// Removes a message `which` picks, whatever its due time (the first pushed).
    pub(crate) fn take_first(&mut self, which: impl Fn(&Pending) -> bool) -> Option<Pending> {
        let at = self.0.iter().position(|(_, p)| which(p))?;
        seq::remove_at(&mut self.0, at).map(|(_, item)| item)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Pending> {
        self.0.iter().map(|(_, p)| p)
    }

    pub(crate) fn next_due(&self) -> Option<u64> {
        self.0.iter().map(|(due, _)| *due).min()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::endpoint::Endpoint;
    use crate::core::ids::MsgId;

    fn item(n: u32) -> Pending {
        Pending::new(MsgId(n), Endpoint::Send)
    }

    #[test]
    fn due_retries_come_out_in_send_order() {
        let mut retries = Retries::default();
        retries.push(200, item(3));
        retries.push(100, item(1));
        retries.push(900, item(2));
        assert_eq!(retries.next_due(), Some(100));
        assert_eq!(retries.take_due(500).map(|p| p.msg), Some(MsgId(1)));
        assert_eq!(retries.take_due(500).map(|p| p.msg), Some(MsgId(3)));
        assert_eq!(retries.take_due(500), None);
        assert_eq!(retries.len(), 1);
    }

    #[test]
    fn take_first_picks_by_message_whatever_its_due_time() {
        let mut retries = Retries::default();
        retries.push(u64::MAX, item(4));
        retries.push(5, item(5));
        assert_eq!(
            retries.take_first(|p| p.msg.0 == 4).map(|p| p.msg),
            Some(MsgId(4))
        );
        assert_eq!(retries.take_first(|p| p.msg.0 == 4), None);
        let left: Vec<MsgId> = retries.iter().map(|p| p.msg).collect();
        assert_eq!(left, [MsgId(5)]);
    }

    #[test]
    fn take_any_ignores_due_times() {
        let mut retries = Retries::default();
        retries.push(u64::MAX, item(7));
        assert_eq!(retries.take_any().map(|p| p.msg), Some(MsgId(7)));
        assert!(retries.is_empty());
    }
}
