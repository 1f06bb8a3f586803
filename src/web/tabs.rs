//! The shell's half of one stream for all tabs (the `shareAcrossTabs` option, built
//! with the `share-tabs` feature into the `sse-courier/tabs` entry;
//! docs/shared-stream.md). Who leads, what each tab tells the others and how each
//! tab's own `Machine` is fed are the core's decisions (`crate::core::Tab`); this
//! module routes the shell's inputs through the tab, carries out its channel and lock
//! actions through `channel.rs` (the `BroadcastChannel` and the Web Lock), and turns
//! what they report back into tab inputs.
//!
//! The shell holds a [`Core`]: the machine alone (the option off, or a page without
//! Web Locks or `BroadcastChannel`), or the [`Tab`] around it. `Core` reads as the
//! `Machine` (`Deref`) and has the `Machine`'s input methods under the same names, so
//! the rest of the shell reads the same in every build; an input the `Core` does not
//! list does not compile (there is no `DerefMut`), so none can bypass the tab.

#[cfg(feature = "persist")]
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Deref;

use serde::Serialize;
use wasm_bindgen::JsValue;

use super::app;
use super::boundary;
use super::channel::TabsLink;
use super::input::{Inputs, LockEvent};
use super::js;
use super::shell::{pump, Shared};
use crate::core::{
    Config, Endpoint, EventVerdict, Machine, PostId, PostOutcome, SendOutcome, StreamId, Tab,
    TabAction, TabConfig, TabId, Wire,
};
#[cfg(feature = "persist")]
use crate::core::{OutboxAction, Restored, Stored};
use crate::core::{SessionSeq, Term};

/// The machine alone, or the tab around it. One per connection, so the size of the
/// larger variant costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Core {
    Alone(Machine),
    Sharing(Sharing),
}

pub struct Sharing {
    tab: Tab,
    /// The channel and the lock.
    link: TabsLink,
    /// The parsed data of the server event being fed to the leader, posted beside its
    /// `Wire::Event` (the event crosses into the wasm once, in the leader).
    event: JsValue,
}

/// The `Core` for the `shareAcrossTabs` option (`share`: `true`, a channel name, or
/// undefined when off): the tab around `machine` when the page has Web Locks and
/// `BroadcastChannel`, else (with one warning) the machine alone, a stream per tab.
pub fn open(share: &JsValue, config: &JsValue, machine: Machine, inputs: &Inputs) -> Core {
    if share.is_undefined() {
        return Core::Alone(machine);
    }
    let Some(link) = TabsLink::open(share, &js::get(config, "baseUrl"), inputs) else {
        js::warn(&js::string(
            "shareAcrossTabs: this page has no Web Locks (navigator.locks) or no BroadcastChannel; this tab opens its own stream",
        ));
        return Core::Alone(machine);
    };
    // A random id per page load, below 2^53 so that it crosses the channel exactly.
    let id = TabId((js::random() * 9_007_199_254_740_991.0) as u64);
    Core::Sharing(Sharing {
        tab: Tab::new(machine, TabConfig::new(id)),
        link,
        event: JsValue::UNDEFINED,
    })
}

impl Deref for Core {
    type Target = Machine;

    fn deref(&self) -> &Machine {
        match self {
            Core::Alone(machine) => machine,
            Core::Sharing(sharing) => sharing.tab.machine(),
        }
    }
}

impl Core {
    /// A `Machine` input, through the tab when there is one.
    fn input<R>(&mut self, now: u64, f: impl FnOnce(&mut Machine) -> R) -> R {
        match self {
            Core::Alone(machine) => f(machine),
            Core::Sharing(sharing) => sharing.tab.with(now, f),
        }
    }

    pub fn connect(&mut self, now: u64) {
        self.input(now, |m| m.connect(now))
    }

    pub fn disconnect(&mut self, now: u64) {
        self.input(now, |m| m.disconnect(now))
    }

