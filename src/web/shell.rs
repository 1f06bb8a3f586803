//! The shell's state and its one loop: feed the core an input, then carry out every
//! action it hands back, then arm the one host timer at the core's next deadline.
//!
//! Re-entrancy rule: the `RefCell` is never borrowed across a call into JS that can run
//! the app's code (its listener, `onDelivery`, an injected `fetch` or
//! `createEventSource`, an EventSource's `close()`), since that code may call back into
//! `Connection` synchronously. Each action is popped under a short borrow and carried
//! out after it is released, so nested calls just pump the same action queue. (The
//! helper's pure functions, such as pushing a session id onto its list, run no app
//! code.)

use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Ref, RefCell, RefMut};

use wasm_bindgen::prelude::*;

use super::config::ShellOptions;
use super::inputs::on_input;
use super::js::{self, State};
use super::lifecycle::PageListeners;
#[cfg(feature = "persist")]
use super::outbox;
use super::post::{self, Aborters, PostRequest};
use super::report;
#[cfg(feature = "share-tabs")]
use super::tabs;
use super::timer::HostTimer;
#[cfg(feature = "share-tabs")]
use crate::core::TabAction;
use crate::core::{Action, Body, Endpoint, MsgId, Notice, PostId, StreamId};

/// What the shell feeds and reads: the core's `Machine`, or in the build with the
/// `share-tabs` feature the machine alone or the tab around it (`tabs::Core`, which
/// has the machine's methods under the same names).
#[cfg(not(feature = "share-tabs"))]
pub type Core = crate::core::Machine;
#[cfg(feature = "share-tabs")]
pub use super::tabs::Core;

/// A message the app sent that has no fate yet: the object (handed back in its
/// delivery report) and its JSON body (kept as a JS string, never copied into Rust).
pub struct Outgoing {
    pub id: MsgId,
    pub message: JsValue,
    pub body: JsValue,
    pub endpoint: Endpoint,
    /// The `clientMsgId` the shell gave the message to store it (undefined when it
    /// gave none): the report carries it, the app's object being left unchanged.
    pub client_msg_id: JsValue,
}

/// The shell's one inbox: everything the platform reports (stream events, POST
/// answers, page lifecycle, the timer) reaches `inbox.tell(kind, id, now, number,
/// text)` (see `inputs.rs`). A `&self` method, so that a nested report (an app listener
/// disconnecting, whose fake EventSource errors on `close()`) may re-enter it.
///
/// An object of an exported class rather than a `Closure`: a method's glue is one
/// plain function, where every call of a closure goes through wasm-bindgen's generic
/// wrapper (rest arguments spread again, a reference count, `try`/`finally`), which
/// cost about 0.2 µs per server event in Firefox. The helper holds the only reference;
/// it frees the object when the connection is retired (see `retire` in `helper.js`).
#[wasm_bindgen(skip_typescript)]
pub struct Inbox {
    shell: Weak<ShellCell>,
}

impl Inbox {
    pub fn new(shell: Weak<ShellCell>) -> Inbox {
        Inbox { shell }
    }
}

#[wasm_bindgen]
impl Inbox {
    #[cfg(not(feature = "share-tabs"))]
    pub fn tell(&self, kind: u32, id: u32, now: f64, number: f64, text: Option<String>) -> u32 {
        match self.shell.upgrade() {
            Some(shell) => on_input(&shell, kind, id, now, number, text),
            None => 0,
        }
    }

    /// As without the `share-tabs` feature, with the parsed data of a server event
    /// (`data`; the helper passes it to every build, the others ignore it), which a
    /// leader posts beside the event to the other tabs.
    #[cfg(feature = "share-tabs")]
    pub fn tell(
        &self,
        kind: u32,
        id: u32,
        now: f64,
        number: f64,
        text: Option<String>,
        data: JsValue,
    ) -> u32 {
        let Some(shell) = self.shell.upgrade() else {
            return 0;
        };
        shell.borrow_mut().core.hold_event(data);
        let verdict = on_input(&shell, kind, id, now, number, text);
        shell.borrow_mut().core.hold_event(JsValue::UNDEFINED);
        verdict
    }

