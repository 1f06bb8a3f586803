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
/// `DeliveryReport` does) and its `httpStatus`.
fn describe(fate: Fate) -> (u32, Option<u16>) {
    match fate {
        Fate::Delivered => (0, None),
        Fate::Dropped(reason) => (
            match reason {
                DropReason::QueueOverflow => 1,
                DropReason::StaleRetriesExhausted => 2,
                DropReason::Cleared => 3,
            },
            None,
        ),
        Fate::Failed(reason) => match reason {
            FailReason::Rejected(code) => (4, Some(code)),
            FailReason::StaleConnection => (5, Some(404)),
            FailReason::ServerError(code) => (6, Some(code)),
            FailReason::Network => (7, None),
            FailReason::TimedOut => (8, None),
        },
    }
}
