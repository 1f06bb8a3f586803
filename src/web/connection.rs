//! `Connection`, the class JS imports: a drop-in for the existing `SseConnection`.
//! It holds the shell and forwards; no delivery logic lives here.

use alloc::rc::{Rc, Weak};
use alloc::string::String;

use js_sys::{Array, Object, Promise};

use wasm_bindgen::prelude::*;
#[cfg(feature = "persist")]
use wasm_bindgen_futures::JsFuture;

use super::app;
use super::boundary;
use super::config;
use super::ids;
use super::input::Inputs;
use super::js;
use super::lifecycle;
#[cfg(feature = "persist")]
use super::outbox::{verdicts, Outbox};
use super::outgoing::Outgoing;
use super::probe;
use super::prompt;
use super::shell::{self, pump, Shared, Shell, ShellCell};
#[cfg(feature = "persist")]
use crate::core::PersistConfig;
use crate::core::{Driver, Endpoint, Machine, Prompt, SendOutcome};

/// Where the existing client kept its outbox: `mitzo-send-outbox:` and its events URL,
/// `{baseUrl}/api/chat/events` (never what `buildEventUrl` gives: a URL with a fresh
/// token each time would name another outbox at every page load).
#[cfg(feature = "persist")]
fn legacy_outbox_name(config: &JsValue) -> String {
    let base_url = js::get(config, "baseUrl").as_string().unwrap_or_default();
    [
        crate::core::LEGACY_KEY_PREFIX,
        &base_url,
        "/api/chat/events",
    ]
    .concat()
}

#[wasm_bindgen]
pub struct Connection {
    pub(super) shell: Shared,
}

