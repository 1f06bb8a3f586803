//! Delivery reports: the fate of every message the app sent, handed to
//! `config.onDelivery` (read at report time, like `fetch`).

use super::js;
use super::shell::{take_outgoing, Shared};
use crate::core::{DropReason, FailReason, Fate, MsgId};

pub fn deliver(shell: &Shared, msg: MsgId, fate: Fate) {
    let Some(outgoing) = take_outgoing(shell, msg) else {
        return;
    };
    let state = shell.borrow().state();
    let (code, http_status) = describe(fate);
    js::report(
        &state,
        code,
        http_status,
        outgoing.endpoint.path(),
        &outgoing.message,
    );
}

/// The fate's code for [`js::report`] (which spells it as the TypeScript
/// `DeliveryReport` does) and its `httpStatus` (0: none).
fn describe(fate: Fate) -> (i32, i32) {
    match fate {
        Fate::Delivered => (0, 0),
        Fate::Dropped(reason) => (
            match reason {
                DropReason::QueueOverflow => 1,
                DropReason::StaleRetriesExhausted => 2,
                DropReason::Cleared => 3,
            },
            0,
        ),
        Fate::Failed(reason) => match reason {
            FailReason::Rejected(code) => (4, code.into()),
            FailReason::StaleConnection => (5, 404),
            FailReason::ServerError(code) => (6, code.into()),
            FailReason::Network => (7, 0),
            FailReason::TimedOut => (8, 0),
        },
    }
}