    /// A message from another tab (see `tabs.rs`).
    #[cfg(feature = "share-tabs")]
    #[allow(clippy::too_many_arguments)]
    pub fn channel(
        &self,
        kind: u32,
        epoch: f64,
        leader: f64,
        n: f64,
        text: Option<String>,
        number: f64,
        sessions: JsValue,
        data: JsValue,
    ) {
        if let Some(shell) = self.shell.upgrade() {
            tabs::on_channel(
                &shell, kind, epoch, leader, n, text, number, &sessions, &data,
            );
        }
    }

    /// The tabs' Web Lock was granted or lost (see `tabs.rs`).
    #[cfg(feature = "share-tabs")]
    pub fn lock(&self, event: u32) {
        if let Some(shell) = self.shell.upgrade() {
            tabs::on_lock(&shell, event);
        }
    }

    /// A read of the persisted outbox's store (see `outbox.rs`).
    #[cfg(feature = "persist")]
    pub fn restore(&self, entries: &JsValue, live_owners: &JsValue) {
        if let Some(shell) = self.shell.upgrade() {
            outbox::on_restore(&shell, entries, live_owners);
        }
    }

    /// The restored messages without a fate yet (`Connection.restoredPending()`), for
    /// the promise of `Connection.whenRestored()`.
    #[cfg(feature = "persist")]
    #[wasm_bindgen(js_name = restoredPending)]
    pub fn restored_pending(&self) -> js_sys::Array {
        let list = js_sys::Array::new();
        if let Some(shell) = self.shell.upgrade() {
            outbox::list_restored_pending(&shell, &list);
        }
        list
    }
}

pub struct Shell {
    pub core: Core,
    pub options: ShellOptions,
    /// The JS side of this connection (streams, AbortControllers, the host timer, the
    /// lifecycle listeners, the app's listener), and the live config
    /// (`connection.config`) in it.
    pub state: State,
    /// Messages without a fate yet, unordered (a few hundred at most: the queue is
    /// bounded), searched linearly: a map costs kilobytes of wasm.
    pub outgoing: Vec<Outgoing>,
    /// The `sessionId` of the last event with a seq that the JS half reported: it
    /// sends an id only when it changes.
    pub last_session: String,
    /// The one host timer, armed at the core's earliest deadline.
    timer: HostTimer,
    /// The AbortControllers of POSTs in flight that may time out.
    pub aborters: Aborters,
    /// The page lifecycle listeners, from the first `connect()` to `disconnect()`.
    pub page_listeners: Option<PageListeners>,
    /// The persisted outbox's JS half (`outbox.js`), or undefined without the `persist`
    /// option (always, in a build without the `persist` feature).
    pub outbox: JsValue,
}

impl Drop for Shell {
    fn drop(&mut self) {
        // Nothing may call the inbox from now on.
        js::retire(&self.state);
        #[cfg(feature = "persist")]
        if !self.outbox.is_undefined() {
            js::close_outbox(&self.outbox);
        }
        #[cfg(feature = "share-tabs")]
        tabs::close(&mut self.core);
    }
}

pub type Shared = Rc<ShellCell>;

/// The shell's `RefCell`. A borrow conflict (a bug: the re-entrancy rule above rules it
/// out) traps as the shipped build's panics do, but without `RefCell`'s `#[track_caller]`
/// location: one out-of-line borrow each instead of a location record per call site.
pub struct ShellCell(RefCell<Shell>);

impl ShellCell {
    pub fn new(shell: Shell) -> ShellCell {
        ShellCell(RefCell::new(shell))
    }

    #[inline(never)]
    pub fn borrow(&self) -> Ref<'_, Shell> {
        self.0.try_borrow().unwrap_or_else(|_| conflict())
    }

    #[inline(never)]
    pub fn borrow_mut(&self) -> RefMut<'_, Shell> {
        self.0.try_borrow_mut().unwrap_or_else(|_| conflict())
    }
}

#[cold]
fn conflict() -> ! {
    core::arch::wasm32::unreachable()
}

impl Shell {
    pub fn new(core: Core, options: ShellOptions, state: State, outbox: JsValue) -> Shell {
        Shell {
            core,
            options,
            state,
            outgoing: Vec::new(),
            last_session: String::new(),
            timer: HostTimer::default(),
            aborters: Aborters::default(),
            page_listeners: None,
            outbox,
        }
    }

    /// The JS state, to hand to the helper once the borrow is released.
    pub fn state(&self) -> State {
        // An imported type's `clone` is `JsValue`'s; the value is this same state.
        self.state.clone().unchecked_into()
    }
}

