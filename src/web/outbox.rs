//! The persisted outbox of one connection (the `persist` option, in the build with the
//! `persist` feature; docs/persisted-outbox.md): its store (`store`), the Web Locks
//! and the channel that say which pages are alive (`owners`), the writes the core asks
//! for, in order, and the reads of the store back into the core.
//!
//! It decides nothing: what is stored, removed, taken back, expired or left alone is
//! the core's (`crate::core::persist`), and whose an entry is too (`OutboxNames`). It
//! holds no reference to the shell: a read of the store reaches the shell as an
//! `Input::Restored`, through the `Inputs` handle every platform module reports to,
//! and the shell hands the core's verdicts to `verdicts` (the messages taken back,
//! those expired). Every failure is one warning, and the connection goes on in memory.
//!
//! An upgrade in place: when the store may hold the existing client's own outbox
//! (`store::legacy`), each read hands the core its prompts too; the shell says which the
//! core took (or found stored already) and, once their records are written, they are
//! removed from the existing client's outbox, unless a write failed since the read.
//!
//! Order: writes start in the order asked for. Until the store is open and this
//! page's owner lock is held they wait in a list, so that no other page ever sees a
//! record of this one while its owner lock is not held (it would take it as a dead
//! page's). A read runs inside the restore lock, and the claims the core asks for
//! while it judges the read are written before the lock is released, so two pages
//! never take the same record.

