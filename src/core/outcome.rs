//! What happened to things: the answer to a POST, the result of `send`, the verdict
//! on an incoming event, and the final fate of a message (docs/delivery-rules.md,
//! rule 10).

use super::ids::MsgId;

/// How a POST ended, as the shell saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostOutcome {
    /// `ok` was true (2xx).
    Accepted,
    /// `ok` was false, with this status.
    Status(u16),
    /// The `fetch` promise rejected.
    NetworkError,
    /// The shell aborted it after the core's `AbortPost` (`postTimeoutMs`).
    TimedOut,
}

/// What a POST outcome means for delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Accepted,
    /// 404: the server no longer knows the connection.
    Stale,
    /// 5xx, 429, network error or timeout: worth retrying later.
    Transient(FailReason),
    /// Any other status: the server refused this message for good.
    Rejected(u16),
}

impl PostOutcome {
    pub(crate) fn verdict(self) -> Verdict {
        match self {
            PostOutcome::Accepted => Verdict::Accepted,
            PostOutcome::Status(200..=299) => Verdict::Accepted,
            PostOutcome::Status(404) => Verdict::Stale,
            PostOutcome::Status(code @ (429 | 500..=599)) => {
                Verdict::Transient(FailReason::ServerError(code))
            }
            PostOutcome::Status(code) => Verdict::Rejected(code),
            PostOutcome::NetworkError => Verdict::Transient(FailReason::Network),
            PostOutcome::TimedOut => Verdict::Transient(FailReason::TimedOut),
        }
    }

    pub(crate) fn is_ok(self) -> bool {
        matches!(self.verdict(), Verdict::Accepted)
    }
}

/// The result of `send`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// Connected: a `Post` for it is among the actions.
    Posted(MsgId),
    /// Kept in the pending queue until connected (or until an earlier ordered send
    /// is accepted).
    Queued(MsgId),
    /// Not connected and not recovering (no stream, no reconnect timer), or, with
    /// `prompt_outbox`, a prompt the full outbox refuses (or, with `auth_latch`, while
    /// authentication is latched: the phase is then always down): JS `send()` returns
    /// false. No id was allocated.
    Refused,
}

/// What the shell does with an incoming stream event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventVerdict {
    /// Hand it to the app's listener.
    Dispatch,
    /// Its `(sessionId, seq)` is not newer than the tracked seq: a replay
    /// (docs/delivery-rules.md, rule 8).
    Duplicate,
    /// It came from a stream that is no longer the current one.
    Ignored,
}

/// Why a message was given up before the server saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The pending queue was full and this was the oldest entry.
    QueueOverflow,
    /// It met 404 `maxStaleRetries` times.
    StaleRetriesExhausted,
    /// `clearPendingSends()`.
    Cleared,
    /// A control message not yet posted when authentication was lost (rule 24).
    AuthLost,
}

/// Why the server did not take a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailReason {
    /// A 4xx other than 404 and 429 (or another non-2xx status).
    Rejected(u16),
    /// 404 on an endpoint that is never replayed.
    StaleConnection,
    /// 5xx or 429, after the allowed retries (at once if not retryable).
    ServerError(u16),
    /// The request never got an answer.
    Network,
    /// Aborted after `postTimeoutMs`.
    TimedOut,
    /// `receipts`: answered 2xx without the prompt's receipt, after the allowed
    /// retries.
    NoReceipt,
    /// A prompt not yet posted (or waiting on a retry) when authentication was lost
    /// (rule 24).
    AuthLost,
}

/// The final fate of one accepted message; reported exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Delivered,
    Dropped(DropReason),
    Failed(FailReason),
    /// Posted, and authentication was lost before the answer (rule 24): the server may
    /// or may not have it. A later answer changes nothing.
    Uncertain,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_by_the_wire_protocol() {
        assert_eq!(PostOutcome::Accepted.verdict(), Verdict::Accepted);
        assert_eq!(PostOutcome::Status(204).verdict(), Verdict::Accepted);
        assert_eq!(PostOutcome::Status(404).verdict(), Verdict::Stale);
        assert_eq!(
            PostOutcome::Status(429).verdict(),
            Verdict::Transient(FailReason::ServerError(429))
        );
        assert_eq!(
            PostOutcome::Status(503).verdict(),
            Verdict::Transient(FailReason::ServerError(503))
        );
        assert_eq!(PostOutcome::Status(400).verdict(), Verdict::Rejected(400));
        assert_eq!(PostOutcome::Status(302).verdict(), Verdict::Rejected(302));
        assert_eq!(
            PostOutcome::NetworkError.verdict(),
            Verdict::Transient(FailReason::Network)
        );
        assert_eq!(
            PostOutcome::TimedOut.verdict(),
            Verdict::Transient(FailReason::TimedOut)
        );
    }

    #[test]
    fn only_2xx_is_ok() {
        assert!(PostOutcome::Accepted.is_ok());
        assert!(PostOutcome::Status(200).is_ok());
        assert!(!PostOutcome::Status(500).is_ok());
        assert!(!PostOutcome::NetworkError.is_ok());
    }
}
