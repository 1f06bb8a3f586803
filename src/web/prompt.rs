//! The shell's side of prompts under the existing client's current contract
//! (docs/delivery-rules.md, rules 14 to 17): what a prompt's message tells the core
//! (its `sessionId`), the rewrite of a draft's bodies when it adopts a session, and
//! the objects the app hears: the receipt in a delivery report, the `_send_*` notices
//! and the error events of failed control messages. Which of these happen, and when,
//! is the core's to say; this module only spells them.

use alloc::format;
use alloc::string::String;

use js_sys::{Object, Reflect, JSON};
use serde::Serialize;
use wasm_bindgen::JsValue;

use super::boundary;
use super::js;
use super::report::{Outcome, ReceiptObject};
use crate::core::{ControlFailure, Fate, PromptNotice};

/// A message's `sessionId` when it is a string (`null` or absent: a prompt of a new
/// chat's draft).
pub fn session_of(message: &JsValue) -> Option<String> {
    js::get(message, "sessionId").as_string()
}

/// `body` (a prompt's JSON, a JS string) with its `sessionId` set to `session_id`: the
/// prompt's draft adopted the session of its first receipt. `None` when the body does
/// not read back as a JSON object (it always does: the shell wrote it).
pub fn with_session(body: &JsValue, session_id: &str) -> Option<JsValue> {
    let text = body.as_string()?;
    let object = JSON::parse(&text).ok().filter(JsValue::is_object)?;
    Reflect::set(&object, &"sessionId".into(), &session_id.into()).ok()?;
    JSON::stringify(&object).ok().map(JsValue::from)
}

/// What the app's listener hears of one prompt (the TypeScript `PromptNotice`), before
/// its delivery report.
#[derive(Serialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
enum PromptEvent<'a> {
    #[serde(rename = "_send_pending")]
    Pending {
        client_msg_id: &'a str,
        #[serde(serialize_with = "boundary::str_or_null")]
        session_id: Option<&'a str>,
        retrying: bool,
        #[serde(with = "serde_wasm_bindgen::preserve")]
        message: JsValue,
    },
    #[serde(rename = "_send_accepted")]
    Accepted {
        client_msg_id: &'a str,
        #[serde(serialize_with = "boundary::str_or_null")]
        session_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        receipt: Option<ReceiptObject<'a>>,
        #[serde(with = "serde_wasm_bindgen::preserve")]
        message: JsValue,
    },
    #[serde(rename = "_send_failed")]
    Failed {
        client_msg_id: &'a str,
        #[serde(serialize_with = "boundary::str_or_null")]
        session_id: Option<&'a str>,
        error: String,
        #[serde(with = "serde_wasm_bindgen::preserve")]
        message: JsValue,
    },
    #[serde(rename = "_send_uncertain")]
    Uncertain {
        client_msg_id: &'a str,
        #[serde(serialize_with = "boundary::str_or_null")]
        session_id: Option<&'a str>,
        #[serde(with = "serde_wasm_bindgen::preserve")]
        message: JsValue,
    },
}

/// The prompt a notice is about, as the shell holds it.
pub struct PromptView<'a> {
    pub client_msg_id: &'a str,
    /// Its `sessionId` now (a draft's adopted one included).
    pub session_id: Option<&'a str>,
    /// The app's own object.
    pub message: &'a JsValue,
}

/// The listener event of `notice` about `prompt`.
pub fn notice_event(notice: &PromptNotice, prompt: &PromptView) -> Result<JsValue, JsValue> {
    let PromptView {
        client_msg_id,
        session_id,
        message,
    } = *prompt;
    let message = message.clone();
    let event = match notice {
        PromptNotice::Pending { retrying } => PromptEvent::Pending {
            client_msg_id,
            session_id,
            retrying: *retrying,
            message,
        },
        PromptNotice::Accepted(receipt) => PromptEvent::Accepted {
            client_msg_id,
            session_id,
            receipt: receipt.as_ref().map(ReceiptObject::from),
            message,
        },
        PromptNotice::Failed(fate) => PromptEvent::Failed {
            client_msg_id,
            session_id,
            error: error_text(*fate),
            message,
        },
        PromptNotice::Uncertain => PromptEvent::Uncertain {
            client_msg_id,
            session_id,
            message,
        },
    };
    boundary::to_js(&event)
}

/// The listener event of a control message whose POST failed (the TypeScript
/// `ControlFailureNotice`): `sessionId` and, for a permission answer, `permId` are the
/// message's own.
pub fn control_failure_event(event: ControlFailure, fate: Fate, message: &JsValue) -> JsValue {
    let kind = match event {
        ControlFailure::Error => "error",
        ControlFailure::PermissionRejected => "permission_response_rejected",
    };
    let object = Object::new();
    let set = |name: &str, value: &JsValue| Reflect::set(&object, &name.into(), value);
    let _ = set("type", &kind.into());
    let session_id = js::get(message, "sessionId");
    if session_id.is_string() {
        let _ = set("sessionId", &session_id);
    }
    if event == ControlFailure::PermissionRejected {
        let _ = set("permId", &js::get(message, "permId"));
    }
    let _ = set("error", &error_text(fate).into());
    let _ = set("message", message);
    object.into()
}

/// A fate as the `error` of an event: the report's reason, with the HTTP status behind
/// it when there was one ("server_error (HTTP 503)").
fn error_text(fate: Fate) -> String {
    let outcome = Outcome::from(fate);
    // The reason as the report spells it (serde's name for it), written once.
    let reason = outcome
        .reason
        .and_then(|reason| boundary::to_js(&reason).ok()?.as_string())
        .unwrap_or_default();
    match outcome.http_status {
        Some(status) => format!("{reason} (HTTP {status})"),
        None => reason,
    }
}
