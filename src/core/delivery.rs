//! Messages: sending, queueing, flushing, and settling each one's fate from its POST
//! answer, with re-queue on 404, retries on transient failures and the reports that
//! make every fate observable (docs/delivery-rules.md, rules 1-7 and 10).

use super::action::{Action, Body, Warning};
use super::config::Config;
use super::endpoint::Endpoint;
use super::flight::{Flight, Purpose};
use super::ids::{MsgId, PostId};
use super::lifecycle::Phase;
use super::machine::Machine;
use super::outcome::{DropReason, FailReason, Fate, PostOutcome, SendOutcome, Verdict};
use super::queue::Pending;
use super::stats::bump;

impl Machine {
    /// Posts a message to `endpoint` now if connected, else queues it while a stream
    /// or a reconnect timer exists. The shell keeps the body under the returned id.
    pub fn send(&mut self, now: u64, endpoint: Endpoint) -> SendOutcome {
        if matches!(self.phase, Phase::Idle | Phase::Disconnected) {
            return SendOutcome::Refused;
        }
        let item = Pending::new(self.alloc_msg(), endpoint);
        let msg = item.msg;
        if self.may_post_now(&item) {
            self.post_message(now, item);
            SendOutcome::Posted(msg)
        } else {
            self.enqueue(item);
            SendOutcome::Queued(msg)
        }
    }

    /// `sendSuspend()`: POST the tracked sessions when connected, else a beacon to the
    /// last known connection. Nothing when no session is tracked.
    pub fn send_suspend(&mut self, now: u64) {
        self.suspend(now, false);
    }

    /// The suspend, `leaving` when the page is being hidden or left (its POST must
    /// then outlive the page: see `Action::Post::keepalive`).
    pub(crate) fn suspend(&mut self, now: u64, leaving: bool) {
        if self.sessions.is_empty() {
            return;
        }
        let sessions = self.sessions.snapshot();
        if self.is_connected() {
            let keepalive = leaving;
            self.post(
                now,
                Endpoint::Suspend,
                Body::Suspend(sessions),
                Purpose::Suspend,
                keepalive,
            );
        } else if let Some(connection_id) = self.connection_id.clone() {
            self.push(Action::Beacon {
                connection_id,
                sessions,
            });
        }
    }

    /// Drops every queued message and every message waiting on a retry, each with a
    /// `Dropped(Cleared)` report. POSTs already in flight are not recalled.
    pub fn clear_pending_sends(&mut self) {
        while let Some(item) = self.queue.pop_front() {
            self.report(item.msg, Fate::Dropped(DropReason::Cleared));
        }
        while let Some(item) = self.retries.take_any() {
            self.report(item.msg, Fate::Dropped(DropReason::Cleared));
        }
    }

    pub fn on_post_answer(&mut self, now: u64, post: PostId, outcome: PostOutcome) {
        if let Some(flight) = self.flights.take(post) {
            self.settle(now, flight, outcome);
            self.flush(now);
        }
    }

    /// Posts what the queue allows ([`Machine::may_post_now`]), in send order.
    pub(super) fn flush(&mut self, now: u64) {
        loop {
            let next = self.queue.iter().position(|p| self.may_post_now(p));
            let Some(item) = next.and_then(|at| self.queue.take(at)) else {
                break;
            };
            self.post_message(now, item);
        }
    }

    /// Queues `item` at its place; past the bound the oldest is dropped and reported.
    pub(super) fn enqueue(&mut self, item: Pending) {
        if let Some(evicted) = self.queue.insert(item, self.config.max_pending_sends) {
            self.drop_message(evicted, DropReason::QueueOverflow);
        }
    }

    /// A message's retry delay is over.
    pub(super) fn retry_due(&mut self, now: u64, item: Pending) {
        // The retrying message is the oldest outstanding retryable one, so it goes
        // straight out rather than through a full queue that would evict it.
        if self.may_post_now(&item) {
            self.post_message(now, item);
        } else {
            self.enqueue(item);
        }
    }

    /// Settles one POST: for a message, its fate (or its next attempt).
    pub(super) fn settle(&mut self, now: u64, flight: Flight, outcome: PostOutcome) {
        if flight.generation != self.generation {
            bump(&mut self.stats.late_answers);
        }
        let stale = matches!(outcome.verdict(), Verdict::Stale);
        if stale {
            bump(&mut self.stats.stale_404s);
        }
        match flight.purpose {
            Purpose::Reconnect => self.on_reconnect_answer(now, flight.generation, outcome),
            Purpose::Suspend => {
                if stale {
                    self.connection_stale(now, flight.generation);
                }
            }
            Purpose::Message(item) => self.settle_message(now, item, flight.generation, outcome),
        }
    }

