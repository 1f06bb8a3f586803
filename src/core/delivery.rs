//! Messages: sending, queueing, flushing, and settling each one's fate from its POST
//! answer, with re-queue on 404, retries on transient failures and the reports that
//! make every fate observable (docs/delivery-rules.md, rules 1-7 and 10); for prompts,
//! receipts and sends that do not wait for the stream (rules 14 and 15), and the
//! notices of each fate (rule 17).

use super::action::{Action, Body, ControlFailure, PromptNotice, Warning};
use super::config::Config;
use super::endpoint::Endpoint;
use super::flight::{Flight, Purpose};
use super::ids::PostId;
use super::lifecycle::Phase;
use super::machine::Machine;
use super::outcome::{DropReason, FailReason, Fate, PostOutcome, SendOutcome, Verdict};
use super::prompts::Prompt;
use super::queue::Pending;
use super::receipt::{AnswerBody, Receipt};
use super::stats::bump;
use alloc::borrow::ToOwned;

impl Machine {
    /// Posts a message to `endpoint` now if connected, else queues it while a stream
    /// or a reconnect timer exists. The shell keeps the body under the returned id.
    /// A prompt ([`Machine::is_prompt`]) sent this way has no `clientMsgId` the core
    /// knows, so no receipt can confirm it: use `send_prompt`.
    pub fn send(&mut self, now: u64, endpoint: Endpoint) -> SendOutcome {
        if self.is_prompt(endpoint) {
            return self.send_prompt(now, Prompt::default());
        }
        if matches!(self.phase, Phase::Idle | Phase::Disconnected) {
            return SendOutcome::Refused;
        }
        let item = Pending::new(self.alloc_msg(), endpoint);
        self.admit(now, item)
    }

