//! The stores of the persisted outbox: string values under string keys (a message's
//! `clientMsgId`), each store giving back only the entries of its own outbox (the
//! app's `persist.key`; `OutboxNames` in the core says whose an entry is). What is
//! written, removed or taken back is the core's decision; a store carries it out and
//! turns every failure into one warning, so that nothing throws into the app.
//!
//! - `"local"` / `"session"` (`web_storage`): `localStorage` / `sessionStorage`,
//!   synchronous, so a write is durable when it returns.
//! - `"indexeddb"` (`indexed_db`): a database per outbox; a write is durable when its
//!   transaction commits, and the writes of one task commit together.
//! - the app's own `{ load(), put(name, value), remove(name) }` (`app_store`), each
//!   call made after the previous one settled.
//! - the app's `{ getItem(name), setItem(name, value) }` (`key_value`: the existing
//!   client's `outboxStorage`), the whole outbox one value under one name, since such
//!   a store cannot list its names; synchronous, so a write is durable when it returns.
//!
//! `legacy` reads the existing client's own outbox out of a store that may hold it
//! (Web Storage, `outboxStorage`), for an upgrade in place.
//!
//! A store that cannot be used (no such API, a private mode that blocks it, a throw)
//! is the memory store, after one warning: the connection goes on without persistence.

mod app_store;
mod indexed_db;
mod key_value;
pub mod legacy;
pub mod record;
mod web_storage;

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Array, Promise};
use wasm_bindgen::JsValue;

use super::js;
use crate::core::{OutboxNames, Stored};
use app_store::AppStore;
use indexed_db::IndexedDb;
use key_value::KeyValue;
use web_storage::WebStorage;

/// One read of the store, as the shell hands it to the core: each entry as the core
/// takes it, beside it (same index) what the shell keeps of a readable one, and the
/// owner ids whose owner lock was held at the read.
#[derive(Default)]
pub struct ReadBack {
    pub entries: Vec<Stored>,
    pub messages: Vec<Option<record::Message>>,
    pub live_owners: Vec<String>,
}

/// One write, as the outbox asks for it.
pub enum Write {
    /// Store `value` (a record's JSON, see `record::encode`) under `key`.
    Put {
        key: String,
        value: JsValue,
    },
    Remove {
        key: String,
    },
}

/// An entry read back: its key, and its value parsed (`record::parse`).
pub struct Loaded {
    pub key: String,
    pub value: JsValue,
}

/// An open store (a handle: clones share it).
#[derive(Clone)]
pub enum Store {
    /// Keeps nothing across pages: the fallback when no other can be used.
    Memory(Rc<RefCell<Vec<(String, JsValue)>>>),
    WebStorage(WebStorage),
    IndexedDb(IndexedDb),
    App(AppStore),
    KeyValue(KeyValue),
}

impl Store {
    /// The store `spec` names ("local", "session", "indexeddb" or the app's own, as the
    /// config check let them through) for the outbox `names`. Never fails: a store
    /// that cannot be used is the memory store, after a warning.
    pub async fn open(spec: &JsValue, names: &Rc<OutboxNames>) -> Store {
        let web_storage = |kind| {
            let storage = WebStorage::open(kind, names).map(Store::WebStorage);
            storage.ok_or_else(|| [kind, "Storage cannot be used here"].concat())
        };
        let opened = match spec.as_string().as_deref() {
            Some("local") => web_storage("local"),
            Some("session") => web_storage("session"),
            Some("indexeddb") => IndexedDb::open(names).await.map(Store::IndexedDb),
            // The config check let through only an object with `load`, `put` and
            // `remove`, or one with `getItem` and `setItem`.
            _ if js::get(spec, "load").is_function() => Ok(Store::App(AppStore::new(spec, names))),
            _ => Ok(Store::KeyValue(KeyValue::new(spec, names))),
        };
        opened.unwrap_or_else(|why| {
            js::warn(&js::string(
                &[&why, "; the outbox is kept in memory only"].concat(),
            ));
            Store::Memory(Rc::default())
        })
    }

    /// Starts `write`, given `written`, which settles when every write started before
    /// has; returns what settles when this one has too, and false when a synchronous
    /// store could not make it (after a warning). A Web Storage or `outboxStorage`
    /// write is done when this returns; an app's store gets it once `written` has
    /// settled.
    pub fn write(&self, write: Write, written: Promise) -> (Promise, bool) {
        let failed = match self {
            Store::WebStorage(storage) => !storage.write(write),
            Store::KeyValue(storage) => !storage.write(write),
            _ => return (self.write_later(write, written.clone()), true),
        };
        (written, !failed)
    }

    fn write_later(&self, write: Write, written: Promise) -> Promise {
        match self {
            Store::Memory(values) => {
                let mut values = values.borrow_mut();
                match write {
                    Write::Put { key, value } => match values.iter_mut().find(|(k, _)| *k == key) {
                        Some(entry) => entry.1 = value,
                        None => values.push((key, value)),
                    },
                    Write::Remove { key } => values.retain(|(k, _)| *k != key),
                }
                written
            }
            Store::WebStorage(_) | Store::KeyValue(_) => written,
            Store::IndexedDb(database) => {
                let committed = database.write(write);
                Promise::all(&Array::of2(&written, &committed))
            }
            Store::App(store) => store.write(write, written),
        }
    }

    /// Every entry of this outbox, its value parsed; none when the store cannot be
    /// read (after a warning).
    pub async fn load(&self) -> Vec<Loaded> {
        match self {
            Store::Memory(values) => {
                let values = values.borrow();
                let loaded = values.iter().map(|(key, value)| Loaded {
                    key: key.clone(),
                    value: record::parse(value),
                });
                loaded.collect()
            }
            Store::WebStorage(storage) => storage.load(),
            Store::IndexedDb(database) => database.load().await,
            Store::App(store) => store.load().await,
            Store::KeyValue(storage) => storage.load(),
        }
    }

    /// The storage the existing client's own outbox may be in: Web Storage, or the
    /// app's `outboxStorage`. The others never held it.
    pub fn legacy_storage(&self) -> Option<JsValue> {
        match self {
            Store::WebStorage(storage) => Some(storage.storage().clone()),
            Store::KeyValue(storage) => Some(storage.storage().clone()),
            _ => None,
        }
    }

    /// No more writes will come: a database is closed (so that the app can delete
    /// it, at sign-out say).
    pub fn close(&self) {
        if let Store::IndexedDb(database) = self {
            database.close();
        }
    }
}

/// A warning `what (cause)` with its `tail`, quoting the error the store gave.
fn warn_of(what: &str, error: &JsValue, tail: &str) {
    let text = [what, " (", &js::describe(error), ")", tail].concat();
    js::warn(&js::string(&text));
}
