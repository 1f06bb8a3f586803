//! What the core asks the shell to do, in the order it must be done.

use super::endpoint::Endpoint;
use super::ids::{EventKey, MsgId, PostId, StreamId};
use super::outcome::{DropReason, Fate, PostOutcome};
use super::receipt::Receipt;
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
    /// `{type:"_auth_lost"}`: authentication was lost (rule 24).
    AuthLost,
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
    /// `prompt_outbox`: `max_pending_sends` prompts are unsettled; a new one is refused.
    OutboxFull,
    /// `foreground_probe`: no echo within a second, or the probe's POST failed; the
    /// stream is rebuilt.
    ProbeFailed,
    /// `auth_latch`: authentication was lost; nothing reconnects until it is restored.
    AuthLost,
}

/// What the app's listener hears about one prompt (`notices`; the existing client's
/// `_send_*` events).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromptNotice {
    /// Taken in (`retrying: false`), or going to be sent again after a failed or
    /// ambiguous attempt (`retrying: true`).
    Pending { retrying: bool },
    /// Delivered; with its receipt when `receipts` is on.
    Accepted(Option<Receipt>),
    /// Given up, with the fate it is reported with (never `Delivered`).
    Failed(Fate),
    /// Its fate cannot be known: authentication was lost while its POST was in flight
    /// (`Fate::Uncertain`, rule 24).
    Uncertain,
}

/// The listener event a failed control message (any message that is not a prompt)
/// becomes (`notices`). The shell reads `sessionId` and `permId` from its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlFailure {
    /// `{ type: "error", sessionId?, error }`
    Error,
    /// A `permission_response`: `{ type: "permission_response_rejected", sessionId?,
    /// permId, error }`
    PermissionRejected,
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
            Warning::MessageDropped(_, DropReason::AuthLost) => {
                "message dropped: authentication lost"
            }
            Warning::StaleConnection => "404: connection unknown to the server; reconnecting",
            Warning::StaleStream => "stream silent for staleAfterMs; reconnecting",
            Warning::OutboxFull => "outbox full (maxPendingSends): prompt refused",
            Warning::ProbeFailed => {
                "foregroundProbe: no echo within 1 s (or the probe POST failed); reconnecting"
            }
            Warning::AuthLost => {
                "authentication lost: stream closed, nothing reconnects until restoreAuthentication()"
            }
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
    /// POST prompt `msg` (the body the shell keeps for it) to `send` now:
    /// `X-Connection-ID` only when `connection_id` is known. With `read_receipt`, a 2xx
    /// answer's body is read and handed back through `on_post_receipt`; any other
    /// answer goes through `on_post_answer`.
    PostPrompt {
        id: PostId,
        msg: MsgId,
        connection_id: Option<String>,
        read_receipt: bool,
    },
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
    /// `POST {baseUrl}/api/chat/probe` with `{"nonce": nonce}` and this connection id
    /// (`foreground_probe`); its answer goes through `on_post_answer`, and the stream's
    /// `{type: "_probe", nonce}` through `on_probe_echo`.
    PostProbe {
        id: PostId,
        connection_id: String,
        nonce: String,
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
    /// The receipt that confirmed prompt `msg`; its `Report` (delivered) follows, and
    /// carries the receipt's `sessionId`.
    Receipt {
        msg: MsgId,
        receipt: Receipt,
    },
    /// Set `sessionId` to `session_id` in the bodies of these prompts (all `null` so
    /// far and never posted): their draft's first receipt named it. Before any POST of
    /// theirs.
    AdoptSession {
        msgs: Vec<MsgId>,
        session_id: String,
    },
    /// Tell the app's listener about prompt `msg` (`notices`); before its `Report`.
    Prompt {
        msg: MsgId,
        notice: PromptNotice,
    },
    /// Tell the app's listener that control message `msg` failed (`notices`), with the
    /// fate it is reported with; before its `Report`.
    ControlFailed {
        msg: MsgId,
        event: ControlFailure,
        fate: Fate,
    },
    Warn(Warning),
    /// Hand the event kept under `key` to the listener now, then report what it
    /// returned with `on_applied` (`applied_events`).
    Apply(EventKey),
    /// Forget the event kept under `key`: it is covered or will be sent again.
    Discard(EventKey),
    /// POST `{ type: "session_event_applied", sessionId, seq }` to
    /// `session-event-applied`; its answer goes through `on_post_answer`.
    PostApplied {
        id: PostId,
        connection_id: Option<String>,
        session_id: String,
        seq: u64,
    },
    /// POST `{ type: "reconnect_snapshot_applied", sessionId, cursor, offerId? }` to
    /// `reconnect-snapshot-applied`; a 2xx answer's body is read and handed back through
    /// `on_snapshot_answer`, any other answer through `on_post_answer`.
    PostSnapshotApplied {
        id: PostId,
        connection_id: String,
        session_id: String,
        cursor: u64,
        offer_id: Option<String>,
    },
    /// `auth_latch`: GET the authentication check URL through the app's `fetch` and
    /// hand its answer back through `on_auth_check` with this id (rule 24).
    CheckAuth(PostId),
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
            Warning::OutboxFull,
            Warning::ProbeFailed,
            Warning::MessageDropped(MsgId(1), DropReason::AuthLost),
            Warning::AuthLost,
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
