//! Delivery reports: the fate of every message the app sent, handed to
//! `config.onDelivery` (read at report time, like `fetch`).

use super::js;
use super::shell::{take_outgoing, Shared};
use crate::core::{DropReason, FailReason, Fate, MsgId};

pub fn deliver(shell: &Shared, msg: MsgId, fate: Fate) {
    let Some(outgoing) = take_outgoing(shell, msg) else {
        return;
    };
    let callback = js::get_function(&shell.borrow().config, "onDelivery");
    let Some(callback) = callback else {
        return;
    };
    let (status, reason, http_status) = describe(fate);
    js::report(
        &callback,
        status,
        reason,
        http_status,
        outgoing.endpoint.path(),
        &outgoing.message,
    );
}

/// `(status, reason, httpStatus)` as the TypeScript `DeliveryReport` spells them.
fn describe(fate: Fate) -> (&'static str, Option<&'static str>, Option<u16>) {
    match fate {
        Fate::Delivered => ("delivered", None, None),
        Fate::Dropped(reason) => (
            "dropped",
            Some(match reason {
                DropReason::QueueOverflow => "queue_overflow",
                DropReason::StaleRetriesExhausted => "stale_retries_exhausted",
                DropReason::Cleared => "cleared",
            }),
            None,
        ),
        Fate::Failed(reason) => {
            let (reason, code) = match reason {
                FailReason::Rejected(code) => ("rejected", Some(code)),
                FailReason::StaleConnection => ("stale_connection", Some(404)),
                FailReason::ServerError(code) => ("server_error", Some(code)),
                FailReason::Network => ("network", None),
                FailReason::TimedOut => ("timeout", None),
            };
            ("failed", Some(reason), code)
        }
    }
}
