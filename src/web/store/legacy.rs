//! The existing client's own outbox, read for an upgrade in place: under
//! `mitzo-send-outbox:<events URL>` in its `outboxStorage` (or in `localStorage` /
//! `sessionStorage` when that is the persist store), a JSON array of `{ body, scope,
//! uncertain? }`, `body` being the prompt's JSON as it was posted. Each readable
//! prompt goes to the core as a `Stored::Legacy` (the core decides what becomes of
//! it); once the outbox has written what the core took into its own store, the prompts
//! it took (or found stored already) are removed from the array, and the rest (any it
//! could not read, any the old client added meanwhile) is written back.
//!
//! A value that is not such an array is left in place, with one warning: nothing a
//! user typed is deleted because this library could not read it.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;

use js_sys::{Array, Function, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};

use super::record::Message;
use crate::core::LegacyPrompt;
use crate::web::js;

/// The prompts of the existing client's outbox `name` in `storage`, each with its
/// body and the message parsed from it; none when there is no such outbox. `warned`:
/// whether this page warned of it already (once per page, however often it reads).
pub fn read(storage: &JsValue, name: &str, warned: &Cell<bool>) -> Vec<(LegacyPrompt, Message)> {
    let Some(items) = items(storage, name, warned) else {
        return Vec::new();
    };
    let mut prompts = Vec::new();
    let mut unreadable = false;
    for item in items.iter() {
        match prompt_of(&item) {
            Some(prompt) => prompts.push(prompt),
            None => unreadable = true,
        }
    }
    if unreadable && !warned.replace(true) {
        warn_left(
            name,
            "some of its prompts could not be read; they are left there",
        );
    }
    prompts
}

/// Removes the prompts `keys` (by `clientMsgId`) from the outbox `name`, now that they
/// are in this library's store; the item is deleted when nothing is left.
pub fn remove(storage: &JsValue, name: &str, keys: &[String]) {
    let Some(items) = items(storage, name, &Cell::new(true)) else {
        return;
    };
    let left: Array = items
        .iter()
        .filter(|item| {
            let key = prompt_of(item).map(|(prompt, _)| prompt.key);
            !key.is_some_and(|key| keys.contains(&key))
        })
        .collect();
    if left.length() == items.length() {
        return;
    }
    let name = js::string(name);
    let remove_item = js::get(storage, "removeItem");
    let done = match (left.length(), remove_item.dyn_ref::<Function>()) {
        (0, Some(remove_item)) => remove_item.call1(storage, &name),
        _ => JSON::stringify(&left)
            .and_then(|text| call(storage, "setItem", &Array::of2(&name, &text))),
    };
    if let Err(error) = done {
        let text = [
            "could not remove the prompts taken from the existing client's outbox (",
            &js::describe(&error),
            "); they are sent once more by the next page, and the server de-duplicates them",
        ];
        js::warn(&js::string(&text.concat()));
    }
}

/// The array under `name`; `None` when there is none or it is not an array (warned).
fn items(storage: &JsValue, name: &str, warned: &Cell<bool>) -> Option<Array> {
    let text = match call(storage, "getItem", &Array::of1(&js::string(name))) {
        Ok(text) => text,
        Err(error) => {
            let text = [
                "could not read the existing client's outbox ",
                name,
                " (",
                &js::describe(&error),
                ")",
            ];
            js::warn(&js::string(&text.concat()));
            return None;
        }
    };
    if text.is_null() || text.is_undefined() {
        return None;
    }
    let parsed = text
        .is_string()
        .then(|| js::parse_json(&text).ok())
        .flatten();
    match parsed.filter(Array::is_array) {
        Some(items) => Some(items.unchecked_into()),
        None => {
            if !warned.replace(true) {
                warn_left(
                    name,
                    "it is not a JSON array of { body, scope }; it is left there",
                );
            }
            None
        }
    }
}

/// One item `{ body, scope, uncertain? }` whose body is a JSON object with a
/// non-empty string `clientMsgId`.
fn prompt_of(item: &JsValue) -> Option<(LegacyPrompt, Message)> {
    let body = js::get(item, "body");
    let message = body
        .is_string()
        .then(|| js::parse_json(&body).ok())
        .flatten()?;
    if !message.is_object() || Array::is_array(&message) {
        return None;
    }
    let key = js::get(&message, "clientMsgId")
        .as_string()
        .filter(|k| !k.is_empty())?;
    let scope = JSON::stringify(&js::get(item, "scope")).ok();
    let prompt = LegacyPrompt {
        key,
        session_id: js::get(&message, "sessionId").as_string(),
        scope: scope
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "null".into()),
        posted: js::get(item, "uncertain").as_bool() == Some(true),
    };
    Some((prompt, Message { body, message }))
}

fn call(storage: &JsValue, method: &str, args: &Array) -> Result<JsValue, JsValue> {
    let function = js::get(storage, method).unchecked_into::<Function>();
    Reflect::apply(&function, storage, args)
}

fn warn_left(name: &str, why: &str) {
    let text = ["the existing client's outbox ", name, ": ", why];
    js::warn(&js::string(&text.concat()));
}
