//! Fault injection: the misbehaviours a test can switch on through `/api/test/`.
//!
//! Only the switches live here; the places that consult them (POST handling, replay,
//! heartbeats) stay in their own modules so the normal path reads as normal code.

use std::collections::VecDeque;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::receipt::ReceiptFault;

/// Longest POST delay a test may ask for, so a typo cannot hang a suite for hours.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(60);
/// The `endpoint` a `fail-next` names to fail `GET /api/chat/events` instead of POSTs.
pub(crate) const STREAM_ENDPOINT: &str = "events";
/// Longest `kinds` list `break-receipts` takes at once.
pub(crate) const MAX_RECEIPT_KINDS: usize = 1_000;

#[derive(Debug, Clone)]
pub(crate) struct Faults {
    fail_next: Option<FailNext>,
    /// Added to every `/api/chat/*` POST answer, after it was processed.
    pub delay: Duration,
    /// Extra already-seen events replayed on each reconnect, for de-duplication tests.
    pub replay_overlap: u64,
    pub heartbeats: bool,
    /// How to break the receipts of the next accepted sends, in order: runs of one
    /// fault (so `{kind, count}` stays one entry however large `count` is).
    broken_receipts: VecDeque<BrokenReceipts>,
    /// The next this many probes are answered but not echoed.
    swallow_probes: u64,
    /// `expire-auth`: chat POSTs, new streams and the auth check answer 401 until
    /// `restore-auth` (`auth.rs`).
    pub auth_expired: bool,
}

/// The next `remaining` receipts in the queue are broken by `fault`.
#[derive(Debug, Clone)]
struct BrokenReceipts {
    remaining: u64,
    fault: ReceiptFault,
}

#[derive(Debug, Clone)]
struct FailNext {
    remaining: u64,
    status: StatusCode,
    endpoint: Option<String>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            fail_next: None,
            delay: Duration::ZERO,
            replay_overlap: 0,
            heartbeats: true,
            broken_receipts: VecDeque::new(),
            swallow_probes: 0,
            auth_expired: false,
        }
    }
}

impl Faults {
    /// Arms `count` injected failures (replacing any still armed); `count == 0` disarms.
    pub fn fail_next(&mut self, count: u64, status: StatusCode, endpoint: Option<String>) {
        self.fail_next = (count > 0).then_some(FailNext {
            remaining: count,
            status,
            endpoint,
        });
    }

    /// The status to answer a POST to `endpoint` with instead of processing it, if a
    /// failure is armed for it; consumes one.
    pub fn take_failure(&mut self, endpoint: &str) -> Option<StatusCode> {
        let armed = self.fail_next.as_ref()?;
        if armed.endpoint.as_deref().is_some_and(|e| e != endpoint) {
            return None;
        }
        self.consume_failure()
    }

    /// The status to answer `GET /api/chat/events` with instead of opening a stream,
    /// if a failure is armed for endpoint `"events"` by name; consumes one. A failure
    /// armed without an endpoint is for POSTs only: streams are never failed by it.
    pub fn take_stream_failure(&mut self) -> Option<StatusCode> {
        let armed = self.fail_next.as_ref()?;
        if armed.endpoint.as_deref() != Some(STREAM_ENDPOINT) {
            return None;
        }
        self.consume_failure()
    }

    fn consume_failure(&mut self) -> Option<StatusCode> {
        let armed = self.fail_next.as_mut()?;
        armed.remaining -= 1;
        let status = armed.status;
        if armed.remaining == 0 {
            self.fail_next = None;
        }
        Some(status)
    }

    /// Arms `count` broken receipts of one kind (replacing any still armed);
    /// `count == 0` disarms.
    pub fn break_receipts(&mut self, count: u64, fault: ReceiptFault) {
        self.broken_receipts.clear();
        if count > 0 {
            self.broken_receipts.push_back(BrokenReceipts {
                remaining: count,
                fault,
            });
        }
    }

    /// Arms a queue of broken receipts, one per fault, in order (replacing any still
    /// armed); an empty list disarms.
    pub fn break_receipts_in_turn(&mut self, faults: &[ReceiptFault]) {
        self.broken_receipts.clear();
        for &fault in faults {
            match self.broken_receipts.back_mut() {
                Some(last) if last.fault == fault => last.remaining += 1,
                _ => self.broken_receipts.push_back(BrokenReceipts {
                    remaining: 1,
                    fault,
                }),
            }
        }
    }

    /// How to break the receipt of the `send` just accepted, if armed; consumes one.
    pub fn take_broken_receipt(&mut self) -> Option<ReceiptFault> {
        let next = self.broken_receipts.front_mut()?;
        next.remaining -= 1;
        let fault = next.fault;
        if next.remaining == 0 {
            self.broken_receipts.pop_front();
        }
        Some(fault)
    }

    /// Arms `count` swallowed probe echoes (replacing any still armed); 0 disarms.
    pub fn swallow_probes(&mut self, count: u64) {
        self.swallow_probes = count;
    }

    /// Whether the echo of the probe just taken is to be swallowed; consumes one.
    pub fn take_swallowed_probe(&mut self) -> bool {
        let armed = self.swallow_probes > 0;
        self.swallow_probes = self.swallow_probes.saturating_sub(1);
        armed
    }

