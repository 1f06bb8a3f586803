//! The shell's half of one stream for all tabs (the `shareAcrossTabs` option, built
//! with the `share-tabs` feature into the `sse-courier/tabs` entry;
//! docs/shared-stream.md). Who leads, what each tab tells the others and how each
//! tab's own `Machine` is fed are the core's decisions (`crate::core::Tab`, the
//! shell's `Driver` in this build); this module opens the [`Sharing`] link (the
//! `BroadcastChannel` and the Web Lock, through `channel.rs`), carries out the tab's
//! channel and lock actions on it, and reads what the other tabs post.
//!
//! A tab that does not share (the option off, a page without Web Locks or
//! `BroadcastChannel`, a lock the browser refused) is `Tab::alone`, which acts as its
//! machine: the shell reads the same in every build.

use alloc::vec::Vec;

use serde::Serialize;
use wasm_bindgen::JsValue;

use super::boundary;
use super::channel::TabsLink;
use super::input::{Inputs, LockEvent};
use super::js;
use crate::core::{Driver, Machine, SessionSeq, Tab, TabAction, TabConfig, TabId, Term, Wire};

/// The link of a tab that shares: the channel and the lock, and the data of the
/// server event being fed to the leader, posted beside its `Wire::Event` (the event
/// crosses into the wasm once, in the leader).
#[derive(Clone)]
pub struct Sharing {
    link: TabsLink,
    event: JsValue,
}

/// The tab for the `shareAcrossTabs` option (`share`: `true`, a channel name, or
/// undefined when off), with its link when it shares: when the page has Web Locks and
/// `BroadcastChannel`, else (with one warning) the tab alone, a stream per tab.
pub fn open(
    share: &JsValue,
    config: &JsValue,
    machine: Machine,
    inputs: &Inputs,
) -> (Tab, Option<Sharing>) {
    // A random id per page load, below 2^53 so that it crosses the channel exactly.
    let id = TabId((js::random() * 9_007_199_254_740_991.0) as u64);
    let tab_config = TabConfig::new(id);
    if share.is_undefined() {
        return (Tab::alone(machine, tab_config), None);
    }
    let Some(link) = TabsLink::open(share, &js::get(config, "baseUrl"), inputs) else {
        js::warn(&js::string(
            "shareAcrossTabs: this page has no Web Locks (navigator.locks) or no BroadcastChannel; this tab opens its own stream",
        ));
        return (Tab::alone(machine, tab_config), None);
    };
    let sharing = Sharing {
        link,
        event: JsValue::UNDEFINED,
    };
    (Tab::new(machine, tab_config), Some(sharing))
}

/// Keeps the data of the server event about to be fed (see [`Sharing`]).
pub fn hold_event(sharing: &mut Option<Sharing>, data: JsValue) {
    if let Some(sharing) = sharing {
        sharing.event = data;
    }
}

/// Carries out a channel or lock action of the tab (`TabAction::Core` is the shell's),
/// on a copy of the link taken with the shell's state released, as every action: a
/// Web Locks fake may call back at once.
pub fn perform(sharing: &Sharing, action: TabAction) {
    let link = &sharing.link;
    match action {
        TabAction::Broadcast(wire) => post(link, &wire, &sharing.event),
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

/// The wire message of a message from another tab. Anything that does not read as a
/// `ChannelMessage` (another build's, a stranger's) is `None`, and ignored.
pub fn read_message(message: &JsValue) -> Option<Wire> {
    read_wire(&js::get(message, "wire"))
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
pub fn on_lock(tab: &mut Tab, now: u64, event: LockEvent) {
    match event {
        LockEvent::Granted => tab.on_lock_granted(now),
        LockEvent::Lost => tab.on_lock_lost(now),
        LockEvent::Refused => tab.on_lock_refused(now),
    }
}

/// The link of a tab that left sharing (the browser refused it the lock; its `Bye`
/// and its own stream were carried out by the pump), closed: it goes on alone. `true`
/// when it was closed now, for the shell to warn once its state is released.
pub fn leave_if_alone(tab: &Tab, sharing: &mut Option<Sharing>) -> bool {
    if tab.is_sharing() {
        return false;
    }
    let Some(left) = sharing.take() else {
        return false;
    };
    left.link.close();
    true
}

pub const LEFT_SHARING: &str =
    "shareAcrossTabs: the browser refused this tab the Web Lock; this tab opens its own stream";

/// The connection is being freed: it leaves as `disconnect()` would (`Bye`, or a
/// leader's last state), without telling its own app, then the channel is closed and
/// the lock released. (Closing the page does the same by itself.)
pub fn close(tab: &mut Tab, sharing: Option<Sharing>) {
    let Some(sharing) = sharing else {
        return;
    };
    let now = js::now();
    tab.input(now, |m| m.disconnect(now));
    while let Some(action) = tab.poll_action() {
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