    pub(super) fn post_deadline(&self, now: u64) -> Option<u64> {
        // A zero timeout would fire in the same instant forever: at least 1 ms.
        self.config
            .post_timeout_ms
            .map(|ms| now.saturating_add(ms.max(1)))
    }

    fn settle_message(
        &mut self,
        now: u64,
        mut item: Pending,
        generation: u32,
        outcome: PostOutcome,
    ) {
        let retryable = is_retryable(&self.config, item.endpoint);
        match outcome.verdict() {
            Verdict::Accepted => self.report(item.msg, Fate::Delivered),
            Verdict::Stale => {
                if !retryable {
                    // A lifecycle signal belongs to the dead connection: never replay it.
                    self.report(item.msg, Fate::Failed(FailReason::StaleConnection));
                } else {
                    item.stale_404s = item.stale_404s.saturating_add(1);
                    if item.stale_404s >= self.config.max_stale_retries {
                        self.drop_message(item, DropReason::StaleRetriesExhausted);
                    } else {
                        self.persist_attempt(&item);
                        self.enqueue(item);
                    }
                }
                self.connection_stale(now, generation);
            }
            Verdict::Transient(reason) => {
                if retryable && self.config.may_retry(item.retries) {
                    let config = &self.config;
                    let delay =
                        (config.backoff).delay_of(item.retries, config.retry_jitter, &mut self.rng);
                    item.retries = item.retries.saturating_add(1);
                    bump(&mut self.stats.send_retries);
                    self.persist_attempt(&item);
                    if matches!(self.phase, Phase::Disconnected) {
                        // No timer after `disconnect()`: wait in the queue for `connect()`.
                        self.enqueue(item);
                    } else {
                        self.retries.push(now.saturating_add(delay), item);
                    }
                } else {
                    self.report(item.msg, Fate::Failed(reason));
                }
            }
            Verdict::Rejected(code) => {
                self.report(item.msg, Fate::Failed(FailReason::Rejected(code)))
            }
        }
    }

    /// A 404 answer to a POST sent on `generation`. Only a 404 on the current,
    /// connected generation rebuilds the stream; since that bumps the generation,
    /// every other 404 from the same stale connection is late
    /// (docs/delivery-rules.md, rule 4).
    fn connection_stale(&mut self, now: u64, generation: u32) {
        if generation == self.generation && self.is_connected() {
            self.push(Action::Warn(Warning::StaleConnection));
            self.restart_stream(now);
        }
    }

    /// The one gate for "may this message be posted now", used by `send`, `flush` and
    /// `retry_due`: only when connected, and with `ordered_sends` a retryable message
    /// also waits while another retryable one is outstanding (in flight or waiting on a
    /// retry) or one sent before it is still queued. With the outbox on, a retryable
    /// message also waits for the first `restore`, so the stored ones go first. Other
    /// messages never wait.
    pub(super) fn may_post_now(&self, item: &Pending) -> bool {
        let config = &self.config;
        let must_wait = (self.restore_gate || config.ordered_sends)
            && is_retryable(config, item.endpoint)
            && (self.restore_gate
                || self.slot_busy()
                || self
                    .queue
                    .iter()
                    .any(|p| p.msg < item.msg && is_retryable(config, p.endpoint)));
        self.is_connected() && !must_wait
    }

    /// A retryable message is in flight or waiting on a retry (`ordered_sends`).
    fn slot_busy(&self) -> bool {
        !self.retries.is_empty()
            || self
                .flights
                .messages()
                .any(|p| is_retryable(&self.config, p.endpoint))
    }

    fn post_message(&mut self, now: u64, item: Pending) {
        let body = Body::Message(item.msg);
        let endpoint = item.endpoint;
        self.post(now, endpoint, body, Purpose::Message(item), false);
    }

    fn post(
        &mut self,
        now: u64,
        endpoint: Endpoint,
        body: Body,
        purpose: Purpose,
        keepalive: bool,
    ) {
        let Some(connection_id) = self.connection_id.clone() else {
            // Connected implies a welcome gave an id; keep the message rather than lose it.
            if let Purpose::Message(item) = purpose {
                self.enqueue(item);
            }
            return;
        };
        let id = self.alloc_post();
        self.flights.push(Flight {
            post: id,
            generation: self.generation,
            deadline: self.post_deadline(now),
            purpose,
        });
        self.push(Action::Post {
            id,
            endpoint,
            connection_id,
            body,
            keepalive,
        });
    }

