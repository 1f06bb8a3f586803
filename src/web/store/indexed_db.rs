//! `"indexeddb"`: the outbox in IndexedDB, database `sse-courier:<key>` (one outbox
//! each, so entries are named by their key alone), object store `records`, through
//! web-sys's `Idb*` types; a request or transaction is awaited as a promise settled by
//! its events.
//!
//! Why web-sys and no IndexedDB crate: what is needed is small (open, one readwrite
//! transaction per task, one read), and the writes of one task must share one
//! transaction, which the crates' one-future-per-request shape does not give. The
//! maintained ones (`indexed_db_futures` 0.6, `idb` 0.6, `rexie` over `idb`) each
//! bring their own dependencies (tokio, smallvec, indexmap, derive and error crates)
//! into a build whose size is the point of an opt-in entry.
//!
//! A write is durable when its transaction commits. The writes of one task commit
//! together, from a microtask, the last write of a key winning: a transaction per
//! write cost most of a send's time (500 sends took 0.5 s of transactions in
//! Chromium, BENCHMARKS.md); the core holds removals back while messages are in
//! flight, so that a burst's answers share one (`PersistConfig::group_removals`). A
//! transaction of removals alone asks for relaxed durability (`write_all` says why);
//! one that holds a record keeps the default.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use gloo_events::EventListener;
use js_sys::{Array, Function, Promise};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{EventTarget, IdbDatabase, IdbFactory, IdbTransaction, IdbTransactionMode};

use super::{record, warn_of, Loaded, Write};
use crate::core::OutboxNames;
use crate::web::js;

/// The one object store of an outbox's database.
const RECORDS: &str = "records";

#[wasm_bindgen]
extern "C" {
    /// web-sys's `IdbDatabase` with `transaction(store, mode, options)`, which web-sys
    /// has only under the `web_sys_unstable_apis` cfg, one that every build of the
    /// crate (an app's included) would have to set.
    #[wasm_bindgen(extends = IdbDatabase)]
    type DatabaseWithOptions;

    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &DatabaseWithOptions,
        store: &str,
        mode: IdbTransactionMode,
        options: &JsValue,
    ) -> Result<IdbTransaction, JsValue>;
}

/// An open database (a handle: clones share it).
#[derive(Clone)]
pub struct IndexedDb(Rc<Database>);

struct Database {
    database: IdbDatabase,
    /// `{ durability: "relaxed" }`, the options of a transaction of removals alone.
    relaxed: Object,
    /// The writes of the current task, and what settles once they are committed.
    batch: RefCell<Option<Batch>>,
}

struct Batch {
    /// Each key's last write (`None`: removed), in the order first written.
    writes: Vec<(String, Option<JsValue>)>,
    committed: Promise,
}

impl IndexedDb {
    /// The outbox's database, opened (and made, with its object store, the first
    /// time); the error is the warning's cause when IndexedDB is missing or fails.
    pub async fn open(names: &OutboxNames) -> Result<IndexedDb, String> {
        let factory = js::get(&js_sys::global(), "indexedDB");
        if factory.is_falsy() {
            return Err("IndexedDB is missing here".into());
        }
        match open_database(factory.unchecked_ref(), names.database()).await {
            Ok(database) => Ok(IndexedDb(Rc::new(Database {
                database,
                relaxed: relaxed_durability(),
                batch: RefCell::new(None),
            }))),
            Err(error) => Err([
                "IndexedDB could not be opened (",
                &js::describe(&error),
                ")",
            ]
            .concat()),
        }
    }

    /// Adds `write` to this task's transaction; what settles once it commits (or
    /// fails, after a warning).
    pub fn write(&self, write: Write) -> Promise {
        let mut batch = self.0.batch.borrow_mut();
        let batch = batch.get_or_insert_with(|| {
            let (committed, done) = js::deferred();
            let database = self.clone();
            spawn_local(async move {
                database.commit().await;
                let _ = done.call0(&JsValue::UNDEFINED);
            });
            Batch {
                writes: Vec::new(),
                committed,
            }
        });
        let (key, value) = match write {
            Write::Put { key, value } => (key, Some(value)),
            Write::Remove { key } => (key, None),
        };
        match batch.writes.iter_mut().find(|(k, _)| *k == key) {
            Some(last) => last.1 = value,
            None => batch.writes.push((key, value)),
        }
        batch.committed.clone()
    }

    /// Commits the batch (run from a microtask: every write of the task is in it).
    async fn commit(&self) {
        let batch = self.0.batch.borrow_mut().take();
        let Some(batch) = batch else {
            return;
        };
        if let Err(error) = self.write_all(&batch.writes).await {
            let what = "could not store an outbox message in indexeddb";
            warn_of(what, &error, "; it is kept in memory");
        }
    }

