//! Delivery reports: the fate of every message the app sent, handed to
//! `config.onDelivery` (read at report time, like `fetch`) as a `DeliveryReport`
//! object, each field under its own name.

use js_sys::Function;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

use super::app;
use super::boundary;
use super::js;
use crate::core::{DropReason, Endpoint, FailReason, Fate, Receipt};

/// A report's `status`, spelled as the TypeScript `DeliveryReport` spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Delivered,
    Dropped,
    Failed,
    /// Posted when authentication was lost (`authLatch`).
    Uncertain,
}

/// Why a message was dropped or failed, spelled as the TypeScript `DeliveryReport`
/// spells its `reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    QueueOverflow,
    StaleRetriesExhausted,
    Cleared,
    Rejected,
    StaleConnection,
    ServerError,
    Network,
    Timeout,
    /// Answered 2xx without the prompt's receipt (issue 22's `receipts`).
    NoReceipt,
    /// A stored message older than `persist.maxAgeMs` when it was read back.
    #[cfg(feature = "persist")]
    Expired,
    /// Authentication was lost before the message's fate was settled (`authLatch`).
    AuthLost,
}

/// What a report says of a fate: its status, its reason and the HTTP status behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub reason: Option<Reason>,
    pub http_status: Option<u16>,
}

impl Outcome {
    const fn dropped(reason: Reason) -> Outcome {
        Outcome {
            status: Status::Dropped,
            reason: Some(reason),
            http_status: None,
        }
    }

    const fn failed(reason: Reason, http_status: Option<u16>) -> Outcome {
        Outcome {
            status: Status::Failed,
            reason: Some(reason),
            http_status,
        }
    }

    /// A stored message read back too old to send (`persist`).
    #[cfg(feature = "persist")]
    pub const EXPIRED: Outcome = Outcome::dropped(Reason::Expired);
}

impl From<Fate> for Outcome {
    fn from(fate: Fate) -> Outcome {
        match fate {
            Fate::Delivered => Outcome {
                status: Status::Delivered,
                reason: None,
                http_status: None,
            },
            Fate::Dropped(DropReason::QueueOverflow) => Outcome::dropped(Reason::QueueOverflow),
            Fate::Dropped(DropReason::StaleRetriesExhausted) => {
                Outcome::dropped(Reason::StaleRetriesExhausted)
            }
            Fate::Dropped(DropReason::Cleared) => Outcome::dropped(Reason::Cleared),
            Fate::Failed(FailReason::Rejected(code)) => {
                Outcome::failed(Reason::Rejected, Some(code))
            }
            Fate::Failed(FailReason::StaleConnection) => {
                Outcome::failed(Reason::StaleConnection, Some(404))
            }
            Fate::Failed(FailReason::ServerError(code)) => {
                Outcome::failed(Reason::ServerError, Some(code))
            }
            Fate::Failed(FailReason::Network) => Outcome::failed(Reason::Network, None),
            Fate::Failed(FailReason::TimedOut) => Outcome::failed(Reason::Timeout, None),
            Fate::Failed(FailReason::NoReceipt) => Outcome::failed(Reason::NoReceipt, None),
            Fate::Dropped(DropReason::AuthLost) => Outcome::dropped(Reason::AuthLost),
            Fate::Failed(FailReason::AuthLost) => Outcome::failed(Reason::AuthLost, None),
            Fate::Uncertain => Outcome {
                status: Status::Uncertain,
                reason: Some(Reason::AuthLost),
                http_status: None,
            },
        }
    }
}

/// A receipt as the app reads it (the TypeScript `Receipt`): the body the server
/// answered, in its own field names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptObject<'a> {
    accepted: bool,
    client_msg_id: &'a str,
    #[serde(serialize_with = "boundary::str_or_null")]
    session_id: Option<&'a str>,
}

impl<'a> From<&'a Receipt> for ReceiptObject<'a> {
    fn from(receipt: &'a Receipt) -> Self {
        ReceiptObject {
            accepted: true,
            client_msg_id: &receipt.client_msg_id,
            session_id: receipt.session_id.as_deref(),
        }
    }
}

/// The object `onDelivery` gets (the TypeScript `DeliveryReport`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryReport<'a> {
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Reason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u16>,
    endpoint: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_msg_id: Option<String>,
    /// The receipt that confirmed a prompt (`receipts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    receipt: Option<ReceiptObject<'a>>,
    /// The app's own object, handed back as it was given.
    #[serde(with = "serde_wasm_bindgen::preserve")]
    message: JsValue,
}

/// Hands the app (`config.onDelivery`, read now) the report of `message`'s fate.
/// `client_msg_id` is the id the shell gave the message when it needed one (else
/// undefined: the report carries the message's own, when it has a string one);
/// `receipt`, the receipt that confirmed a prompt.
pub fn tell_app(
    config: &JsValue,
    outcome: Outcome,
    endpoint: Endpoint,
    message: &JsValue,
    client_msg_id: &JsValue,
    receipt: Option<&Receipt>,
) {
    let Some(on_delivery) = js::get(config, "onDelivery").dyn_into::<Function>().ok() else {
        return;
    };
    let client_msg_id = client_msg_id
        .as_string()
        .or_else(|| js::get(message, "clientMsgId").as_string());
    let report = DeliveryReport {
        status: outcome.status,
        reason: outcome.reason,
        http_status: outcome.http_status,
        endpoint: endpoint.path(),
        client_msg_id,
        receipt: receipt.map(ReceiptObject::from),
        message: message.clone(),
    };
    match boundary::to_js(&report) {
        Ok(report) => app::call_app(&on_delivery, &report),
        Err(error) => js::warn(&error),
    }
}
