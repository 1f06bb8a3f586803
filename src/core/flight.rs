//! POSTs in flight: what each one carries, the connection generation it was sent
//! on (so a late answer can be told from a current one: docs/delivery-rules.md,
//! rule 7), and its timeout.

use alloc::vec::Vec;

use super::seq;

use super::ids::PostId;
use super::queue::Pending;

/// Why a POST was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Message(Pending),
    Reconnect,
    Suspend,
    /// The foreground probe (`probe.rs`).
    Probe,
    /// An acknowledgement of applied events (`applied_events`).
    Applied,
    /// A `reconnect-snapshot-applied` request (`applied_events`).
    Snapshot,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Flight {
    pub(crate) post: PostId,
    pub(crate) generation: u32,
    pub(crate) deadline: Option<u64>,
    pub(crate) purpose: Purpose,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Flights(Vec<Flight>);

impl Flights {
    pub(crate) fn push(&mut self, flight: Flight) {
        self.0.push(flight);
    }

    /// Removes the POST `post`; `None` if it already ended (timed out) or is unknown.
    pub(crate) fn take(&mut self, post: PostId) -> Option<Flight> {
        let at = self.0.iter().position(|f| f.post == post)?;
        seq::remove_at(&mut self.0, at)
    }

    /// Removes the POST whose timeout is earliest, if it has passed by `now`.
    pub(crate) fn take_expired(&mut self, now: u64) -> Option<Flight> {
        // The first of the earliest: a plain loop costs less code than adapters.
        let mut earliest: Option<(u64, usize)> = None;
        for (i, f) in self.0.iter().enumerate() {
            if let Some(d) = f.deadline {
                if d <= now && earliest.map_or(true, |(e, _)| d < e) {
                    earliest = Some((d, i));
                }
            }
        }
        seq::remove_at(&mut self.0, earliest?.1)
    }

    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.0.iter().filter_map(|f| f.deadline).min()
    }

    /// Removes the first POST that carries a message, and gives the message.
    pub(crate) fn take_message(&mut self) -> Option<Pending> {
        let at = self
            .0
            .iter()
            .position(|f| matches!(f.purpose, Purpose::Message(_)))?;
        match seq::remove_at(&mut self.0, at)?.purpose {
            Purpose::Message(item) => Some(item),
            _ => None,
        }
    }

    pub(crate) fn messages(&self) -> impl Iterator<Item = &Pending> {
        self.0.iter().filter_map(|f| match &f.purpose {
            Purpose::Message(p) => Some(p),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::endpoint::Endpoint;
    use crate::core::ids::MsgId;

    fn flight(post: u32, deadline: Option<u64>) -> Flight {
        Flight {
            post: PostId(post),
            generation: 1,
            deadline,
            purpose: Purpose::Message(Pending::new(MsgId(post), Endpoint::Send)),
        }
    }

    #[test]
    fn take_removes_only_the_named_post_once() {
        let mut flights = Flights::default();
        flights.push(flight(1, None));
        flights.push(flight(2, None));
        assert_eq!(flights.take(PostId(1)).map(|f| f.post), Some(PostId(1)));
        assert_eq!(flights.take(PostId(1)), None);
        assert_eq!(flights.messages().count(), 1);
    }

    #[test]
    fn expired_posts_come_out_earliest_deadline_first() {
        let mut flights = Flights::default();
        flights.push(flight(1, Some(300)));
        flights.push(flight(2, Some(100)));
        flights.push(flight(3, None));
        assert_eq!(flights.next_deadline(), Some(100));
        assert_eq!(flights.take_expired(50), None);
        assert_eq!(flights.take_expired(400).map(|f| f.post), Some(PostId(2)));
        assert_eq!(flights.take_expired(400).map(|f| f.post), Some(PostId(1)));
        assert_eq!(flights.take_expired(400), None);
    }

    #[test]
    fn posts_expiring_together_come_out_in_the_order_they_were_sent() {
        let mut flights = Flights::default();
        flights.push(flight(1, Some(100)));
        flights.push(flight(2, Some(100)));
        assert_eq!(flights.take_expired(100).map(|f| f.post), Some(PostId(1)));
        assert_eq!(flights.take_expired(100).map(|f| f.post), Some(PostId(2)));
    }

    #[test]
    fn reconnect_and_suspend_posts_are_not_messages() {
        let mut flights = Flights::default();
        for (post, purpose) in [(1, Purpose::Reconnect), (2, Purpose::Suspend)] {
            flights.push(Flight {
                post: PostId(post),
                generation: 1,
                deadline: None,
                purpose,
            });
        }
        assert_eq!(flights.messages().count(), 0);
    }

    #[test]
    fn take_message_passes_over_reconnect_posts() {
        let mut flights = Flights::default();
        flights.push(Flight {
            post: PostId(1),
            generation: 1,
            deadline: None,
            purpose: Purpose::Reconnect,
        });
        flights.push(flight(2, None));
        flights.push(flight(3, None));
        let taken = flights.take_message().map(|item| item.msg);
        assert_eq!(taken, Some(MsgId(2)));
        assert_eq!(flights.take_message().map(|item| item.msg), Some(MsgId(3)));
        assert_eq!(flights.take_message(), None);
        assert!(
            flights.take(PostId(1)).is_some(),
            "the reconnect POST stays"
        );
    }
}