    async fn write_all(&self, writes: &[(String, Option<JsValue>)]) -> Result<(), JsValue> {
        // A removal lost at a crash only has the next page send its message again,
        // which the server de-duplicates by its clientMsgId; a lost record is a lost
        // message. So removals alone may commit once in the OS's buffers, before they
        // reach the disk (lost only if the OS itself goes down), while a record keeps
        // the browser's default (strict in Chromium before 121, which made every
        // commit wait for the disk). A browser without the hint ignores the option.
        let (database, mode) = (&self.0.database, IdbTransactionMode::Readwrite);
        let transaction = if writes.iter().all(|(_, value)| value.is_none()) {
            let database: &DatabaseWithOptions = database.unchecked_ref();
            database.transaction_with_options(RECORDS, mode, &self.0.relaxed)?
        } else {
            database.transaction_with_str_and_mode(RECORDS, mode)?
        };
        let records = transaction.object_store(RECORDS)?;
        for (key, value) in writes {
            let key = js::string(key);
            match value {
                Some(value) => records.put_with_key(value, &key)?,
                None => records.delete(&key)?,
            };
        }
        committed(&transaction).await
    }

    /// Every entry of the outbox, its value parsed; none (after a warning) when the
    /// database cannot be read.
    pub async fn load(&self) -> Vec<Loaded> {
        match self.read_all().await {
            Ok(loaded) => loaded,
            Err(error) => {
                warn_of(
                    "could not read the indexeddb outbox",
                    &error,
                    "; going on in memory",
                );
                Vec::new()
            }
        }
    }

    async fn read_all(&self) -> Result<Vec<Loaded>, JsValue> {
        let mode = IdbTransactionMode::Readonly;
        let transaction = self
            .0
            .database
            .transaction_with_str_and_mode(RECORDS, mode)?;
        let records = transaction.object_store(RECORDS)?;
        // Both in key order, in one transaction: the same entries.
        let (keys, values) = (records.get_all_keys()?, records.get_all()?);
        committed(&transaction).await?;
        let (keys, values): (Array, Array) = (keys.result()?.into(), values.result()?.into());
        let loaded = keys.iter().zip(values.iter()).map(|(key, value)| Loaded {
            key: key.as_string().unwrap_or_else(|| js::describe(&key)),
            value: record::parse(&value),
        });
        Ok(loaded.collect())
    }

    pub fn close(&self) {
        self.0.database.close();
    }
}

/// `{ durability: "relaxed" }`.
fn relaxed_durability() -> Object {
    let options = Object::new();
    let _ = Reflect::set(&options, &"durability".into(), &"relaxed".into());
    options
}

/// Opens database `name` at version 1, making its object store on the first open. A
/// request left blocked (an older version held open elsewhere) counts as failed.
async fn open_database(factory: &IdbFactory, name: &str) -> Result<IdbDatabase, JsValue> {
    let request = factory.open_with_u32(name, 1)?;
    let upgrade = {
        let opening = request.clone();
        EventListener::once(&request, "upgradeneeded", move |_| {
            if let Ok(database) = opening.result() {
                let _ = database
                    .unchecked_into::<IdbDatabase>()
                    .create_object_store(RECORDS);
            }
        })
    };
    let opened = settled_by(&request, "success", &["error", "blocked"]).await;
    drop(upgrade);
    match opened {
        Ok(_) => Ok(request.result()?.unchecked_into()),
        Err(event) if js::get(&event, "type") == "blocked" => {
            Err(js_sys::Error::new("the database is blocked").into())
        }
        Err(_) => Err(js::get(&request, "error")),
    }
}

/// Resolves when `transaction` commits; the error is the transaction's.
async fn committed(transaction: &IdbTransaction) -> Result<(), JsValue> {
    match settled_by(transaction, "complete", &["error", "abort"]).await {
        Ok(_) => Ok(()),
        Err(_) => {
            let error = js::get(transaction, "error");
            Err(if error.is_null() || error.is_undefined() {
                js_sys::Error::new("aborted").into()
            } else {
                error
            })
        }
    }
}

/// The first of `target`'s events `success` (its event) or `failures` (the error).
async fn settled_by(
    target: &EventTarget,
    success: &str,
    failures: &[&str],
) -> Result<JsValue, JsValue> {
    let settled = Promise::new(&mut |resolve: Function, reject: Function| {
        let _ = target.add_event_listener_with_callback(success, &resolve);
        for failure in failures {
            let _ = target.add_event_listener_with_callback(failure, &reject);
        }
    });
    JsFuture::from(settled).await
}