/// Carries out every pending action, then re-arms the host timer. The outbox's store
/// operations go first whenever there are any, so that a record is written before its
/// message is posted and removed before its report.
pub fn pump(shell: &Shared) {
    loop {
        #[cfg(feature = "persist")]
        {
            let store_action = shell.borrow_mut().core.poll_outbox_action();
            if let Some(action) = store_action {
                outbox::perform(shell, action);
                continue;
            }
        }
        let action = shell.borrow_mut().core.poll_action();
        match action {
            #[cfg(not(feature = "share-tabs"))]
            Some(action) => perform(shell, action),
            #[cfg(feature = "share-tabs")]
            Some(TabAction::Core(action)) => perform(shell, action),
            #[cfg(feature = "share-tabs")]
            Some(action) => tabs::perform(shell, action),
            None => break,
        }
    }
    arm_timer(shell);
}

fn perform(shell: &Shared, action: Action) {
    match action {
        Action::OpenStream(id) => open_stream(shell, id),
        Action::CloseStream(id) => {
            let state = shell.borrow().state();
            js::close_stream(&state, id.0 as i32);
        }
        Action::Post {
            id,
            endpoint,
            connection_id,
            body,
            keepalive,
        } => start_post(shell, id, endpoint, &connection_id, body, keepalive),
        Action::AbortPost(id) => post::abort(shell, id),
        Action::Beacon {
            connection_id,
            sessions,
        } => post::send_beacon(shell, &connection_id, &sessions),
        Action::Notify(notice) => {
            let state = shell.borrow().state();
            js::notify(&state, notice_code(notice));
        }
        Action::Report { msg, fate } => report::deliver(shell, msg, fate),
        Action::Warn(warning) => js::warn(&js::string(warning.message())),
    }
}

/// A notice as `helper.js` names it (`NOTICE_TYPES`).
pub fn notice_code(notice: Notice) -> i32 {
    match notice {
        Notice::Open => 0,
        Notice::Close => 1,
        Notice::Foreground => 2,
    }
}

fn open_stream(shell: &Shared, id: StreamId) {
    let state = shell.borrow().state();
    // On failure the helper has warned, quoting the error it caught.
    if js::open_stream(&state, id.0 as i32) == 0 {
        let now = js::now();
        shell.borrow_mut().core.on_stream_error(now, id, true);
    }
}

fn start_post(
    shell: &Shared,
    id: PostId,
    endpoint: Endpoint,
    connection_id: &str,
    body: Body,
    keepalive: bool,
) {
    let body = match body {
        Body::Message(msg) => {
            let s = shell.borrow();
            let outgoing = s.outgoing.iter().find(|o| o.id == msg);
            outgoing.map_or(JsValue::UNDEFINED, |o| o.body.clone())
        }
        Body::Reconnect(sessions) => post::sessions_body("reconnect", &sessions),
        Body::Suspend(sessions) => post::sessions_body("session_suspend", &sessions),
    };
    let request = PostRequest {
        id,
        path: endpoint.path(),
        connection_id,
        body,
        keepalive,
    };
    post::start(shell, request);
}

/// Keeps the one host timer armed at the core's earliest deadline (`setTimeout` is
/// looked up on `globalThis` when it is armed, so fake timers see it).
fn arm_timer(shell: &Shared) {
    let mut s = shell.borrow_mut();
    let deadline = s.core.poll_timeout();
    if s.timer.is_at(deadline) {
        return;
    }
    let weak = Rc::downgrade(shell);
    s.timer.arm(deadline, js::now(), move || {
        if let Some(shell) = weak.upgrade() {
            on_timer(&shell, js::now());
            pump(&shell);
        }
    });
}

/// The host timer fired: the core's deadline (or a later one) has come.
pub fn on_timer(shell: &Shared, now: u64) {
    let mut s = shell.borrow_mut();
    if let Some(deadline) = s.timer.fired() {
        s.core.on_timeout(now.max(deadline));
    }
}

/// Forgets the body of a message whose fate is known.
pub fn take_outgoing(shell: &Shared, msg: MsgId) -> Option<Outgoing> {
    let mut s = shell.borrow_mut();
    let index = s.outgoing.iter().position(|o| o.id == msg)?;
    Some(s.outgoing.swap_remove(index))
}
