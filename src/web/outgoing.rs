//! A message the app sent that has no fate yet, as the shell keeps it: apart from the
//! shell's state so that the persisted outbox (`outbox.rs`), which makes them of the
//! messages it reads back, does not depend on the shell.

use alloc::string::String;

use wasm_bindgen::JsValue;

use crate::core::{Endpoint, MsgId, Receipt};

/// A message without a fate yet: the object (handed back in its delivery report) and
/// its JSON body (kept as a JS string, never copied into Rust).
pub struct Outgoing {
    pub id: MsgId,
    pub message: JsValue,
    pub body: JsValue,
    pub endpoint: Endpoint,
    /// The `clientMsgId` the shell gave the message to store it or to judge its
    /// receipt (undefined when it gave none): the report carries it, the app's object
    /// being left unchanged.
    pub client_msg_id: JsValue,
    /// A prompt's `sessionId` now (its draft's adopted one included), for its notices.
    pub session_id: Option<String>,
    /// The receipt that confirmed a prompt (`receipts`), for its report.
    pub receipt: Option<Receipt>,
}

/// The body of message `id`, undefined when it has none (its fate is known).
pub fn body_of(outgoing: &[Outgoing], id: MsgId) -> JsValue {
    let found = outgoing.iter().find(|o| o.id == id);
    found.map_or(JsValue::UNDEFINED, |o| o.body.clone())
}