#[wasm_bindgen]
impl Connection {
    /// Validates `config` (errors name the field) and builds an idle connection.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ConnectionConfig")] config: JsValue,
    ) -> Result<Connection, JsValue> {
        let (core_config, options) = config::read(&config)?;
        let seed = (js::random() * 9_007_199_254_740_991.0) as u64;
        // A copy, like the existing client's `{ ...defaults, ...config }`: the app may
        // replace `connection.config.fetch` later, and the next POST uses it.
        let copy = Object::assign(&Object::new(), config.unchecked_ref()).into();
        let shell = Rc::new_cyclic(|weak: &Weak<ShellCell>| {
            let connection = weak.clone();
            let inputs = Inputs::new(move |input| {
                let shell = connection.upgrade()?;
                shell::on_input(&shell, input)
            });
            // With `persist`: a new owner id for this page load, and the outbox of the
            // store the app named, which asks for the owner lock at once.
            #[cfg(feature = "persist")]
            let (core, outbox) = match &options.persist {
                Some(persist) => {
                    let owner = ids::new_id();
                    let legacy = legacy_outbox_name(&config);
                    let (store, namespace) = (&persist.store, &persist.namespace);
                    let outbox = Outbox::open(store, namespace, &owner, legacy, &inputs);
                    // IndexedDB commits later than the report anyway, a transaction
                    // per group of writes: its removals go in groups.
                    let group_removals = store.as_string().as_deref() == Some("indexeddb");
                    let persist = PersistConfig {
                        max_age_ms: persist.max_age_ms,
                        group_removals,
                        ..PersistConfig::new(&owner)
                    };
                    (
                        Machine::with_persist(core_config, persist, seed),
                        Some(outbox),
                    )
                }
                None => (Machine::new(core_config, seed), None),
            };
            #[cfg(not(feature = "persist"))]
            let core = Machine::new(core_config, seed);
            #[cfg(feature = "share-tabs")]
            let (core, sharing) = super::tabs::open(&options.share_tabs, &config, core, &inputs);
            #[allow(unused_mut)]
            let mut shell = Shell::new(core, options, copy, inputs);
            super::auth::watch_events(&shell);
            #[cfg(feature = "share-tabs")]
            {
                shell.sharing = sharing;
            }
            #[cfg(feature = "persist")]
            {
                shell.outbox = outbox;
            }
            ShellCell::new(shell)
        });
        Ok(Connection { shell })
    }

    /// The config this connection reads `fetch`, `createEventSource` and `onDelivery` from.
    #[wasm_bindgen(getter, unchecked_return_type = "ConnectionConfig")]
    pub fn config(&self) -> JsValue {
        self.shell.borrow().config.clone()
    }

    /// Opens the stream and starts listening to page lifecycle events. With
    /// `persist`, the first call also reads the stored messages back.
    pub fn connect(&self) {
        if self.shell.borrow().page_listeners.is_none() {
            let inputs = self.shell.borrow().inputs.clone();
            let listeners = lifecycle::listen(&inputs);
            self.shell.borrow_mut().page_listeners = Some(listeners);
        }
        // The core holds retryable messages until the store is read, so that the stored
        // ones go first.
        #[cfg(feature = "persist")]
        {
            let outbox = {
                let s = self.shell.borrow();
                let awaiting = s.core.machine().awaiting_restore();
                s.outbox.clone().filter(|_| awaiting)
            };
            if let Some(outbox) = outbox {
                outbox.restore();
            }
        }
        self.feed(|machine, now| machine.connect(now));
        pump(&self.shell);
    }

    /// Closes the stream, cancels any reconnect and removes every listener. Queued
    /// sends are kept for a later `connect()`.
    pub fn disconnect(&self) {
        // Dropped (each removing itself) once the borrow is released.
        let listeners = self.shell.borrow_mut().page_listeners.take();
        drop(listeners);
        self.feed(|machine, now| machine.disconnect(now));
        pump(&self.shell);
    }

    /// POSTs the message now when connected, queues it while (re)connecting.
    /// Returns `false` for an unknown `type`, or when down and not recovering; throws
    /// (changing nothing) when `msg` is not an object, its `type` is not a string or
    /// it cannot be serialised to JSON. Typed to accept any object, as the existing
    /// client's `send(msg: object)` does, so its callers compile unchanged.
    pub fn send(
        &self,
        #[wasm_bindgen(unchecked_param_type = "OutgoingMessage | object")] msg: JsValue,
    ) -> Result<bool, JsValue> {
        let kind = message_type(&msg)?;
        let Some(endpoint) = Endpoint::from_message_type(&kind) else {
            return Ok(false);
        };
        // A prompt under the current contract, and a message that will be stored, need
        // a clientMsgId (the key a receipt names, and the server de-duplicates a resend
        // by): one is given to a copy when it has none.
        let prompt = self.shell.borrow().core.machine().is_prompt(endpoint);
        #[cfg(feature = "persist")]
        let stored = self.shell.borrow().core.machine().persists(endpoint);
        #[cfg(not(feature = "persist"))]
        let stored = false;
        let keyed = (prompt || stored).then(|| ids::with_client_msg_id(&msg));
        let (body, client_msg_id) = match &keyed {
            Some(keyed) => (message_body(keyed)?, js::get(keyed, "clientMsgId")),
            None => (message_body(&msg)?, JsValue::UNDEFINED),
        };
        let key = client_msg_id.as_string();
        let session_id = prompt.then(|| prompt::session_of(&msg)).flatten();
        let accepted = {
            let mut s = self.shell.borrow_mut();
            let now = js::now();
            let outcome = s.core.input(now, |m| match &key {
                _ if prompt => m.send_prompt(
                    now,
                    Prompt {
                        client_msg_id: key.as_deref(),
                        session_id: session_id.as_deref(),
                    },
                ),
                Some(key) if stored => m.send_keyed(now, endpoint, key),
                _ => m.send(now, endpoint),
            });
            match outcome {
                SendOutcome::Posted(id) | SendOutcome::Queued(id) => {
                    s.outgoing.push(Outgoing {
                        id,
                        message: msg,
                        body,
                        endpoint,
                        client_msg_id,
                        session_id,
                        receipt: None,
                    });
                    true
                }
                SendOutcome::Refused => false,
            }
        };
        pump(&self.shell);
        Ok(accepted)
    }

    /// The one listener for server events and `_open`/`_close`/`_foreground`; last wins.
    #[wasm_bindgen(js_name = onMessage)]
    pub fn on_message(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ConnectionListener | null")] listener: JsValue,
    ) {
        self.shell.borrow_mut().listener = app::listener_of(&listener);
    }

    #[wasm_bindgen(js_name = isConnected)]
    pub fn is_connected(&self) -> bool {
        self.shell.borrow().core.machine().is_connected()
    }

    #[wasm_bindgen(js_name = getConnectionId, unchecked_return_type = "string | null")]
    pub fn get_connection_id(&self) -> JsValue {
        match self.shell.borrow().core.machine().connection_id() {
            Some(id) => JsValue::from_str(id),
            None => JsValue::NULL,
        }
    }

    // Parameters are named as the TypeScript signature should read them.
    #[wasm_bindgen(js_name = trackSeq)]
    #[allow(non_snake_case)]
    pub fn track_seq(&self, sessionId: &str, seq: f64) {
        if let Some(seq) = js::as_count(&JsValue::from_f64(seq)) {
            self.feed(|machine, _| machine.track_seq(sessionId, seq));
        }
    }

    /// The last seq seen or tracked for the session, 0 when unknown.
    #[wasm_bindgen(js_name = getLastSeq)]
    #[allow(non_snake_case)]
    pub fn get_last_seq(&self, sessionId: &str) -> f64 {
        self.shell.borrow().core.machine().last_seq(sessionId) as f64
    }

    #[wasm_bindgen(js_name = clearSession)]
    #[allow(non_snake_case)]
    pub fn clear_session(&self, sessionId: &str) {
        self.feed(|machine, _| machine.clear_session(sessionId));
    }

    /// The tracked session ids, in the order they were first tracked.
    #[wasm_bindgen(js_name = getTrackedSessions, unchecked_return_type = "string[]")]
    pub fn get_tracked_sessions(&self) -> Array {
        let s = self.shell.borrow();
        s.core
            .machine()
            .tracked_sessions()
            .map(JsValue::from_str)
            .collect()
    }

    /// With `acknowledgeEvents`: the app applied the session up to `seq` by other means
    /// (a transcript it loaded): the cursor moves there (never back), the server is
    /// told, and held events that follow are handed to the listener. Throws when the
    /// option is off or `seq` is not a whole number of at least 0.
    #[wasm_bindgen(js_name = commitTranscriptCursor)]
    #[allow(non_snake_case)]
    pub fn commit_transcript_cursor(&self, sessionId: &str, seq: f64) -> Result<(), JsValue> {
        let seq = self.chained_count("commitTranscriptCursor", "seq", seq)?;
        self.feed(|machine, now| machine.commit_transcript_cursor(now, sessionId, seq));
        pump(&self.shell);
        Ok(())
    }

    /// With `acknowledgeEvents`: the app applied the reconnect snapshot the server
    /// offered (`session_reconnect_snapshot`); the server is told, and once it answers
    /// `{ applied: true }` the session's cursor is `cursor` and its held events go on.
    /// False when no open offer has this session, cursor and `offerId`, or no
    /// connection is known to post it on. Throws when the option is off or `cursor` is
    /// not a whole number of at least 0.
    #[wasm_bindgen(js_name = acknowledgeReconnectSnapshot)]
    #[allow(non_snake_case)]
    pub fn acknowledge_reconnect_snapshot(
        &self,
        sessionId: &str,
        cursor: f64,
        offerId: Option<String>,
    ) -> Result<bool, JsValue> {
        let cursor = self.chained_count("acknowledgeReconnectSnapshot", "cursor", cursor)?;
        let asked = self.feed(|machine, now| {
            machine.acknowledge_snapshot(now, sessionId, cursor, offerId.as_deref())
        });
        pump(&self.shell);
        Ok(asked)
    }

    /// Drops every queued send (each reported `dropped`, reason `cleared`).
    #[wasm_bindgen(js_name = clearPendingSends)]
    pub fn clear_pending_sends(&self) {
        self.feed(|machine, _| machine.clear_pending_sends());
        pump(&self.shell);
    }

    /// Tells the server this client is going to the background: POST `suspend` when
    /// connected, else `navigator.sendBeacon(suspendUrl)`.
    #[wasm_bindgen(js_name = sendSuspend)]
    pub fn send_suspend(&self) {
        self.feed(|machine, now| machine.send_suspend(now));
        pump(&self.shell);
    }

    /// Rebuilds the stream when down; `force` rebuilds it even when connected.
    #[wasm_bindgen(js_name = checkAndReconnect)]
    pub fn check_and_reconnect(&self, force: Option<bool>) {
        let force = force.unwrap_or(false);
        self.feed(|machine, now| machine.check_and_reconnect(now, force));
        pump(&self.shell);
    }

    /// What the connection has seen and done since it was made (diagnostics: streams,
    /// reconnects, skipped events, retries, fates).
    #[wasm_bindgen(unchecked_return_type = "ConnectionStats")]
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        let stats = self.shell.borrow().core.machine().stats().clone();
        boundary::to_js(&stats)
    }

    /// How the last foreground probe ended (`foregroundProbe`), or `null` before any
    /// ended.
    #[wasm_bindgen(js_name = lastProbe, unchecked_return_type = "ProbeResult | null")]
    pub fn last_probe(&self) -> Result<JsValue, JsValue> {
        let outcome = self.shell.borrow().core.machine().last_probe();
        probe::result(outcome)
    }

    /// With `persist` (the `sse-courier/persist` entry; otherwise always empty): the
    /// messages read back from the store (sent before a reload,
    /// or left by a tab that closed) that have no fate yet, oldest first, so that the
    /// app can show them as sending. Each will get its delivery report.
    #[wasm_bindgen(js_name = restoredPending, unchecked_return_type = "OutgoingMessage[]")]
    pub fn restored_pending(&self) -> JsValue {
        #[cfg(feature = "persist")]
        return restored_pending(&self.shell).into();
        #[cfg(not(feature = "persist"))]
        Array::new().into()
    }

    /// Resolves with `restoredPending()` once the stored messages have been read back:
    /// after the first `connect()` (called before, it waits for it) has read the store,
    /// or given up on a store that cannot be read. Without `persist`, at once with `[]`;
    /// with `[]` when the connection is freed first.
    #[wasm_bindgen(js_name = whenRestored, unchecked_return_type = "Promise<OutgoingMessage[]>")]
    pub fn when_restored(&self) -> JsValue {
        #[cfg(feature = "persist")]
        {
            let outbox = self.shell.borrow().outbox.clone();
            if let Some(outbox) = outbox {
                let (first_read, shell) = (outbox.first_read(), Rc::downgrade(&self.shell));
                let restored = async move {
                    let _ = JsFuture::from(first_read).await;
                    // None when the connection was freed first.
                    let list = shell.upgrade().map(|shell| restored_pending(&shell));
                    list.unwrap_or_default().into()
                };
                return js::spawn_promise(restored).into();
            }
        }
        Promise::resolve(&Array::new()).into()
    }

    /// How many sends wait in the queue (not yet POSTed).
    #[wasm_bindgen(getter, js_name = pendingCount)]
    pub fn pending_count(&self) -> u32 {
        self.shell.borrow().core.machine().pending_len() as u32
    }

    /// How many POSTs are awaiting an answer or a retry.
    #[wasm_bindgen(getter, js_name = inFlightCount)]
    pub fn in_flight_count(&self) -> u32 {
        self.shell.borrow().core.machine().in_flight_len() as u32
    }
}

