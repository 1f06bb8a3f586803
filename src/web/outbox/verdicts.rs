//! What the shell does with the core's outbox decisions, as functions of the state it
//! hands in (the shell borrows, pumps and reports around them): a store operation of
//! the core's made ready under the shell's borrow and carried out after it is released,
//! the verdicts on a read turned into messages of this page, the restored messages
//! listed for the app.

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::Array;
use wasm_bindgen::JsValue;

use super::Outbox;
use crate::core::{
    Endpoint, LeftAlone, MsgId, OutboxAction, OutboxWarning, Record, Restored, Stored,
};
use crate::web::js;
use crate::web::outgoing::{body_of, Outgoing};
use crate::web::store::record;
use crate::web::store::ReadBack;

/// One of the core's outbox actions, with what it needs of the shell's state.
pub enum Step {
    /// Store `record` with the message's JSON `body` beside it.
    Put {
        record: Record,
        body: JsValue,
    },
    Remove {
        key: String,
    },
    Warn(OutboxWarning),
}

impl Step {
    /// `action`, a put with its message's body from `outgoing`.
    pub fn of(action: OutboxAction, outgoing: &[Outgoing]) -> Step {
        match action {
            OutboxAction::Put { msg, record } => Step::Put {
                record,
                body: body_of(outgoing, msg),
            },
            OutboxAction::Remove { key } => Step::Remove { key },
            OutboxAction::Warn(warning) => Step::Warn(warning),
        }
    }

    /// Carries it out (a connection without the `persist` option has no outbox and is
    /// given no store operation).
    pub fn perform(self, outbox: Option<&Outbox>) {
        match (self, outbox) {
            (Step::Put { record, body }, Some(outbox)) => match record::encode(&record, &body) {
                Ok(value) => outbox.put(record.key, value),
                Err(error) => js::warn(&error),
            },
            (Step::Remove { key }, Some(outbox)) => outbox.remove(key),
            (Step::Warn(warning), _) => js::warn(&js::string(warning.message())),
            _ => {}
        }
    }
}

/// A stored message the core found too old to send: reported `dropped` / `expired`.
pub struct Expired {
    pub endpoint: Endpoint,
    pub message: JsValue,
    pub key: JsValue,
}

/// What the shell does after `take`: report the expired messages (once their records
/// are removed), and tell the outbox which of the existing client's prompts are safe.
#[derive(Default)]
pub struct AfterRead {
    pub expired: Vec<Expired>,
    /// The `clientMsgId`s of the existing client's prompts the core took, or left
    /// because this outbox stores them already.
    pub legacy_settled: Vec<String>,
}

/// The core's `verdicts` on `read`: each message taken joins `outgoing` as a message of
/// this page (its stored body, the object parsed from it); the expired ones are given
/// back, for the shell to report once their records are removed.
///
/// A record left to a live page needs nothing here: the outbox waits on every page
/// alive at the read, and reads again when one goes.
pub fn take(read: ReadBack, verdicts: &[Restored], outgoing: &mut Vec<Outgoing>) -> AfterRead {
    let mut after = AfterRead::default();
    let entries = read.entries.into_iter().zip(read.messages);
    for ((entry, message), verdict) in entries.zip(verdicts) {
        let record = match (entry, message) {
            (Stored::Record(record), Some(message)) => Some((record, message)),
            (Stored::Legacy(prompt), Some(message)) => {
                let safe = matches!(
                    verdict,
                    Restored::Taken(_) | Restored::Left(LeftAlone::Duplicate)
                );
                if safe {
                    after.legacy_settled.push(prompt.key.clone());
                }
                if let Restored::Taken(id) = verdict {
                    outgoing.push(Outgoing {
                        id: *id,
                        message: message.message,
                        body: message.body,
                        endpoint: Endpoint::Send,
                        client_msg_id: js::string(&prompt.key),
                        session_id: prompt.session_id,
                        receipt: None,
                    });
                }
                None
            }
            _ => None,
        };
        let Some((record, message)) = record else {
            continue;
        };
        let key = js::string(&record.key);
        // A prompt's session as its record says it (its notices name it).
        let session_id = record.prompt.and_then(|prompt| prompt.session_id);
        match verdict {
            Restored::Taken(id) => outgoing.push(Outgoing {
                id: *id,
                message: message.message,
                body: message.body,
                endpoint: record.endpoint,
                client_msg_id: key,
                session_id,
                receipt: None,
            }),
            Restored::Expired => after.expired.push(Expired {
                endpoint: record.endpoint,
                message: message.message,
                key,
            }),
            Restored::Left(_) => {}
        }
    }
    after
}

/// The messages `ids` (the restored ones without a fate yet, oldest first) as the app
/// sent them.
pub fn messages(ids: impl Iterator<Item = MsgId>, outgoing: &[Outgoing]) -> Array {
    let list = Array::new();
    for id in ids {
        if let Some(outgoing) = outgoing.iter().find(|o| o.id == id) {
            list.push(&outgoing.message);
        }
    }
    list
}