    pub fn describe(&self) -> Value {
        json!({
            "failNext": self.fail_next.as_ref().map(|f| json!({
                "remaining": f.remaining,
                "status": f.status.as_u16(),
                "endpoint": f.endpoint,
            })),
            "delayMs": self.delay.as_millis() as u64,
            "replayOverlap": self.replay_overlap,
            "heartbeats": self.heartbeats,
            "brokenReceipts": self.describe_broken_receipts(),
            "swallowProbes": self.swallow_probes,
            "authExpired": self.auth_expired,
        })
    }

    /// `{"remaining": total, "kind": the next one, "queue": [{"kind", "count"}, ...]}`,
    /// or null when none is armed.
    fn describe_broken_receipts(&self) -> Value {
        let Some(next) = self.broken_receipts.front() else {
            return Value::Null;
        };
        let queue: Vec<Value> = self
            .broken_receipts
            .iter()
            .map(|b| json!({"kind": b.fault.name(), "count": b.remaining}))
            .collect();
        json!({
            "remaining": self.broken_receipts.iter().map(|b| b.remaining).sum::<u64>(),
            "kind": next.fault.name(),
            "queue": queue,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_next_counts_down_only_on_its_endpoint() {
        let mut faults = Faults::default();
        faults.fail_next(2, StatusCode::INTERNAL_SERVER_ERROR, Some("send".into()));
        assert_eq!(faults.take_failure("suspend"), None);
        assert_eq!(
            faults.take_failure("send"),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert_eq!(
            faults.take_failure("send"),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
        assert_eq!(faults.take_failure("send"), None);
    }

    #[test]
    fn fail_next_without_endpoint_hits_any_endpoint_and_zero_disarms() {
        let mut faults = Faults::default();
        faults.fail_next(5, StatusCode::SERVICE_UNAVAILABLE, None);
        assert_eq!(
            faults.take_failure("reconnect"),
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
        faults.fail_next(0, StatusCode::SERVICE_UNAVAILABLE, None);
        assert_eq!(faults.take_failure("reconnect"), None);
    }

    #[test]
    fn only_a_failure_armed_for_events_fails_streams_and_it_spares_posts() {
        let mut faults = Faults::default();
        faults.fail_next(3, StatusCode::INTERNAL_SERVER_ERROR, None);
        assert_eq!(
            faults.take_stream_failure(),
            None,
            "endpoint-less: POSTs only"
        );
        faults.fail_next(2, StatusCode::SERVICE_UNAVAILABLE, Some("send".into()));
        assert_eq!(faults.take_stream_failure(), None);
        faults.fail_next(2, StatusCode::SERVICE_UNAVAILABLE, Some("events".into()));
        assert_eq!(faults.take_failure("send"), None);
        assert_eq!(faults.take_failure("suspend-beacon"), None);
        assert_eq!(
            faults.take_stream_failure(),
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
        assert_eq!(faults.describe()["failNext"]["remaining"], 1);
        assert_eq!(
            faults.take_stream_failure(),
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
        assert_eq!(faults.take_stream_failure(), None);
    }

    #[test]
    fn swallowed_probes_count_down_and_zero_disarms() {
        let mut faults = Faults::default();
        assert!(!faults.take_swallowed_probe());
        faults.swallow_probes(2);
        assert_eq!(faults.describe()["swallowProbes"], 2);
        assert!(faults.take_swallowed_probe());
        assert!(faults.take_swallowed_probe());
        assert!(!faults.take_swallowed_probe());
        faults.swallow_probes(3);
        faults.swallow_probes(0);
        assert!(!faults.take_swallowed_probe());
    }

    #[test]
    fn broken_receipts_count_down_and_zero_disarms() {
        let mut faults = Faults::default();
        assert_eq!(faults.take_broken_receipt(), None);
        faults.break_receipts(2, ReceiptFault::WrongId);
        assert_eq!(faults.describe()["brokenReceipts"]["remaining"], 2);
        assert_eq!(faults.take_broken_receipt(), Some(ReceiptFault::WrongId));
        assert_eq!(faults.take_broken_receipt(), Some(ReceiptFault::WrongId));
        assert_eq!(faults.take_broken_receipt(), None);
        faults.break_receipts(3, ReceiptFault::Html);
        faults.break_receipts(0, ReceiptFault::Html);
        assert_eq!(faults.take_broken_receipt(), None);
        assert_eq!(faults.describe()["brokenReceipts"], Value::Null);
    }

    #[test]
    fn a_queue_of_broken_receipts_is_used_in_order_one_each() {
        use ReceiptFault::{Html, MissingSession, WrongId};
        let mut faults = Faults::default();
        faults.break_receipts(5, Html);
        faults.break_receipts_in_turn(&[WrongId, Html, Html, MissingSession]);
        assert_eq!(
            faults.describe()["brokenReceipts"],
            json!({
                "remaining": 4,
                "kind": "wrong_id",
                "queue": [
                    {"kind": "wrong_id", "count": 1},
                    {"kind": "html", "count": 2},
                    {"kind": "missing_session", "count": 1},
                ],
            }),
            "the queue replaced the five html ones"
        );
        let taken: Vec<_> = std::iter::from_fn(|| faults.take_broken_receipt()).collect();
        assert_eq!(taken, [WrongId, Html, Html, MissingSession]);
        assert_eq!(faults.describe()["brokenReceipts"], Value::Null);
        faults.break_receipts_in_turn(&[Html]);
        faults.break_receipts_in_turn(&[]);
        assert_eq!(faults.take_broken_receipt(), None, "an empty list disarms");
    }
}