    pub fn check_and_reconnect(&mut self, now: u64, force: bool) {
        self.input(now, |m| m.check_and_reconnect(now, force))
    }

    pub fn send(&mut self, now: u64, endpoint: Endpoint) -> SendOutcome {
        self.input(now, |m| m.send(now, endpoint))
    }

    /// Called with `persist` only (the `sse-courier/full` entry): `connection.rs`
    /// names it in every build.
    pub fn send_keyed(&mut self, now: u64, endpoint: Endpoint, key: &str) -> SendOutcome {
        self.input(now, |m| m.send_keyed(now, endpoint, key))
    }

    pub fn send_suspend(&mut self, now: u64) {
        self.input(now, |m| m.send_suspend(now))
    }

    pub fn clear_pending_sends(&mut self) {
        self.input(js::now(), |m| m.clear_pending_sends())
    }

    pub fn track_seq(&mut self, session_id: &str, seq: u64) {
        self.input(js::now(), |m| m.track_seq(session_id, seq))
    }

    pub fn clear_session(&mut self, session_id: &str) {
        self.input(js::now(), |m| m.clear_session(session_id))
    }

    /// Through the tab's own input: a leader's catch-up reconnect POST is the tab's.
    pub fn on_post_answer(&mut self, now: u64, post: PostId, outcome: PostOutcome) {
        match self {
            Core::Alone(machine) => machine.on_post_answer(now, post, outcome),
            Core::Sharing(sharing) => sharing.tab.on_post_answer(now, post, outcome),
        }
    }

    pub fn on_visibility(&mut self, now: u64, visible: bool) {
        self.input(now, |m| m.on_visibility(now, visible))
    }

    pub fn on_page_hide(&mut self, now: u64) {
        self.input(now, |m| m.on_page_hide(now))
    }

    pub fn on_page_show(&mut self, now: u64, persisted: bool) {
        self.input(now, |m| m.on_page_show(now, persisted))
    }

    pub fn on_online(&mut self, now: u64) {
        self.input(now, |m| m.on_online(now))
    }

    pub fn on_malformed_event(&mut self, now: u64, stream: StreamId) {
        self.input(now, |m| m.on_malformed_event(now, stream))
    }

    // The real stream's welcome, events and errors: the tab's own inputs (a follower
    // has no real stream; its machine's is fed from the channel).

    pub fn on_welcome(&mut self, now: u64, stream: StreamId, connection_id: &str) {
        match self {
            Core::Alone(machine) => machine.on_welcome(now, stream, connection_id),
            Core::Sharing(sharing) => sharing.tab.on_welcome(now, stream, connection_id),
        }
    }

    pub fn on_event(
        &mut self,
        now: u64,
        stream: StreamId,
        session_id: Option<&str>,
        seq: Option<u64>,
    ) -> EventVerdict {
        match self {
            Core::Alone(machine) => machine.on_event(now, stream, session_id, seq),
            Core::Sharing(sharing) => sharing.tab.on_event(now, stream, session_id, seq),
        }
    }

    pub fn on_stream_error(&mut self, now: u64, stream: StreamId, closed: bool) {
        match self {
            Core::Alone(machine) => machine.on_stream_error(now, stream, closed),
            Core::Sharing(sharing) => sharing.tab.on_stream_error(now, stream, closed),
        }
    }

    /// The next action: the machine's (as `TabAction::Core`), or the tab's.
    pub fn poll_action(&mut self) -> Option<TabAction> {
        match self {
            Core::Alone(machine) => machine.poll_action().map(TabAction::Core),
            Core::Sharing(sharing) => sharing.tab.poll_action(),
        }
    }