    fn drop_message(&mut self, item: Pending, reason: DropReason) {
        self.report(item.msg, Fate::Dropped(reason));
        self.push(Action::Warn(Warning::MessageDropped(item.msg, reason)));
    }

    fn report(&mut self, msg: MsgId, fate: Fate) {
        bump(match fate {
            Fate::Delivered => &mut self.stats.delivered,
            Fate::Dropped(_) => &mut self.stats.dropped,
            Fate::Failed(_) => &mut self.stats.failed,
        });
        // Its record goes first: a removal the shell carries out before the report.
        self.persist_settled(msg);
        self.push(Action::Report { msg, fate });
    }
}

/// Retryable: on the allowlist and not a lifecycle endpoint (docs/delivery-rules.md,
/// rule 3).
pub(crate) fn is_retryable(config: &Config, endpoint: Endpoint) -> bool {
    config.retryable.contains(endpoint) && !endpoint.is_lifecycle()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_endpoints_are_never_retryable_even_when_listed() {
        let mut config = Config::default();
        config.retryable.insert(Endpoint::Suspend);
        config.retryable.insert(Endpoint::Watch);
        assert!(is_retryable(&config, Endpoint::Send));
        assert!(is_retryable(&config, Endpoint::Watch));
        assert!(!is_retryable(&config, Endpoint::Suspend));
        assert!(!is_retryable(&config, Endpoint::Mode));
    }

    use crate::core::ids::StreamId;

    fn connected(ordered_sends: bool) -> Machine {
        let mut m = Machine::new(
            Config {
                ordered_sends,
                ..Config::default()
            },
            1,
        );
        m.connect(0);
        m.on_welcome(0, StreamId(1), "c1");
        m
    }

    fn item(n: u32, endpoint: Endpoint) -> Pending {
        Pending::new(MsgId(n), endpoint)
    }

    #[test]
    fn nothing_may_be_posted_unless_connected() {
        let mut m = Machine::new(Config::default(), 1);
        m.connect(0);
        assert!(!m.may_post_now(&item(1, Endpoint::Stop)));
        m.on_welcome(0, StreamId(1), "c1");
        assert!(m.may_post_now(&item(1, Endpoint::Stop)));
    }

    #[test]
    fn unordered_sends_never_wait_for_each_other() {
        let mut m = connected(false);
        m.queue.insert(item(1, Endpoint::Send), 10);
        m.retries.push(99, item(2, Endpoint::Send));
        assert!(m.may_post_now(&item(3, Endpoint::Send)));
    }

    #[test]
    fn ordered_retryable_waits_for_an_earlier_queued_retryable_only() {
        let mut m = connected(true);
        m.queue.insert(item(2, Endpoint::Send), 10);
        m.queue.insert(item(3, Endpoint::Mode), 10);
        assert!(!m.may_post_now(&item(4, Endpoint::Send)), "2 goes first");
        assert!(m.may_post_now(&item(2, Endpoint::Send)), "nothing before 2");
        assert!(m.may_post_now(&item(1, Endpoint::Send)), "sent before 2");
        assert!(m.may_post_now(&item(4, Endpoint::Mode)), "not retryable");
    }

    #[test]
    fn ordered_retryable_waits_while_a_retryable_is_in_flight_or_retrying() {
        let mut m = connected(true);
        m.send(0, Endpoint::Stop);
        assert!(
            m.may_post_now(&item(9, Endpoint::Send)),
            "a Stop never blocks"
        );
        m.send(0, Endpoint::Send);
        assert!(!m.may_post_now(&item(9, Endpoint::Send)));
        assert!(m.may_post_now(&item(9, Endpoint::Stop)));

        let mut m = connected(true);
        m.retries.push(99, item(1, Endpoint::Send));
        assert!(!m.may_post_now(&item(9, Endpoint::Send)));
    }

    #[test]
    fn post_deadline_is_off_by_default_and_never_zero() {
        let mut m = Machine::new(Config::default(), 1);
        assert_eq!(m.post_deadline(10), None);
        m.config.post_timeout_ms = Some(0);
        assert_eq!(m.post_deadline(10), Some(11));
    }
}
