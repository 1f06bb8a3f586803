//! The app's own store: `{ load(), put(name, value), remove(name) }`, each returning a
//! value or a promise (`load` gives `[{ key: name, value }]`). Duck-typed: its methods
//! are read by property at each call, and what they return is awaited as a promise.
//! Its methods are app code, so each is called from a task of its own, never while the
//! shell's state is borrowed, and each write only once the previous one settled. What
//! it throws or rejects with is a warning; delivery goes on.
//!
//! One store may hold the outboxes of several keys, so its entries are named as in Web
//! Storage (`OutboxNames::entry`). Entries named by their key alone (version 0.1.0
//! wrote them so) cannot be told apart by outbox, and are left where they are, with
//! one warning.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::Cell;

use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{record, warn_of, Loaded, Write};
use crate::core::{Layout, OutboxNames, Whose};
use crate::web::js;

/// The app's store (a handle: clones share it).
#[derive(Clone)]
pub struct AppStore(Rc<Inner>);

struct Inner {
    store: JsValue,
    names: Rc<OutboxNames>,
    /// Whether this page warned of 0.1.0's entries already.
    warned_of_unkeyed: Cell<bool>,
}

impl AppStore {
    pub fn new(store: &JsValue, names: &Rc<OutboxNames>) -> AppStore {
        AppStore(Rc::new(Inner {
            store: store.clone(),
            names: names.clone(),
            warned_of_unkeyed: Cell::new(false),
        }))
    }

    /// Makes `write` once `written` has settled; what settles when it has.
    pub fn write(&self, write: Write, written: Promise) -> Promise {
        let store = self.clone();
        js::spawn_promise(async move {
            let _ = JsFuture::from(written).await;
            let names = &store.0.names;
            let _ = match write {
                Write::Put { key, value } => {
                    let name = js::string(&names.entry(&key));
                    store.call("put", Array::of2(&name, &value)).await
                }
                Write::Remove { key } => {
                    let name = js::string(&names.entry(&key));
                    store.call("remove", Array::of1(&name)).await
                }
            };
            JsValue::UNDEFINED
        })
    }

    /// The entries of this outbox; none (after a warning) when `load()` fails or gives
    /// no array.
    pub async fn load(&self) -> Vec<Loaded> {
        let Some(entries) = self.call("load", Array::new()).await else {
            return Vec::new();
        };
        if !Array::is_array(&entries) {
            let text = "the app's outbox store's load() did not give an array; going on in memory";
            js::warn(&js::string(text));
            return Vec::new();
        }
        let mut ours = Vec::new();
        let mut unkeyed = 0u32;
        for entry in entries.unchecked_into::<Array>().iter() {
            let (name, value) = (js::get(&entry, "key"), js::get(&entry, "value"));
            let (Some(name), true) = (name.as_string(), value.is_string()) else {
                continue;
            };
            let parsed = record::parse(&value);
            let record_key = record::key_of(&parsed);
            match self
                .0
                .names
                .whose(&name, record_key.as_deref(), Layout::AppStore)
            {
                Whose::Ours { key, .. } => ours.push(Loaded { key, value: parsed }),
                Whose::Unkeyed => unkeyed += 1,
                Whose::NotOurs => {}
            }
        }
        if unkeyed > 0 && !self.0.warned_of_unkeyed.replace(true) {
            warn_of_unkeyed(unkeyed);
        }
        ours
    }

    /// `store[method](...args)`, awaited: what it gave, or `None` after a warning when
    /// it threw or rejected.
    async fn call(&self, method: &str, args: Array) -> Option<JsValue> {
        let store = &self.0.store;
        let function = js::get(store, method).unchecked_into::<Function>();
        let answer = js::promise_of(Reflect::apply(&function, store, &args));
        match JsFuture::from(answer).await {
            Ok(value) => Some(value),
            Err(error) => {
                let what = ["the app's outbox store failed in ", method].concat();
                warn_of(&what, &error, "");
                None
            }
        }
    }
}

fn warn_of_unkeyed(count: u32) {
    let text = [
        "the app's outbox store holds ",
        &js::describe(&JsValue::from(count)),
        " message(s) stored by sse-courier 0.1.0 without their persist.key; they are left there unsent, since this page cannot tell whose they are (see \"Upgrading from 0.1.0\" in the docs)",
    ];
    js::warn(&js::string(&text.concat()));
}