    /// The one host timer's deadline: the tab's covers its machine's.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self {
            Core::Alone(machine) => machine.poll_timeout(),
            Core::Sharing(sharing) => sharing.tab.poll_timeout(),
        }
    }

    pub fn on_timeout(&mut self, now: u64) {
        match self {
            Core::Alone(machine) => machine.on_timeout(now),
            Core::Sharing(sharing) => sharing.tab.on_timeout(now),
        }
    }

    /// With `persist` too (the `sse-courier/full` entry): the outbox's store
    /// operations, which concern this tab alone.
    #[cfg(feature = "persist")]
    pub fn poll_outbox_action(&mut self) -> Option<OutboxAction> {
        match self {
            Core::Alone(machine) => machine.poll_outbox_action(),
            Core::Sharing(sharing) => sharing.tab.poll_outbox_action(),
        }
    }

    /// With `persist` too: the store read back, through the tab like any input (the
    /// restored messages are this tab's sends, posted on the shared connection).
    #[cfg(feature = "persist")]
    pub fn restore(
        &mut self,
        now: u64,
        stored: &[Stored],
        live_owners: &[String],
    ) -> Vec<Restored> {
        self.input(now, |m| m.restore(now, stored, live_owners))
    }

    /// Keeps the data of the server event about to be fed (see `Sharing::event`).
    pub fn hold_event(&mut self, data: JsValue) {
        if let Core::Sharing(sharing) = self {
            sharing.event = data;
        }
    }
}

/// Carries out a channel or lock action of the tab (`TabAction::Core` is the shell's).
pub fn perform(shell: &Shared, action: TabAction) {
    // Carried out with the shell's state released, as every action: a Web Locks fake
    // may call back at once.
    let (link, event) = match &shell.borrow().core {
        Core::Sharing(sharing) => (sharing.link.clone(), sharing.event.clone()),
        Core::Alone(_) => return,
    };
    match action {
        TabAction::Broadcast(wire) => post(&link, &wire, &event),
        TabAction::RequestLock => link.request_lock(false),
        TabAction::StealLock => link.request_lock(true),
        TabAction::ReleaseLock => link.release_lock(),
        TabAction::Core(_) => {}
    }
}

/// One message on the channel: the wire message and, for an event, its data beside
/// it (the parsed event, passed on as it came).
#[derive(Serialize)]
struct ChannelMessage {
    wire: Wire,
    #[serde(
        with = "serde_wasm_bindgen::preserve",
        skip_serializing_if = "JsValue::is_undefined"
    )]
    data: JsValue,
}

/// A message from another tab: fed to the tab, then, for a relayed event this tab's
/// machine lets through, its data to the listener, after the actions it caused (as
/// for an event of the tab's own stream). Anything that does not read as a
/// `ChannelMessage` (another build's, a stranger's) is ignored.
pub fn on_channel(shell: &Shared, message: JsValue) {
    let Some(wire) = read_wire(&js::get(&message, "wire")) else {
        return;
    };
    let verdict = match &mut shell.borrow_mut().core {
        Core::Sharing(sharing) => sharing.tab.on_channel(js::now(), &wire),
        Core::Alone(_) => return,
    };
    pump(shell);
    if verdict == EventVerdict::Dispatch {
        let listener = shell.borrow().listener.clone();
        app::dispatch(listener, &js::get(&message, "data"));
    }
}

