//! The shell's state and its one loop: feed the core an input, then carry out every
//! action it hands back, then arm the one host timer at the core's next deadline.
//!
//! Re-entrancy rule: the `RefCell` is never borrowed across a call into JS. The app's
//! listener, an injected `fetch` or `createEventSource` may call back into
//! `Connection` synchronously; each action is popped under a short borrow and carried
//! out after it is released, so nested calls just pump the same action queue.

use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Ref, RefCell, RefMut};

use js_sys::{Function, Object};
use wasm_bindgen::JsValue;

use super::callbacks::Timeout;
use super::config::ShellOptions;
use super::js;
use super::lifecycle::Lifecycle;
use super::post;
use super::report;
use super::stream::Stream;
use crate::core::{Action, Body, Endpoint, Machine, MsgId, Notice, PostId, SessionSeq, StreamId};

/// A message the app sent that has no fate yet: the object (handed back in its
/// delivery report) and its JSON body (kept as a JS string, never copied into Rust).
pub struct Outgoing {
    pub id: MsgId,
    pub message: JsValue,
    pub body: JsValue,
    pub endpoint: Endpoint,
}

pub struct Shell {
    pub core: Machine,
    pub options: ShellOptions,
    /// The live config object (`connection.config`): `fetch`, `createEventSource` and
    /// `onDelivery` are read from it at each use, as the existing client does.
    pub config: Object,
    pub listener: Option<Function>,
    /// Messages without a fate yet, unordered (a few hundred at most: the queue is
    /// bounded), searched linearly: a map costs kilobytes of wasm.
    pub outgoing: Vec<Outgoing>,
    pub lifecycle: Option<Lifecycle>,
    /// The `sessionId` of the last event with a seq, as its JS string and its Rust copy:
    /// events come in runs of one session, so the id is copied into Rust once a run.
    pub last_session: (JsValue, String),
    streams: Vec<(StreamId, Stream)>,
    timer: Option<(u64, Timeout)>,
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
    pub fn new(core: Machine, options: ShellOptions, config: Object) -> Shell {
        Shell {
            core,
            options,
            config,
            listener: None,
            outgoing: Vec::new(),
            lifecycle: None,
            last_session: (JsValue::UNDEFINED, String::new()),
            streams: Vec::new(),
            timer: None,
        }
    }
}

/// Carries out every pending action, then re-arms the host timer.
pub fn pump(shell: &Shared) {
    loop {
        let action = shell.borrow_mut().core.poll_action();
        match action {
            Some(action) => perform(shell, action),
            None => break,
        }
    }
    arm_timer(shell);
}

fn perform(shell: &Shared, action: Action) {
    match action {
        Action::OpenStream(id) => open_stream(shell, id),
        Action::CloseStream(id) => {
            let closed = {
                let mut s = shell.borrow_mut();
                let index = s.streams.iter().position(|(sid, _)| *sid == id);
                index.map(|i| s.streams.swap_remove(i))
            };
            drop(closed);
        }
        Action::Post {
            id,
            endpoint,
            connection_id,
            body,
        } => start_post(shell, id, endpoint, &connection_id, body),
        Action::AbortPost(id) => {
            let config = shell.borrow().config.clone();
            js::abort(&config, f64::from(id.0));
        }
        Action::Beacon {
            connection_id,
            sessions,
        } => send_beacon(shell, &connection_id, &sessions),
        Action::Notify(notice) => {
            let kind = match notice {
                Notice::Open => 0,
                Notice::Close => 1,
                Notice::Foreground => 2,
            };
            dispatch(shell, &js::notice(kind));
        }
        Action::Report { msg, fate } => report::deliver(shell, msg, fate),
        Action::Warn(warning) => js::warn(warning.message()),
    }
}

/// Hands an object to the app's listener, if any; a throwing listener is reported and
/// does not disturb delivery.
pub fn dispatch(shell: &Shared, message: &JsValue) {
    let listener = shell.borrow().listener.clone();
    if let Some(listener) = listener {
        js::call_app(&listener, message);
    }
}

