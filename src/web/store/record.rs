//! A stored entry's value: the core's `Record` with the message's JSON body beside it,
//! as one JSON string `{ version, key, endpoint, order, enqueuedAt, stale404s, retries,
//! owner, prompt?, body }` (the format `tests/core_record_format.rs` pins; `prompt`,
//! `{ sessionId, draft, posted }`, since version 2 and only for a prompt). The record is
//! written as a serde type and read back field by field, each by its name; the body
//! stays a JS string.
//!
//! A value is parsed once, when it is read back (`parse`): the shell reads from that
//! both whose entry it is (its `key`, see `OutboxNames::whose`) and what it holds.

use wasm_bindgen::JsValue;

use super::super::{boundary, js};
use crate::core::{Endpoint, Record, Stored, StoredPrompt};

/// What the shell keeps of a message read back beside its record: its JSON body (for
/// the POST) and the object parsed from it (for its report and `restoredPending()`).
pub struct Message {
    pub body: JsValue,
    pub message: JsValue,
}

/// The value to store for `record` and the message's JSON `body`; the error is the
/// JS `Error` to warn of when the record would not serialise.
pub fn encode(record: &Record, body: &JsValue) -> Result<JsValue, JsValue> {
    let value = boundary::to_js(record)?;
    js_sys::Reflect::set(&value, &js::string("body"), body)?;
    Ok(js_sys::JSON::stringify(&value)?.into())
}

/// A stored value parsed: undefined when it is not a string holding JSON.
pub fn parse(value: &JsValue) -> JsValue {
    if !value.is_string() {
        return JsValue::UNDEFINED;
    }
    js::parse_json(value).unwrap_or_default()
}

/// The `key` field of a parsed value, when it is a string.
pub fn key_of(parsed: &JsValue) -> Option<String> {
    js::get(parsed, "key").as_string()
}

/// The entry `key` (its parsed value `parsed`) as the core takes it: a record when
/// every field of the format is there with its type, its `key` is the entry's, its
/// endpoint one this library knows and its body a JSON object; else unreadable, with
/// its format version when that much is a count. Which versions it takes, and what it
/// does with the unreadable, is the core's decision.
pub fn decode(key: String, parsed: &JsValue) -> (Stored, Option<Message>) {
    let version = js::as_count(&js::get(parsed, "version"));
    let unreadable = |key| Stored::Unreadable {
        key,
        version: version.map(|v| v.min(u32::MAX.into()) as u32),
    };
    let Some(record) = version.and_then(|_| read_record(parsed)) else {
        return (unreadable(key), None);
    };
    let body = js::get(parsed, "body");
    let message = parse(&body);
    let is_object = message.is_object() && !js_sys::Array::is_array(&message);
    if record.key != key || !is_object {
        return (unreadable(key), None);
    }
    (Stored::Record(record), Some(Message { body, message }))
}

/// The record's fields, each read by its name; `None` when one is missing or of
/// another type (a count must be a whole number from 0 up to 2^53, the endpoint a
/// path this library knows).
///
/// Not serde-wasm-bindgen's `Deserializer`: measured, reading a `Record` through it
/// added 13 KB gzip to the persist entry (its error messages format, floats
/// included, and it caches field names in a hash map), more than all the rest of
/// the outbox.
fn read_record(parsed: &JsValue) -> Option<Record> {
    let count = |name: &str| js::as_count(&js::get(parsed, name));
    let small = |name: &str| count(name).and_then(|n| u32::try_from(n).ok());
    Some(Record {
        version: small("version")?,
        key: js::get(parsed, "key").as_string()?,
        endpoint: Endpoint::from_path(&js::get(parsed, "endpoint").as_string()?)?,
        order: count("order")?,
        enqueued_at: count("enqueuedAt")?,
        stale_404s: small("stale404s")?,
        retries: small("retries")?,
        owner: js::get(parsed, "owner").as_string()?,
        prompt: read_prompt(&js::get(parsed, "prompt"))?,
    })
}

/// A record's `prompt` (version 2): `Some(None)` when absent (a plain message), `None`
/// when present but not `{ sessionId?: string | null, draft: string, posted: boolean }`
/// (serde-wasm-bindgen writes a `None` as undefined, so no session is an absent
/// `sessionId`; `null` is read alike).
fn read_prompt(value: &JsValue) -> Option<Option<StoredPrompt>> {
    if value.is_undefined() {
        return Some(None);
    }
    let session_id = js::get(value, "sessionId");
    let posted = js::get(value, "posted").as_bool()?;
    Some(Some(StoredPrompt {
        session_id: match session_id.is_null() || session_id.is_undefined() {
            true => None,
            false => Some(session_id.as_string()?),
        },
        draft: js::get(value, "draft").as_string()?,
        posted,
    }))
}
