//! Delivery reports: the fate of every message the app sent, handed to
//! `config.onDelivery` (read at report time, like `fetch`).

use super::js;
use super::shell::{take_outgoing, Shared};
use wasm_bindgen::JsValue;

use crate::core::{DropReason, Endpoint, FailReason, Fate, MsgId};

/// A report's `status` and `reason`, numbered as `helper.js` lists them
/// (`REPORT_OUTCOMES`), which spells them as the TypeScript `DeliveryReport` does.
#[derive(Clone, Copy)]
pub enum Outcome {
    Delivered = 0,
    DroppedQueueOverflow = 1,
    DroppedStaleRetriesExhausted = 2,
    DroppedCleared = 3,
    FailedRejected = 4,
    FailedStaleConnection = 5,
    FailedServerError = 6,
    FailedNetwork = 7,
    FailedTimeout = 8,
    /// A stored message older than `persist.maxAgeMs` when it was read back.
    #[cfg(feature = "persist")]
    DroppedExpired = 9,
}

pub fn deliver(shell: &Shared, msg: MsgId, fate: Fate) {
    let Some(outgoing) = take_outgoing(shell, msg) else {
        return;
    };
    let (outcome, http_status) = describe(fate);
    tell_app(
        shell,
        outcome,
        http_status,
        outgoing.endpoint,
        &outgoing.message,
        &outgoing.client_msg_id,
    );
}

/// Hands the app the report of `message`'s fate. `client_msg_id` is the id the
/// message was stored under when the shell gave it one (else undefined: the report
/// carries the message's own).
pub fn tell_app(
    shell: &Shared,
    outcome: Outcome,
    http_status: i32,
    endpoint: Endpoint,
    message: &JsValue,
    client_msg_id: &JsValue,
) {
    let state = shell.borrow().state();
    js::report(
        &state,
        outcome as i32,
        http_status,
        &js::string(endpoint.path()),
        message,
        client_msg_id,
    );
}

/// The fate's outcome and its `httpStatus` (0: none).
fn describe(fate: Fate) -> (Outcome, i32) {
    match fate {
        Fate::Delivered => (Outcome::Delivered, 0),
        Fate::Dropped(reason) => (
            match reason {
                DropReason::QueueOverflow => Outcome::DroppedQueueOverflow,
                DropReason::StaleRetriesExhausted => Outcome::DroppedStaleRetriesExhausted,
                DropReason::Cleared => Outcome::DroppedCleared,
            },
            0,
        ),
        Fate::Failed(reason) => match reason {
            FailReason::Rejected(code) => (Outcome::FailedRejected, code.into()),
            FailReason::StaleConnection => (Outcome::FailedStaleConnection, 404),
            FailReason::ServerError(code) => (Outcome::FailedServerError, code.into()),
            FailReason::Network => (Outcome::FailedNetwork, 0),
            FailReason::TimedOut => (Outcome::FailedTimeout, 0),
        },
    }
}