fn open_stream(shell: &Shared, id: StreamId) {
    let config = shell.borrow().config.clone();
    let weak = Rc::downgrade(shell);
    let opened = Stream::open(&config, move |signal| {
        if let Some(shell) = weak.upgrade() {
            super::inputs::on_stream_signal(&shell, id, signal);
        }
    });
    match opened {
        Ok(stream) => shell.borrow_mut().streams.push((id, stream)),
        Err(_) => {
            js::warn("could not open an EventSource (pass config.createEventSource)");
            let now = js::now();
            shell.borrow_mut().core.on_stream_error(now, id, true);
        }
    }
}

fn start_post(shell: &Shared, id: PostId, endpoint: Endpoint, connection_id: &str, body: Body) {
    let (body, config, key) = {
        let s = shell.borrow();
        let body = match body {
            Body::Message(msg) => s
                .outgoing
                .iter()
                .find(|o| o.id == msg)
                .map(|o| o.body.clone())
                .unwrap_or(JsValue::UNDEFINED),
            Body::Reconnect(sessions) => sessions_json("reconnect", &sessions),
            Body::Suspend(sessions) => sessions_json("session_suspend", &sessions),
        };
        // The POST's id keys its AbortController, made only with a POST timeout.
        let key = if s.options.post_timeout {
            f64::from(id.0)
        } else {
            -1.0
        };
        (body, s.config.clone(), key)
    };
    let answer = js::post(&config, endpoint.path(), connection_id, &body, key);
    let weak = Rc::downgrade(shell);
    post::when_settled(&answer, &config, key, move |outcome| {
        if let Some(shell) = weak.upgrade() {
            let now = js::now();
            shell.borrow_mut().core.on_post_answer(now, id, outcome);
            pump(&shell);
        }
    });
}

fn send_beacon(shell: &Shared, connection_id: &str, sessions: &[SessionSeq]) {
    let config = shell.borrow().config.clone();
    push_sessions(sessions);
    js::beacon(&config, connection_id);
}

/// `{"type": kind, "sessions": [{"sessionId", "lastSeq"}]}`, keys in the existing
/// client's order, since its tests compare the body string.
fn sessions_json(kind: &str, sessions: &[SessionSeq]) -> JsValue {
    push_sessions(sessions);
    js::sessions_json(kind)
}

fn push_sessions(sessions: &[SessionSeq]) {
    for s in sessions {
        js::push_session(&s.session_id, s.last_seq as f64);
    }
}

/// Keeps exactly one host timer, armed at the core's earliest deadline. The
/// `setTimeout` is looked up on `globalThis` when armed, so fake timers see it.
fn arm_timer(shell: &Shared) {
    let (deadline, stale) = {
        let s = shell.borrow();
        let deadline = s.core.poll_timeout();
        let armed = s.timer.as_ref().map(|(at, _)| *at);
        (deadline, armed != deadline)
    };
    if !stale {
        return;
    }
    let previous = shell.borrow_mut().timer.take();
    drop(previous);
    if let Some(deadline) = deadline {
        let delay = deadline.saturating_sub(js::now()).min(i32::MAX as u64) as u32;
        let weak: Weak<ShellCell> = Rc::downgrade(shell);
        let timeout = Timeout::new(delay, move |_| {
            if let Some(shell) = weak.upgrade() {
                let fired = shell.borrow_mut().timer.take();
                let now = js::now().max(deadline);
                shell.borrow_mut().core.on_timeout(now);
                pump(&shell);
                drop(fired);
            }
        });
        shell.borrow_mut().timer = Some((deadline, timeout));
    }
}

/// Forgets the body of a message whose fate is known.
pub fn take_outgoing(shell: &Shared, msg: MsgId) -> Option<Outgoing> {
    let mut s = shell.borrow_mut();
    let index = s.outgoing.iter().position(|o| o.id == msg)?;
    Some(s.outgoing.swap_remove(index))
}
