//! Messages: sending, queueing, flushing, and settling each one's fate from its POST
//! answer, with re-queue on 404, retries on transient failures and the reports that
//! make every fate observable (rules 1-7, 10).

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
        if self.is_connected() && !self.must_wait(&item) {
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
        if self.sessions.is_empty() {
            return;
        }
        let sessions = self.sessions.snapshot();
        if self.is_connected() {
            self.post(
                now,
                Endpoint::Suspend,
                Body::Suspend(sessions),
                Purpose::Suspend,
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

    /// Posts what the queue allows, in send order. With `ordered_sends` at most one
    /// retryable message is outstanding; everything else goes at once.
    pub(super) fn flush(&mut self, now: u64) {
        while self.is_connected() {
            let busy = self.config.ordered_sends && self.slot_busy();
            let config = &self.config;
            let next = self
                .queue
                .take_first(|p| !busy || !is_retryable(config, p.endpoint));
            match next {
                Some(item) => self.post_message(now, item),
                None => break,
            }
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
        if self.is_connected() && !(self.config.ordered_sends && self.slot_busy()) {
            self.post_message(now, item);
        } else {
            self.enqueue(item);
        }
    }

    /// Settles one POST: for a message, its fate (or its next attempt).
    pub(super) fn settle(&mut self, now: u64, flight: Flight, outcome: PostOutcome) {
        match flight.purpose {
            Purpose::Reconnect => self.on_reconnect_answer(now, flight.generation, outcome),
            Purpose::Suspend => {
                if matches!(outcome.verdict(), Verdict::Stale) {
                    bump(&mut self.stats.stale_404s);
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
                bump(&mut self.stats.stale_404s);
                if !retryable {
                    // A lifecycle signal belongs to the dead connection: never replay it.
                    self.report(item.msg, Fate::Failed(FailReason::StaleConnection));
                } else {
                    item.stale_404s = item.stale_404s.saturating_add(1);
                    if item.stale_404s >= self.config.max_stale_retries {
                        self.drop_message(item, DropReason::StaleRetriesExhausted);
                    } else {
                        self.enqueue(item);
                    }
                }
                self.connection_stale(now, generation);
            }
            Verdict::Transient(reason) => {
                if retryable && item.retries < self.config.max_send_retries {
                    let delay = self.config.backoff.delay(item.retries, &mut self.rng);
                    item.retries += 1;
                    bump(&mut self.stats.send_retries);
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
    /// every other 404 from the same stale connection is late (rule 4).
    fn connection_stale(&mut self, now: u64, generation: u32) {
        if generation == self.generation && self.is_connected() {
            self.push(Action::Warn(Warning::StaleConnection));
            self.restart_stream(now);
        } else {
            bump(&mut self.stats.late_answers);
        }
    }

    fn must_wait(&self, item: &Pending) -> bool {
        self.config.ordered_sends
            && is_retryable(&self.config, item.endpoint)
            && (self.slot_busy()
                || self
                    .queue
                    .iter()
                    .any(|p| is_retryable(&self.config, p.endpoint)))
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
        self.post(now, endpoint, body, Purpose::Message(item));
    }

    fn post(&mut self, now: u64, endpoint: Endpoint, body: Body, purpose: Purpose) {
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
        self.push(Action::Report { msg, fate });
    }
}

/// Retryable: on the allowlist and not a lifecycle endpoint (rule 3).
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

    #[test]
    fn post_deadline_is_off_by_default_and_never_zero() {
        let mut m = Machine::new(Config::default(), 1);
        assert_eq!(m.post_deadline(10), None);
        m.config.post_timeout_ms = Some(0);
        assert_eq!(m.post_deadline(10), Some(11));
    }
}
