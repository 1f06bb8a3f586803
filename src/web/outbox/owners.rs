//! Which pages of an outbox are alive, from Web Locks: each page holds the exclusive
//! lock `sse-courier:<key>:owner:<owner>` for its whole life, and the browser releases
//! it when the page dies, reloads, closes or crashes; `locks.query()` lists the held
//! ones. A page waits on every other live page's lock with a `shared` request, granted
//! once that page is gone, and then reads the store again: so whatever a page stored,
//! at whatever time, reaches a live page when it goes. The pages alive at a read are
//! waited on from that read; those that open later announce their owner id on the
//! `BroadcastChannel` `sse-courier:<key>:owners`.
//!
//! Leases renewed by timers were the alternative: they fail where this matters
//! (throttled background timers, frozen tabs), docs/persisted-outbox.md says more.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::State;
use crate::web::{js, locks};

/// The warning of a page without Web Locks: nothing says which tabs are alive.
pub const NO_WEB_LOCKS: &str = "Web Locks are missing here: another tab of this app may send a stored message again (the server de-duplicates it by clientMsgId)";

/// The owners channel and its handler, closed when dropped.
pub struct OwnersChannel {
    channel: JsValue,
    _on_message: Closure<dyn FnMut(JsValue)>,
}

impl Drop for OwnersChannel {
    fn drop(&mut self) {
        let _ = Reflect::set(&self.channel, &js::string("onmessage"), &JsValue::NULL);
        js::call_method(&self.channel, "close");
    }
}

impl State {
    /// Asks for this page's owner lock, held until the connection is freed; what
    /// settles once it is granted, or refused (after a warning: the outbox goes on
    /// without it). `None` without Web Locks.
    pub(super) fn request_owner_lock(self: &Rc<Self>) -> Option<Promise> {
        let locks = self.locks.as_ref()?;
        let (granted, grant) = js::deferred();
        let (weak, on_grant) = (Rc::downgrade(self), grant.clone());
        let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
            let _ = on_grant.call0(&JsValue::UNDEFINED);
            let (held, release) = js::deferred();
            match weak.upgrade() {
                Some(state) if !state.closed.get() => {
                    state.release_owner_lock.replace(Some(release));
                }
                // Freed meanwhile: given back at once.
                _ => {
                    let _ = release.call0(&JsValue::UNDEFINED);
                }
            }
            held.into()
        });
        let name = js::string(&self.names.owner_lock(&self.owner));
        let answer = locks::request(locks, &name, &Object::new(), &callback);
        spawn_local(async move {
            if let Err(error) = JsFuture::from(answer).await {
                let text = [
                    "the outbox's owner lock failed (",
                    &js::describe(&error),
                    ")",
                ];
                js::warn(&js::string(&text.concat()));
                let _ = grant.call0(&JsValue::UNDEFINED);
            }
        });
        Some(granted)
    }

    /// Tells the other pages of this outbox that this one is alive, and hears of
    /// those that open later, so that every page waits on every other's owner lock.
    pub(super) fn announce(self: &Rc<Self>) {
        if self.locks.is_none() {
            return;
        }
        let name = js::string(&self.names.owners_channel());
        let Some(channel) = js::construct("BroadcastChannel", &name) else {
            return;
        };
        let weak = Rc::downgrade(self);
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            let owner = js::get(&event, "data").as_string();
            if let (Some(state), Some(owner)) = (weak.upgrade(), owner) {
                state.await_owner(&owner);
            }
        });
        let _ = Reflect::set(&channel, &js::string("onmessage"), on_message.as_ref());
        let post = js::get(&channel, "postMessage").unchecked_into::<Function>();
        let _ = post.call1(&channel, &js::string(&self.owner));
        self.channel.replace(Some(OwnersChannel {
            channel,
            _on_message: on_message,
        }));
    }

    /// Reads the store again once the page `owner` is gone (a shared request is
    /// granted when the exclusive holder is), unless this page waits on it already.
    pub(super) fn await_owner(self: &Rc<Self>, owner: &str) {
        let Some(locks) = &self.locks else {
            return;
        };
        if owner == self.owner || self.awaited.borrow().iter().any(|o| o == owner) {
            return;
        }
        self.awaited.borrow_mut().push(owner.into());
        let options = Object::new();
        let _ = Reflect::set(&options, &js::string("mode"), &js::string("shared"));
        if let Some(controller) = &self.stop_waiting {
            let _ = Reflect::set(&options, &js::string("signal"), &controller.signal());
        }
        // Nothing to do while it is held: the wait ends when it is granted. Freed when
        // called (a wait aborted keeps it: a few bytes per page waited on).
        let callback = Closure::once_into_js(|_lock: JsValue| {});
        let name = js::string(&self.names.owner_lock(owner));
        let answer = locks::request(locks, &name, &options, &callback);
        let (weak, owner) = (Rc::downgrade(self), String::from(owner));
        spawn_local(async move {
            // Rejected: aborted (this connection was freed) or refused.
            if JsFuture::from(answer).await.is_err() {
                return;
            }
            let Some(state) = weak.upgrade() else {
                return;
            };
            state.awaited.borrow_mut().retain(|o| *o != owner);
            if !state.closed.get() {
                state.restore();
            }
        });
    }

    /// The owner ids whose owner lock some page holds now (none, after a warning,
    /// when the browser will not say).
    pub(super) async fn live_owners(&self) -> Vec<String> {
        let Some(locks) = &self.locks else {
            return Vec::new();
        };
        let snapshot = match JsFuture::from(locks::query(locks)).await {
            Ok(snapshot) => snapshot,
            Err(error) => {
                let text = ["could not list the live tabs (", &js::describe(&error), ")"];
                js::warn(&js::string(&text.concat()));
                return Vec::new();
            }
        };
        let held = js::items(&js::get(&snapshot, "held"));
        let names = held
            .iter()
            .filter_map(|lock| js::get(lock, "name").as_string());
        let owners = names.filter_map(|name| self.names.owner_of_lock(&name).map(String::from));
        owners.collect()
    }
}