mod owners;
pub mod verdicts;

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use js_sys::{Function, Object, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::AbortController;

use super::input::{Input, Inputs};
use super::js;
use super::locks;
use super::store::{legacy, record, ReadBack, Store, Write};
use crate::core::{OutboxNames, Stored};
use owners::OwnersChannel;

/// The outbox of one connection (a handle: clones share it).
#[derive(Clone)]
pub struct Outbox(Rc<State>);

struct State {
    names: Rc<OutboxNames>,
    /// This page load's owner id.
    owner: String,
    /// `navigator.locks`, when it has `request` and `query`.
    locks: Option<JsValue>,
    /// Where reads of the store go; none once the connection is freed.
    inputs: RefCell<Option<Inputs>>,
    /// The store, once it is open and the owner lock held.
    store: RefCell<Option<Store>>,
    /// Writes asked for before that, in order.
    waiting: RefCell<Vec<Write>>,
    /// Settles when every write started so far has.
    written: RefCell<Promise>,
    /// Resolves once the store is set.
    ready: Promise,
    /// Resolves the promise of this page's owner lock, releasing it.
    release_owner_lock: RefCell<Option<Function>>,
    closed: Cell<bool>,
    /// Owners whose lock this page waits on (their records are read back when they
    /// go), and what cancels those waits when the connection is freed.
    awaited: RefCell<Vec<String>>,
    stop_waiting: Option<AbortController>,
    /// The channel on which the pages of this outbox announce themselves.
    channel: RefCell<Option<OwnersChannel>>,
    /// A read is under way; another was asked for meanwhile.
    reading: Cell<bool>,
    read_again: Cell<bool>,
    /// Settles when the first read has reached the shell (or failed, or the
    /// connection was freed): `whenRestored()` waits for it.
    first_read: Promise,
    first_read_done: Function,
    /// The existing client's outbox's name (`mitzo-send-outbox:<events URL>`).
    legacy_name: String,
    /// Its prompts the core took at the last read, or found stored already.
    legacy_settled: RefCell<Vec<String>>,
    /// Whether this page warned of an unreadable one already.
    legacy_warned: Cell<bool>,
    /// A synchronous write failed since the last read began.
    write_failed: Cell<bool>,
}

impl Outbox {
    /// Opens the outbox of `namespace` (the app's `persist.key`) in the store `spec`
    /// names, for the page load `owner`, its reads reported to `inputs`; `legacy_name`
    /// is where the existing client kept its outbox. It asks for the owner lock at
    /// once; writes wait until that is held and the store open.
    pub fn open(
        spec: &JsValue,
        namespace: &str,
        owner: &str,
        legacy_name: String,
        inputs: &Inputs,
    ) -> Outbox {
        let names = Rc::new(OutboxNames::new(namespace));
        let locks = locks::manager().filter(|locks| js::get(locks, "query").is_function());
        if locks.is_none() {
            js::warn(&js::string(owners::NO_WEB_LOCKS));
        }
        let (ready, set_ready) = js::deferred();
        let (first_read, first_read_done) = js::deferred();
        let state = Rc::new(State {
            names: names.clone(),
            owner: owner.into(),
            locks,
            inputs: RefCell::new(Some(inputs.clone())),
            store: RefCell::new(None),
            waiting: RefCell::new(Vec::new()),
            written: RefCell::new(Promise::resolve(&JsValue::UNDEFINED)),
            ready,
            release_owner_lock: RefCell::new(None),
            closed: Cell::new(false),
            awaited: RefCell::new(Vec::new()),
            stop_waiting: AbortController::new().ok(),
            channel: RefCell::new(None),
            reading: Cell::new(false),
            read_again: Cell::new(false),
            first_read,
            first_read_done,
            legacy_name,
            legacy_settled: RefCell::new(Vec::new()),
            legacy_warned: Cell::new(false),
            write_failed: Cell::new(false),
        });
        let owner_lock = state.request_owner_lock();
        let spec = spec.clone();
        let opening = state.clone();
        spawn_local(async move {
            let store = Store::open(&spec, &names).await;
            if let Some(granted) = owner_lock {
                let _ = JsFuture::from(granted).await;
            }
            opening.set_store(store);
            let _ = set_ready.call0(&JsValue::UNDEFINED);
        });
        Outbox(state)
    }

    /// Stores `value` (`record::encode`) under `key`.
    pub fn put(&self, key: String, value: JsValue) {
        self.0.write(Write::Put { key, value });
    }

    pub fn remove(&self, key: String) {
        self.0.write(Write::Remove { key });
    }

    /// Reads the store back into the core (at the first `connect()`; again on its own
    /// when a page whose records were left to it goes). One read at a time; one asked
    /// for during a read runs once after it.
    pub fn restore(&self) {
        self.0.restore();
    }

    /// The existing client's prompts (by `clientMsgId`) of the read being judged that
    /// the core took or found stored: removed from its outbox once written here.
    pub fn legacy_settled(&self, keys: Vec<String>) {
        self.0.legacy_settled.replace(keys);
    }

    /// Settles when the first read of the store has reached the shell, or failed, or
    /// the connection was freed.
    pub fn first_read(&self) -> Promise {
        self.0.first_read.clone()
    }

    /// The connection is freed: nothing reaches the shell again, and the owner lock
    /// goes (this page's records are left to the next read, here or in another tab).
    /// Writes already started finish.
    pub fn close(&self) {
        let state = &self.0;
        state.closed.set(true);
        state.inputs.replace(None);
        let _ = state.first_read_done.call0(&JsValue::UNDEFINED);
        let release = state.release_owner_lock.take();
        if let Some(release) = release {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
        if let Some(controller) = &state.stop_waiting {
            controller.abort();
        }
        let channel = state.channel.take();
        drop(channel);
        state.close_store_when_written();
    }
}

impl State {
    fn set_store(self: &Rc<Self>, store: Store) {
        self.store.replace(Some(store));
        if !self.closed.get() {
            self.announce();
        }
        let waiting = self.waiting.take();
        for write in waiting {
            self.write(write);
        }
        if self.closed.get() {
            self.close_store_when_written();
        }
    }

    /// Starts `write` now when the store is ready (a Web Storage write is then done
    /// when this returns), else once it is.
    fn write(&self, write: Write) {
        let store = self.store.borrow().clone();
        let Some(store) = store else {
            self.waiting.borrow_mut().push(write);
            return;
        };
        let before = self.written.borrow().clone();
        let (written, done) = store.write(write, before);
        if !done {
            self.write_failed.set(true);
        }
        *self.written.borrow_mut() = written;
    }

    /// After the writes already started, the store is closed, so that
    /// `indexedDB.deleteDatabase` (an app clearing its outbox at sign-out) is not
    /// blocked by this connection. A store not open yet is closed once it is.
    fn close_store_when_written(&self) {
        let store = self.store.borrow().clone();
        let Some(store) = store else {
            return;
        };
        let written = self.written.borrow().clone();
        spawn_local(async move {
            let _ = JsFuture::from(written).await;
            store.close();
        });
    }

    fn restore(self: &Rc<Self>) {
        if self.reading.replace(true) {
            self.read_again.set(true);
            return;
        }
        let state = self.clone();
        spawn_local(async move {
            state.read_back().await;
            state.reading.set(false);
            let _ = state.first_read_done.call0(&JsValue::UNDEFINED);
            if state.read_again.get() && !state.closed.get() {
                state.read_again.set(false);
                state.restore();
            }
        });
    }

    /// One read of the store into the core, inside the restore lock when there are
    /// Web Locks (so two tabs never read, judge and claim at once).
    async fn read_back(self: &Rc<Self>) {
        let _ = JsFuture::from(self.ready.clone()).await;
        let told = Rc::new(Cell::new(false));
        let Some(locks) = &self.locks else {
            self.read_into_core(&told).await;
            return;
        };
        let (state, told_in_lock) = (self.clone(), told.clone());
        // The lock is held until the read and its claims are done.
        let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
            let read = async move {
                state.read_into_core(&told_in_lock).await;
                JsValue::UNDEFINED
            };
            js::spawn_promise(read).into()
        });
        let name = js::string(&self.names.restore_lock());
        let answer = locks::request(locks, &name, &Object::new(), &callback);
        if let Err(error) = JsFuture::from(answer).await {
            let text = ["the outbox's restore failed (", &js::describe(&error), ")"];
            js::warn(&js::string(&text.concat()));
            // The core holds retryable sends until a read: a read that never happened
            // counts as an empty one, so that they go out.
            if !told.get() && !self.closed.get() {
                self.tell(ReadBack::default());
            }
        }
    }

    /// Reads every entry and the live owners, hands them to the shell (whose pump
    /// writes the claims), then waits for those writes.
    async fn read_into_core(self: &Rc<Self>, told: &Cell<bool>) {
        let store = self.store.borrow().clone();
        let Some(store) = store.filter(|_| !self.closed.get()) else {
            return;
        };
        let mut read = ReadBack::default();
        for entry in store.load().await {
            let (stored, message) = record::decode(entry.key, &entry.value);
            read.entries.push(stored);
            read.messages.push(message);
        }
        let legacy_storage = store.legacy_storage();
        if let Some(storage) = &legacy_storage {
            for (prompt, message) in legacy::read(storage, &self.legacy_name, &self.legacy_warned) {
                read.entries.push(Stored::Legacy(prompt));
                read.messages.push(Some(message));
            }
        }
        self.write_failed.set(false);
        read.live_owners = self.live_owners().await;
        if self.closed.get() {
            return;
        }
        // Every live page, records or not: what it stores later is ours once it goes.
        for other in &read.live_owners {
            self.await_owner(other);
        }
        told.set(true);
        self.tell(read);
        let written = self.written.borrow().clone();
        let _ = JsFuture::from(written).await;
        // The existing client's prompts are ours now, in our store: out of its outbox.
        let settled = self.legacy_settled.take();
        if let (Some(storage), false) = (&legacy_storage, settled.is_empty()) {
            if !self.write_failed.get() {
                legacy::remove(storage, &self.legacy_name, &settled);
            }
        }
    }

    fn tell(&self, read: ReadBack) {
        let inputs = self.inputs.borrow().clone();
        if let Some(inputs) = inputs {
            let _ = inputs.send(Input::Restored(read));
        }
    }
}