    /// Posts a message just taken in, or queues it.
    pub(super) fn admit(&mut self, now: u64, item: Pending) -> SendOutcome {
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
        // Nothing while authentication is lost: the server would not take it.
        if self.sessions.is_empty() || self.auth_latched() {
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
    /// `Dropped(Cleared)` report. POSTs already in flight are not recalled. With
    /// `prompt_outbox`, prompts stay (the user submitted them), and a new draft scope
    /// starts (docs/delivery-rules.md, rule 16).
    pub fn clear_pending_sends(&mut self) {
        let keeps_prompts = self.config.prompt_outbox;
        let cleared = |p: &Pending| !(keeps_prompts && p.prompt);
        while let Some(item) = self.queue.take_first(cleared) {
            self.report(&item, Fate::Dropped(DropReason::Cleared));
        }
        while let Some(item) = self.retries.take_first(cleared) {
            self.report(&item, Fate::Dropped(DropReason::Cleared));
        }
        self.prompts.new_scope();
    }

    pub fn on_post_answer(&mut self, now: u64, post: PostId, outcome: PostOutcome) {
        self.answer(now, post, outcome, AnswerBody::NotAReceipt);
    }

    /// The 2xx answer to an `Action::PostPrompt` that asked for its receipt, with what
    /// its body said (docs/delivery-rules.md, rule 14).
    pub fn on_post_receipt(&mut self, now: u64, post: PostId, body: AnswerBody) {
        self.answer(now, post, PostOutcome::Accepted, body);
    }

    fn answer(&mut self, now: u64, post: PostId, outcome: PostOutcome, body: AnswerBody) {
        if let Some(flight) = self.flights.take(post) {
            self.settle(now, flight, outcome, body);
            self.flush(now);
        }
    }

    /// Posts what the queue allows ([`Machine::may_post_now`]), in send order.
    pub(super) fn flush(&mut self, now: u64) {
        self.post_acks(now);
        loop {
            let next = self.queue.iter().position(|p| self.may_post_now(p));
            let Some(item) = next.and_then(|at| self.queue.take(at)) else {
                break;
            };
            self.post_message(now, item);
        }
    }

    /// Queues `item` at its place; past the bound the oldest is dropped and reported.
    /// With `prompt_outbox` prompts are never evicted (a full outbox refuses new ones
    /// instead), only the oldest other message.
    pub(super) fn enqueue(&mut self, item: Pending) {
        let bound = self.config.max_pending_sends;
        let evicted = if self.config.prompt_outbox {
            self.queue.insert_evicting(item, bound, |p| !p.prompt)
        } else {
            self.queue.insert(item, bound)
        };
        if let Some(evicted) = evicted {
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

    /// Settles one POST: for a message, its fate (or its next attempt). `body` is what
    /// a 2xx answer's body said, for a prompt that asked for its receipt.
    pub(super) fn settle(
        &mut self,
        now: u64,
        flight: Flight,
        outcome: PostOutcome,
        body: AnswerBody,
    ) {
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
            Purpose::Message(item) => {
                self.settle_message(now, item, flight.generation, outcome, body)
            }
            Purpose::Probe => self.on_probe_answer(now, flight.post, outcome),
            Purpose::Applied => self.on_ack_answer(now, flight.post, flight.generation, outcome),
            // A 2xx counts only through `on_snapshot_answer`, which read its body.
            Purpose::Snapshot => self.settle_snapshot(now, flight.post, false),
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
        body: AnswerBody,
    ) {
        let retryable = is_retryable(&self.config, item.endpoint);
        match outcome.verdict() {
            Verdict::Accepted if item.prompt && self.config.receipts => {
                match body.confirms(self.prompts.client_msg_id(item.msg)) {
                    Some(receipt) => self.accept_receipt(now, &item, receipt),
                    // Ambiguous: the server may or may not have it; the same body again.
                    None => self.retry_or_fail(now, item, FailReason::NoReceipt),
                }
            }
            Verdict::Accepted => self.report(&item, Fate::Delivered),
            Verdict::Stale if item.prompt && self.config.send_without_stream => {
                // `/send` is not tied to the stream: a 404 says nothing of the
                // connection, and is final (docs/delivery-rules.md, rule 15).
                self.report(&item, Fate::Failed(FailReason::Rejected(404)));
            }
            Verdict::Stale => {
                if !retryable {
                    // A lifecycle signal belongs to the dead connection: never replay it.
                    self.report(&item, Fate::Failed(FailReason::StaleConnection));
                } else {
                    item.stale_404s = item.stale_404s.saturating_add(1);
                    if item.stale_404s >= self.config.max_stale_retries {
                        self.drop_message(item, DropReason::StaleRetriesExhausted);
                    } else {
                        self.persist_attempt(&item);
                        self.tell_prompt_retrying(&item);
                        self.enqueue(item);
                    }
                }
                self.connection_stale(now, generation);
            }
            Verdict::Transient(reason) => self.retry_or_fail(now, item, reason),
            Verdict::Rejected(code) => self.report(&item, Fate::Failed(FailReason::Rejected(code))),
        }
    }

    /// A transient failure (or an answer without its receipt): retried after a
    /// backoff while the retry rules allow, else reported failed with `reason`.
    fn retry_or_fail(&mut self, now: u64, mut item: Pending, reason: FailReason) {
        let retryable = is_retryable(&self.config, item.endpoint);
        if retryable && self.config.may_retry(item.retries) {
            let config = &self.config;
            let delay = config
                .backoff
                .delay_of(item.retries, config.retry_jitter, &mut self.rng);
            item.retries = item.retries.saturating_add(1);
            bump(&mut self.stats.send_retries);
            self.persist_attempt(&item);
            self.tell_prompt_retrying(&item);
            if matches!(self.phase, Phase::Disconnected) {
                // No timer after `disconnect()`: wait in the queue for `connect()`.
                self.enqueue(item);
            } else {
                self.retries.push(now.saturating_add(delay), item);
            }
        } else {
            self.report(&item, Fate::Failed(reason));
        }
    }

    fn tell_prompt_retrying(&mut self, item: &Pending) {
        if item.prompt {
            self.tell_prompt(item.msg, PromptNotice::Pending { retrying: true });
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
        if item.prompt && config.send_without_stream {
            return self.prompt_may_go(item);
        }
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

    /// `send_without_stream`: a prompt goes out whatever the stream's state, once
    /// `connect()` was called and the first restore is done, one at a time and in send
    /// order (docs/delivery-rules.md, rule 15).
    fn prompt_may_go(&self, item: &Pending) -> bool {
        let prompt_outstanding =
            self.flights.messages().any(|p| p.prompt) || self.retries.iter().any(|p| p.prompt);
        let earlier_queued = self.queue.iter().any(|p| p.prompt && p.msg < item.msg);
        let down = matches!(self.phase, Phase::Idle | Phase::Disconnected);
        !(down || self.restore_gate || prompt_outstanding || earlier_queued)
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
        if item.prompt {
            return self.post_prompt(now, item);
        }
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

    /// A prompt's POST: with `X-Connection-ID` only while a welcome of the current
    /// stream is known (a stale id would meet a 404, final for a prompt sent without
    /// the stream).
    fn post_prompt(&mut self, now: u64, item: Pending) {
        let connection_id = self.live_connection_id().map(ToOwned::to_owned);
        let (id, msg) = (self.alloc_post(), item.msg);
        if self.prompts.posted(msg) {
            // From now on it must never adopt a session, after a reload too.
            self.persist_attempt(&item);
        }
        self.flights.push(Flight {
            post: id,
            generation: self.generation,
            deadline: self.post_deadline(now),
            purpose: Purpose::Message(item),
        });
        self.push(Action::PostPrompt {
            id,
            msg,
            connection_id,
            read_receipt: self.config.receipts,
        });
    }

    fn drop_message(&mut self, item: Pending, reason: DropReason) {
        self.report(&item, Fate::Dropped(reason));
        self.push(Action::Warn(Warning::MessageDropped(item.msg, reason)));
    }

    fn report(&mut self, item: &Pending, fate: Fate) {
        self.conclude(item, fate, None);
    }

    /// The end of a message: counted, its record removed, the app's listener told
    /// (`notices`), then reported, with the receipt that confirmed it if any.
    pub(super) fn conclude(&mut self, item: &Pending, fate: Fate, receipt: Option<Receipt>) {
        let msg = item.msg;
        bump(match fate {
            Fate::Delivered => &mut self.stats.delivered,
            Fate::Dropped(_) => &mut self.stats.dropped,
            Fate::Failed(_) => &mut self.stats.failed,
            Fate::Uncertain => &mut self.stats.uncertain,
        });
        // Its record goes first: a removal the shell carries out before the report
        // (unless `group_removals` holds it back while messages are in flight).
        self.persist_settled(msg, matches!(fate, Fate::Delivered));
        self.prompts.settled(msg);
        if item.prompt {
            let notice = match fate {
                Fate::Delivered => PromptNotice::Accepted(receipt.clone()),
                Fate::Uncertain => PromptNotice::Uncertain,
                _ => PromptNotice::Failed(fate),
            };
            self.tell_prompt(msg, notice);
        } else if self.config.notices && control_failed(fate) {
            let event = match item.endpoint {
                Endpoint::Permission => ControlFailure::PermissionRejected,
                _ => ControlFailure::Error,
            };
            self.push(Action::ControlFailed { msg, event, fate });
        }
        if let Some(receipt) = receipt {
            self.push(Action::Receipt { msg, receipt });
        }
        self.push(Action::Report { msg, fate });
    }
}

/// A control message's POST failed, as opposed to its being cleared by the app or
/// evicted unsent: the app's listener hears of it (`notices`).
fn control_failed(fate: Fate) -> bool {
    matches!(
        fate,
        Fate::Failed(_) | Fate::Dropped(DropReason::StaleRetriesExhausted)
    )
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

    use crate::core::ids::{MsgId, StreamId};

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
