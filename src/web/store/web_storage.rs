//! `"local"` and `"session"`: the outbox in `localStorage` or `sessionStorage` (web-sys
//! `Storage`, found on `globalThis` by name so that a Web Worker, which has neither, and
//! the app's tests, which hand in fakes, are met alike). A write is done when it
//! returns. The storage is one flat space that every outbox of the app shares, so
//! entries are named after their outbox (`OutboxNames::entry`).

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

use wasm_bindgen::prelude::*;
use web_sys::Storage;

use super::{record, warn_of, Loaded, Write};
use crate::core::{Layout, OutboxNames, Whose};
use crate::web::js;

#[wasm_bindgen]
extern "C" {
    /// web-sys's `Storage` with `getItem` and `setItem` taking and giving the values as
    /// JS strings: web-sys's take and give `&str`, which would copy every record (its
    /// message's body included) through Rust.
    #[wasm_bindgen(extends = Storage)]
    #[derive(Clone)]
    type ValueStorage;

    #[wasm_bindgen(method, catch, js_name = getItem)]
    fn get_value(this: &ValueStorage, name: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch, js_name = setItem)]
    fn set_value(this: &ValueStorage, name: &JsValue, value: &JsValue) -> Result<(), JsValue>;
}

#[derive(Clone)]
pub struct WebStorage {
    /// "local" or "session", as the warnings name the store.
    kind: &'static str,
    storage: ValueStorage,
    names: Rc<OutboxNames>,
}

/// An entry of this outbox as found: its name, its key, whether it must be renamed,
/// its value as stored and parsed.
struct Found {
    name: String,
    key: String,
    rename: bool,
    value: JsValue,
    parsed: JsValue,
}

impl WebStorage {
    /// `localStorage` (`kind` "local") or `sessionStorage`, or `None` when it is
    /// missing or refuses use (a private mode that throws on every write).
    pub fn open(kind: &'static str, names: &Rc<OutboxNames>) -> Option<WebStorage> {
        let global = if kind == "local" {
            "localStorage"
        } else {
            "sessionStorage"
        };
        let storage: ValueStorage = js::get(&js_sys::global(), global).unchecked_into();
        let probe = js::string("sse-courier:probe");
        storage.set_value(&probe, &js::string("1")).ok()?;
        storage.remove_item("sse-courier:probe").ok()?;
        Some(WebStorage {
            kind,
            storage,
            names: names.clone(),
        })
    }

    /// The storage itself, for the existing client's outbox it may hold.
    pub fn storage(&self) -> &JsValue {
        &self.storage
    }

    /// Carries out `write`; false (after a warning) when it could not.
    pub fn write(&self, write: Write) -> bool {
        match write {
            Write::Put { key, value } => {
                let name = js::string(&self.names.entry(&key));
                if let Err(error) = self.storage.set_value(&name, &value) {
                    // A full store (QuotaExceededError) keeps the message in memory only.
                    let what = ["could not store an outbox message in ", self.kind].concat();
                    warn_of(&what, &error, "; it is kept in memory");
                    return false;
                }
            }
            Write::Remove { key } => {
                if let Err(error) = self.storage.remove_item(&self.names.entry(&key)) {
                    let what = ["could not remove an outbox message from ", self.kind].concat();
                    warn_of(&what, &error, "");
                    return false;
                }
            }
        }
        true
    }

    /// Every entry of this outbox. An entry under the name version 0.1.0 gave it is
    /// renamed once, so that every later write and removal of its key finds it; one
    /// that cannot be renamed (a full store) is left for a later page.
    pub fn load(&self) -> Vec<Loaded> {
        let found = match self.find() {
            Ok(found) => found,
            Err(error) => {
                let what = ["could not read the ", self.kind, " outbox"].concat();
                warn_of(&what, &error, "; going on in memory");
                return Vec::new();
            }
        };
        let mut loaded = Vec::new();
        for entry in found {
            if entry.rename {
                let renamed = js::string(&self.names.entry(&entry.key));
                let moved = self.storage.set_value(&renamed, &entry.value);
                if let Err(error) = moved.and_then(|()| self.storage.remove_item(&entry.name)) {
                    let what = ["could not rename a stored outbox message in ", self.kind];
                    warn_of(&what.concat(), &error, "; it is left for later");
                    continue;
                }
            }
            loaded.push(Loaded {
                key: entry.key,
                value: entry.parsed,
            });
        }
        loaded
    }

    /// The entries of this outbox, each value parsed once (its record's own key says,
    /// for 0.1.0's names, whose it is).
    fn find(&self) -> Result<Vec<Found>, JsValue> {
        let mut found = Vec::new();
        for index in 0..self.storage.length()? {
            let Some(name) = self.storage.key(index)? else {
                continue;
            };
            if !self.names.may_be_entry(&name) {
                continue;
            }
            let value = self.storage.get_value(&js::string(&name))?;
            let parsed = record::parse(&value);
            let record_key = record::key_of(&parsed);
            let whose = self
                .names
                .whose(&name, record_key.as_deref(), Layout::WebStorage);
            if let Whose::Ours { key, rename } = whose {
                found.push(Found {
                    name,
                    key,
                    rename,
                    value,
                    parsed,
                });
            }
        }
        Ok(found)
    }
}