impl Connection {
    /// `value` as a cursor for `method`'s `argument`; the error to throw when
    /// `acknowledgeEvents` is off or it is not a whole number of at least 0.
    fn chained_count(&self, method: &str, argument: &str, value: f64) -> Result<u64, JsValue> {
        if !self.shell.borrow().core.machine().config().applied_events {
            let text = [method, ": needs config.acknowledgeEvents"].concat();
            return Err(JsError::new(&text).into());
        }
        js::count(value).ok_or_else(|| {
            let text = [
                method,
                ": ",
                argument,
                " must be a whole number of at least 0",
            ]
            .concat();
            JsError::new(&text).into()
        })
    }

    /// Feeds the machine an input of the app's, at the current time, through the
    /// shell's driver (the tab around it, when there is one).
    pub(super) fn feed<R>(&self, input: impl FnOnce(&mut Machine, u64) -> R) -> R {
        let now = js::now();
        self.shell
            .borrow_mut()
            .core
            .input(now, |machine| input(machine, now))
    }
}

/// The restored messages without a fate yet, oldest first.
#[cfg(feature = "persist")]
fn restored_pending(shell: &Shared) -> Array {
    let s = shell.borrow();
    verdicts::messages(s.core.machine().restored_pending(), &s.outgoing)
}

/// The `type` of a message given to `send()`; the error to throw when the message is
/// not a plain object or its `type` not a string.
fn message_type(message: &JsValue) -> Result<String, JsValue> {
    if !message.is_object() || Array::is_array(message) {
        return Err(JsError::new("send: message must be a plain object").into());
    }
    js::get(message, "type")
        .as_string()
        .ok_or_else(|| JsError::new("send: message.type must be a string").into())
}

/// `JSON.stringify(message)`, a JS string (the body is never copied through Rust); the
/// error to throw, naming JSON and quoting the cause's message, when it throws or gives
/// no string (a `toJSON` giving `undefined`).
fn message_body(message: &JsValue) -> Result<JsValue, JsValue> {
    let cause = match js_sys::JSON::stringify(message) {
        Ok(body) if body.is_string() => return Ok(body.into()),
        Ok(_) => JsValue::UNDEFINED,
        Err(error) => js::get(&error, "message"),
    };
    let mut text = String::from("send: message cannot be serialised to JSON: ");
    if !cause.is_undefined() && !cause.is_null() {
        text.push_str(&js::describe(&cause));
    }
    Err(JsError::new(&text).into())
}