/// A `Wire` as `ChannelMessage` serialises it (an object tagged by its `kind`, fields
/// by name in camelCase: tests/core_tabs_wire.rs pins the shape), read by name.
/// Not serde's `Deserialize`: serde-wasm-bindgen's type errors format the number they
/// met, which links core's float formatting into the wasm (BENCHMARKS.md, "Size").
fn read_wire(wire: &JsValue) -> Option<Wire> {
    let count = |object: &JsValue, name: &str| js::as_count(&js::get(object, name));
    let text = |name: &str| js::get(wire, name).as_string();
    let term = js::get(wire, "term");
    let term = Term {
        epoch: count(&term, "epoch")?,
        leader: TabId(count(&term, "leader")?),
    };
    Some(match js::get(wire, "kind").as_string()?.as_str() {
        "leader" => Wire::Leader { term },
        "state" => Wire::State {
            term,
            n: count(wire, "n")?,
            connection_id: text("connectionId"),
            connected: js::get(wire, "connected").as_bool()?,
        },
        "event" => Wire::Event {
            term,
            n: count(wire, "n")?,
            session_id: text("sessionId"),
            seq: count(wire, "seq"),
        },
        "heartbeat" => Wire::Heartbeat { term },
        "sessions" => Wire::Sessions {
            term,
            from: TabId(count(wire, "from")?),
            seen: count(wire, "seen"),
            sessions: read_sessions(&js::get(wire, "sessions")),
        },
        "rebuild" => Wire::Rebuild {
            term,
            connection_id: text("connectionId")?,
        },
        "bye" => Wire::Bye {
            term,
            from: TabId(count(wire, "from")?),
        },
        _ => return None,
    })
}

/// The `{ sessionId, lastSeq }` items of a JS array, skipping malformed ones.
fn read_sessions(list: &JsValue) -> Vec<SessionSeq> {
    let mut sessions = Vec::new();
    for item in js::items(list) {
        let session_id = js::get(&item, "sessionId").as_string();
        let last_seq = js::as_count(&js::get(&item, "lastSeq"));
        if let (Some(session_id), Some(last_seq)) = (session_id, last_seq) {
            sessions.push(SessionSeq {
                session_id,
                last_seq,
            });
        }
    }
    sessions
}

/// The lock was granted, taken away, or refused.
pub fn on_lock(shell: &Shared, event: LockEvent) {
    {
        let mut s = shell.borrow_mut();
        let Core::Sharing(sharing) = &mut s.core else {
            return;
        };
        let now = js::now();
        match event {
            LockEvent::Granted => sharing.tab.on_lock_granted(now),
            LockEvent::Lost => sharing.tab.on_lock_lost(now),
            LockEvent::Refused => sharing.tab.on_lock_refused(now),
        }
    }
    pump(shell);
    leave_if_alone(shell);
}

/// A tab that left sharing (the browser refused it the lock; its `Bye` and its own
/// stream were carried out by the pump) goes on as the machine alone: one warning,
/// and the channel closed.
fn leave_if_alone(shell: &Shared) {
    let mut s = shell.borrow_mut();
    if !matches!(&s.core, Core::Sharing(sharing) if !sharing.tab.is_sharing()) {
        return;
    }
    let placeholder = Core::Alone(Machine::new(Config::default(), 0));
    if let Core::Sharing(sharing) = core::mem::replace(&mut s.core, placeholder) {
        sharing.link.close();
        s.core = Core::Alone(sharing.tab.into_machine());
    }
    drop(s);
    js::warn(&js::string(
        "shareAcrossTabs: the browser refused this tab the Web Lock; this tab opens its own stream",
    ));
}

/// The connection is being freed: it leaves as `disconnect()` would (`Bye`, or a
/// leader's last state), without telling its own app, then the channel is closed and
/// the lock released. (Closing the page does the same by itself.)
pub fn close(core: &mut Core) {
    let Core::Sharing(sharing) = core else {
        return;
    };
    let now = js::now();
    sharing.tab.with(now, |m| m.disconnect(now));
    while let Some(action) = sharing.tab.poll_action() {
        if let TabAction::Broadcast(wire) = action {
            post(&sharing.link, &wire, &JsValue::UNDEFINED);
        }
    }
    sharing.link.close();
}

/// Posts `wire` to the other tabs, with the event's data beside an `Event`.
fn post(link: &TabsLink, wire: &Wire, event: &JsValue) {
    let data = match wire {
        Wire::Event { .. } => event.clone(),
        _ => JsValue::UNDEFINED,
    };
    let message = ChannelMessage {
        wire: wire.clone(),
        data,
    };
    match boundary::to_js(&message) {
        Ok(message) => link.post(message),
        Err(error) => js::warn(&error),
    }
}
