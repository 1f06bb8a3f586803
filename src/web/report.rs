//! Delivery reports: the fate of every message the app sent, handed to
//! `config.onDelivery` (read at report time, like `fetch`).

use js_sys::Object;
use wasm_bindgen::JsValue;

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
    let report = Object::new();
    let (status, reason, http_status) = describe(fate);
    js::set(&report, "status", &JsValue::from_str(status));
    if let Some(reason) = reason {
        js::set(&report, "reason", &JsValue::from_str(reason));
    }
    if let Some(code) = http_status {
        js::set(&report, "httpStatus", &JsValue::from_f64(f64::from(code)));
    }
    js::set(
        &report,
        "endpoint",
        &JsValue::from_str(outgoing.endpoint.path()),
    );
    let client_msg_id = js::get(&outgoing.message, "clientMsgId");
    if client_msg_id.as_string().is_some() {
        js::set(&report, "clientMsgId", &client_msg_id);
    }
    js::set(&report, "message", &outgoing.message);
    if let Err(error) = callback.call1(&JsValue::NULL, &report) {
        js::report_callback_error(&error);
    }
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
