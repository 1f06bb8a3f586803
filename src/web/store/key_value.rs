//! The app's `outboxStorage` (the existing client's option) as a store of the outbox:
//! an object with `getItem(name)` and `setItem(name, value)` only, such as
//! `sessionStorage`, or `localStorage` in an iOS WKWebView shell. It cannot list its
//! names, so the whole outbox is one value under one known name
//! (`OutboxNames::single_value`, `sse-courier-outbox:<persist.key>`): a JSON object
//! of the stored records by `clientMsgId`, each the record's value as the other stores
//! hold it, parsed. Both methods are called synchronously and must answer so (as Web
//! Storage does); a write is done when it returns.
//!
//! Each write reads the value, changes one record and writes it back, in one task.
//! What it cannot promise: two tabs sharing the storage (`localStorage`) that write in
//! the same instant may each write back a value without the other's record (there is
//! no compare-and-set). The record lost is still in its page's memory and delivered by
//! it; only if that page then dies is the message lost. `sessionStorage` belongs to one
//! tab, and a WKWebView shell has one page, so neither meets this.
//!
//! A value that is not an outbox (not a JSON object) is never overwritten: the write is
//! a warning and the message stays in memory.

use alloc::rc::Rc;
use alloc::vec::Vec;

use js_sys::{Array, Function, Object, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};

use super::{warn_of, Loaded, Write};
use crate::core::OutboxNames;
use crate::web::js;

/// `outboxStorage` (a handle: clones share it).
#[derive(Clone)]
pub struct KeyValue {
    storage: JsValue,
    /// The outbox's one name in it.
    name: JsValue,
}

/// What could go wrong with the value, each one warning.
enum Unusable {
    /// `getItem` or `setItem` threw, or `getItem` gave what is not a string or null.
    Failed(JsValue),
    /// The value is there but is not an outbox: left as it is.
    NotAnOutbox,
}

impl KeyValue {
    pub fn new(storage: &JsValue, names: &Rc<OutboxNames>) -> KeyValue {
        KeyValue {
            storage: storage.clone(),
            name: js::string(&names.single_value()),
        }
    }

    /// The storage itself, for the existing client's outbox it may hold.
    pub fn storage(&self) -> &JsValue {
        &self.storage
    }

    /// Carries out `write`; false (after a warning) when it could not.
    pub fn write(&self, write: Write) -> bool {
        let done = self.outbox().and_then(|outbox| {
            let (key, value) = match write {
                Write::Put { key, value } => (key, js::parse_json(&value).unwrap_or_default()),
                Write::Remove { key } => (key, JsValue::UNDEFINED),
            };
            let key = js::string(&key);
            let _ = match value.is_undefined() {
                true => Reflect::delete_property(outbox.unchecked_ref::<Object>(), &key),
                false => Reflect::set(&outbox, &key, &value),
            };
            let text = JSON::stringify(&outbox).map_err(Unusable::Failed)?;
            self.call("setItem", &Array::of2(&self.name, &text))
        });
        match done {
            Ok(_) => true,
            Err(why) => {
                self.warn(
                    why,
                    "could not store an outbox message in outboxStorage",
                    "; it is kept in memory",
                );
                false
            }
        }
    }

    /// Every record of the outbox, parsed; none (after a warning) when it cannot be
    /// read.
    pub fn load(&self) -> Vec<Loaded> {
        let outbox = match self.outbox() {
            Ok(outbox) => outbox,
            Err(why) => {
                self.warn(
                    why,
                    "could not read the outbox in outboxStorage",
                    "; going on in memory",
                );
                return Vec::new();
            }
        };
        let entries = Object::entries(outbox.unchecked_ref::<Object>());
        let read = entries.iter().filter_map(|entry| {
            let key = js::item(&entry, 0).as_string()?;
            Some(Loaded {
                key,
                value: js::item(&entry, 1),
            })
        });
        read.collect()
    }

    /// The outbox object as stored (a new one when there is none yet).
    fn outbox(&self) -> Result<JsValue, Unusable> {
        let text = self.call("getItem", &Array::of1(&self.name))?;
        if text.is_null() || text.is_undefined() {
            return Ok(Object::new().into());
        }
        if !text.is_string() {
            return Err(Unusable::Failed(text));
        }
        let parsed = js::parse_json(&text).unwrap_or_default();
        let is_outbox = parsed.is_object() && !Array::is_array(&parsed);
        is_outbox.then_some(parsed).ok_or(Unusable::NotAnOutbox)
    }

    /// `storage[method](...args)`, read by property at each call.
    fn call(&self, method: &str, args: &Array) -> Result<JsValue, Unusable> {
        let function = js::get(&self.storage, method).unchecked_into::<Function>();
        Reflect::apply(&function, &self.storage, args).map_err(Unusable::Failed)
    }

    fn warn(&self, why: Unusable, what: &str, tail: &str) {
        match why {
            Unusable::Failed(error) => warn_of(what, &error, tail),
            Unusable::NotAnOutbox => {
                let name = self.name.as_string().unwrap_or_default();
                let text = [
                    what,
                    " (",
                    &name,
                    " holds something else; it is left as it is)",
                    tail,
                ];
                js::warn(&js::string(&text.concat()));
            }
        }
    }
}
