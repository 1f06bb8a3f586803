//! What the core asks the shell to do, in the order it must be done.

use super::endpoint::Endpoint;
use super::ids::{MsgId, PostId, StreamId};
use super::outcome::{DropReason, Fate, PostOutcome};
use alloc::string::String;
use alloc::vec::Vec;

/// One tracked session and the last seq seen on it, as sent in reconnect and
/// suspend bodies (`{ sessionId, lastSeq }`, serialised).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSeq {
    pub session_id: String,
    pub last_seq: u64,
}

/// The body of a POST. The shell JSON-encodes reconnect and suspend bodies itself;
/// a message body is the app's object the shell keeps under its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Message(MsgId),
    /// `{"type":"reconnect","sessions":[...]}`
    Reconnect(Vec<SessionSeq>),
    /// `{"type":"session_suspend","sessions":[...]}`
    Suspend(Vec<SessionSeq>),
}

/// A notification to the app's listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// `{type:"_open"}`
    Open,
    /// `{type:"_close"}`
    Close,
    /// `{type:"_foreground"}`
    Foreground,
}

/// Something worth a `console.warn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warning {
    /// The reconnect POST failed; the stream is reopened after a delay.
    ReconnectPostFailed(PostOutcome),
    /// A message was given up without reaching the server (also `Report`ed).
    MessageDropped(MsgId, DropReason),
    /// A POST met 404 on the current connection; the stream is rebuilt.
    StaleConnection,
    /// The stream was silent for `staleAfterMs`; it is rebuilt.
    StaleStream,
}

impl Warning {
    pub fn message(&self) -> &'static str {
        match self {
            Warning::ReconnectPostFailed(PostOutcome::NetworkError) => {
                "reconnect POST failed (network); reconnecting later"
            }
            Warning::ReconnectPostFailed(PostOutcome::TimedOut) => {
                "reconnect POST timed out; reconnecting later"
            }
            Warning::ReconnectPostFailed(_) => "reconnect POST refused; reconnecting later",
            Warning::MessageDropped(_, DropReason::QueueOverflow) => {
                "queue full (maxPendingSends): oldest message dropped"
            }
            Warning::MessageDropped(_, DropReason::StaleRetriesExhausted) => {
                "message dropped after maxStaleRetries 404s"
            }
            Warning::MessageDropped(_, DropReason::Cleared) => {
                "message dropped by clearPendingSends()"
            }
            Warning::StaleConnection => "404: connection unknown to the server; reconnecting",
            Warning::StaleStream => "stream silent for staleAfterMs; reconnecting",
        }
    }
}

/// One thing for the shell to carry out. The shell drains `poll_action` right after
/// every input, synchronously.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Create an `EventSource` on `{baseUrl}/api/chat/events`.
    OpenStream(StreamId),
    /// `close()` it and drop its handlers.
    CloseStream(StreamId),
    /// `fetch(url, {method:'POST', headers, body})` now, with this connection id.
    Post {
        id: PostId,
        endpoint: Endpoint,
        connection_id: String,
        body: Body,
        /// The request must outlive the page: a suspend sent because the page is being
        /// hidden or left (`fetch`'s `keepalive`; WebKit cancels a page's other
        /// requests as it enters the back/forward cache). Only then, so the requests
        /// of the existing client's calls keep exactly its init object.
        keepalive: bool,
    },
    /// Abort this POST: it timed out, and the core already counted it as `TimedOut`.
    AbortPost(PostId),
    /// `sendBeacon(suspendUrl, {connectionId, sessions})`, if the host can.
    Beacon {
        connection_id: String,
        sessions: Vec<SessionSeq>,
    },
    Notify(Notice),
    /// The final fate of one message: the shell may now forget its body.
    Report {
        msg: MsgId,
        fate: Fate,
    },
    Warn(Warning),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_warning_has_a_nonempty_message() {
        let warnings = [
            Warning::ReconnectPostFailed(PostOutcome::Status(500)),
            Warning::ReconnectPostFailed(PostOutcome::NetworkError),
            Warning::ReconnectPostFailed(PostOutcome::TimedOut),
            Warning::MessageDropped(MsgId(1), DropReason::QueueOverflow),
            Warning::MessageDropped(MsgId(1), DropReason::StaleRetriesExhausted),
            Warning::MessageDropped(MsgId(1), DropReason::Cleared),
            Warning::StaleConnection,
            Warning::StaleStream,
        ];
        for warning in warnings {
            assert!(!warning.message().is_empty());
        }
        let mut messages: Vec<&str> = warnings.iter().map(Warning::message).collect();
        messages.sort_unstable();
        messages.dedup();
        assert_eq!(messages.len(), warnings.len(), "each says what happened");
        assert!(Warning::StaleStream.message().contains("staleAfterMs"));
    }
}
