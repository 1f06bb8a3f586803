//! The shell's state and its one loop: feed the core an input, then carry out every
//! action it hands back, then arm the one host timer at the core's next deadline.
//!
//! Re-entrancy rule: the `RefCell` is never borrowed across a call into JS that can run
//! the app's code (its listener, `onDelivery`, an injected `fetch` or
//! `createEventSource`, an EventSource's `close()`), since that code may call back into
//! `Connection` synchronously. Each action is popped under a short borrow and carried
//! out after it is released, so nested calls just pump the same action queue; a
//! stream is closed only once it is out of the shell's state and the borrow released.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Ref, RefCell, RefMut};

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::app;
use super::auth;
use super::config::ShellOptions;
use super::input::{ChainedEvent, Input, Inputs, PageEvent, ServerEvent};
use super::js;
use super::lifecycle::PageListeners;
#[cfg(feature = "persist")]
use super::outbox::{verdicts, Outbox};
use super::outgoing::{body_of, Outgoing};
use super::post::{self, Aborters, PostRequest, ReadBody};
use super::prompt::{self, PromptView};
use super::report;
#[cfg(feature = "persist")]
use super::store::ReadBack;
use super::stream::{self, Stream};
#[cfg(feature = "share-tabs")]
use super::tabs;
use super::timer::HostTimer;
#[cfg(feature = "share-tabs")]
use crate::core::TabAction;
use crate::core::{
    Action, Applied, Body, ChainVerdict, ControlFailure, Driver, Endpoint, EventKey, EventVerdict,
    Fate, MsgId, PostId, PromptNotice, StreamId,
};

/// What the shell drives (`crate::core::Driver`): the core's `Machine`, or in the
/// build with the `share-tabs` feature the tab around it (which acts as the machine
/// alone when it does not share).
#[cfg(not(feature = "share-tabs"))]
pub type Core = crate::core::Machine;
#[cfg(feature = "share-tabs")]
pub type Core = crate::core::Tab;

pub struct Shell {
    pub core: Core,
    pub options: ShellOptions,
    /// The connection's copy of the app's config (`connection.config`), read at each
    /// use like the existing client's: `fetch`, `createEventSource`, `onDelivery`,
    /// `baseUrl`, `suspendUrl`.
    pub config: JsValue,
    /// The app's listener (`onMessage`).
    pub listener: Option<Function>,
    /// The open streams (one, but while one is replaced).
    pub streams: Vec<Stream>,
    /// Whether the core reads the time of each server event (`event_time_needed`).
    pub timed_events: bool,
    /// Messages without a fate yet, unordered (a few hundred at most: the queue is
    /// bounded), searched linearly: a map costs kilobytes of wasm.
    pub outgoing: Vec<Outgoing>,
    /// The `sessionId` of the last event with a seq (copied into Rust only when it
    /// changes), and the hot path's memory of it, shared by every stream's handler.
    pub last_session: String,
    pub session_memory: JsValue,
    /// Chained events the core holds (`acknowledgeEvents`), until it says `Apply` or
    /// `Discard`.
    pub kept: Vec<(EventKey, JsValue)>,
    /// Where the platform objects report what they hear (`on_input`).
    pub inputs: Inputs,
    /// The one host timer, armed at the core's earliest deadline.
    timer: HostTimer,
    /// The AbortControllers of POSTs in flight that may time out.
    pub aborters: Aborters,
    /// The page lifecycle listeners, from the first `connect()` to `disconnect()`.
    pub page_listeners: Option<PageListeners>,
    /// The tabs' channel and lock, while this tab shares the stream.
    #[cfg(feature = "share-tabs")]
    pub sharing: Option<tabs::Sharing>,
    /// The persisted outbox, with the `persist` option.
    #[cfg(feature = "persist")]
    pub outbox: Option<Outbox>,
}

impl Drop for Shell {
    fn drop(&mut self) {
        #[cfg(feature = "persist")]
        if let Some(outbox) = &self.outbox {
            // The removals the core held back are written before the store closes.
            self.core
                .input(js::now(), crate::core::Machine::release_removals);
            while let Some(action) = self.core.poll_outbox_action() {
                verdicts::Step::of(action, &self.outgoing).perform(Some(outbox));
            }
            outbox.close();
        }
        #[cfg(feature = "share-tabs")]
        tabs::close(&mut self.core, self.sharing.take());
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
    pub fn new(core: Core, options: ShellOptions, config: JsValue, inputs: Inputs) -> Shell {
        let timed_events = core.machine().event_time_needed();
        let chained = core.machine().config().applied_events;
        let probes = core.machine().takes_probe_echoes();
        Shell {
            core,
            options,
            config,
            listener: None,
            streams: Vec::new(),
            timed_events,
            outgoing: Vec::new(),
            last_session: String::new(),
            session_memory: js::session_memory(
                &JsValue::from_bool(chained),
                &JsValue::from_bool(probes),
            ),
            kept: Vec::new(),
            inputs,
            timer: HostTimer::default(),
            aborters: Aborters::default(),
            page_listeners: None,
            #[cfg(feature = "share-tabs")]
            sharing: None,
            #[cfg(feature = "persist")]
            outbox: None,
        }
    }
}

/// Carries out every pending action, then re-arms the host timer. The outbox's store
/// operations go first whenever there are any, so that a record is written before its
/// message is posted and removed before its report (unless the core holds the removal
/// back: `PersistConfig::group_removals`).
pub fn pump(shell: &Shared) {
    loop {
        #[cfg(feature = "persist")]
        {
            let step = {
                let mut s = shell.borrow_mut();
                let s = &mut *s;
                let action = s.core.poll_outbox_action();
                action.map(|action| (verdicts::Step::of(action, &s.outgoing), s.outbox.clone()))
            };
            if let Some((step, outbox)) = step {
                step.perform(outbox.as_ref());
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
            Some(action) => {
                let sharing = shell.borrow().sharing.clone();
                if let Some(sharing) = sharing {
                    tabs::perform(&sharing, action);
                }
            }
            None => break,
        }
    }
    arm_timer(shell);
}

fn perform(shell: &Shared, action: Action) {
    match action {
        Action::OpenStream(id) => open_stream(shell, id),
        Action::CloseStream(id) => {
            let stream = {
                let mut s = shell.borrow_mut();
                let index = s.streams.iter().position(|stream| stream.id == id);
                index.map(|index| s.streams.swap_remove(index))
            };
            // Closed once the borrow is released: a mock source may call back.
            drop(stream);
        }
        Action::Post {
            id,
            endpoint,
            connection_id,
            body,
            keepalive,
        } => {
            let request = PostOf {
                id,
                endpoint,
                connection_id: Some(&connection_id),
                keepalive,
                read: ReadBody::Nothing,
            };
            start_post(shell, request, body);
        }
        Action::PostPrompt {
            id,
            msg,
            connection_id,
            read_receipt,
        } => {
            let request = PostOf {
                id,
                endpoint: Endpoint::Send,
                connection_id: connection_id.as_deref(),
                keepalive: false,
                read: if read_receipt {
                    ReadBody::Receipt
                } else {
                    ReadBody::Nothing
                },
            };
            start_post(shell, request, Body::Message(msg));
        }
        Action::PostProbe {
            id,
            connection_id,
            nonce,
        } => {
            let request = PostRequest {
                id,
                path: post::PROBE_PATH,
                connection_id: Some(&connection_id),
                body: post::probe_body(&nonce),
                keepalive: false,
                read: ReadBody::Nothing,
            };
            let times_out = shell.borrow().options.post_timeout;
            send_post(shell, request, times_out);
        }
        Action::AbortPost(id) => {
            let controller = shell.borrow_mut().aborters.take(id);
            if let Some(controller) = controller {
                controller.abort();
            }
        }
        Action::Beacon {
            connection_id,
            sessions,
        } => {
            let config = shell.borrow().config.clone();
            post::send_beacon(&config, &connection_id, &sessions);
        }
        Action::Notify(notice) => {
            let listener = shell.borrow().listener.clone();
            app::dispatch(listener, &app::notice(notice));
        }
        Action::Report { msg, fate } => {
            let Some(outgoing) = take_outgoing(shell, msg) else {
                return;
            };
            let config = shell.borrow().config.clone();
            let (message, id) = (&outgoing.message, &outgoing.client_msg_id);
            let receipt = outgoing.receipt.as_ref();
            report::tell_app(
                &config,
                fate.into(),
                outgoing.endpoint,
                message,
                id,
                receipt,
            );
        }
        Action::Warn(warning) => js::warn(&js::string(warning.message())),
        Action::Receipt { msg, receipt } => {
            let mut s = shell.borrow_mut();
            if let Some(outgoing) = s.outgoing.iter_mut().find(|o| o.id == msg) {
                outgoing.receipt = Some(receipt);
            }
        }
        Action::AdoptSession { msgs, session_id } => {
            let mut s = shell.borrow_mut();
            for outgoing in s.outgoing.iter_mut().filter(|o| msgs.contains(&o.id)) {
                if let Some(body) = prompt::with_session(&outgoing.body, &session_id) {
                    outgoing.body = body;
                    outgoing.session_id = Some(session_id.clone());
                }
            }
        }
        Action::Prompt { msg, notice } => tell_prompt(shell, msg, &notice),
        Action::ControlFailed { msg, event, fate } => tell_control_failed(shell, msg, event, fate),
        Action::Apply(key) => {
            let kept = take_kept(shell, key);
            if let Some(message) = kept {
                apply(shell, key, &message);
            }
        }
        Action::Discard(key) => drop(take_kept(shell, key)),
        Action::PostApplied {
            id,
            connection_id,
            session_id,
            seq,
        } => {
            let request = PostRequest {
                id,
                path: "session-event-applied",
                connection_id: connection_id.as_deref(),
                body: post::applied_body(&session_id, seq),
                keepalive: false,
                read: ReadBody::Nothing,
            };
            // Always abortable: the core gives up on an acknowledgement after 10 s
            // whatever `postTimeoutMs` says.
            send_post(shell, request, true);
        }
        Action::PostSnapshotApplied {
            id,
            connection_id,
            session_id,
            cursor,
            offer_id,
        } => {
            let request = PostRequest {
                id,
                path: "reconnect-snapshot-applied",
                connection_id: Some(&connection_id),
                body: post::snapshot_applied_body(&session_id, cursor, offer_id.as_deref()),
                keepalive: false,
                read: ReadBody::Applied,
            };
            let times_out = shell.borrow().options.post_timeout;
            send_post(shell, request, times_out);
        }
        Action::CheckAuth(check) => {
            let (config, inputs) = {
                let s = shell.borrow();
                (s.config.clone(), s.inputs.clone())
            };
            auth::check(&config, check, &inputs);
        }
    }
}

/// Hands the listener a chained event and tells the core what it answered (the
/// listener may call the connection back: no borrow is held across the call).
fn apply(shell: &Shared, key: EventKey, message: &JsValue) {
    let listener = shell.borrow().listener.clone();
    let answer = listener.map_or(0, |listener| js::apply_app(&listener, message));
    let applied = match answer {
        1 => Applied::Yes,
        -1 => Applied::Refused,
        _ => Applied::NotYet,
    };
    let now = js::now();
    let mut s = shell.borrow_mut();
    s.core
        .input(now, |machine| machine.on_applied(now, key, applied));
}

/// Takes the chained event kept under `key`.
fn take_kept(shell: &Shared, key: EventKey) -> Option<JsValue> {
    let mut s = shell.borrow_mut();
    let index = s.kept.iter().position(|(k, _)| *k == key)?;
    Some(s.kept.swap_remove(index).1)
}

/// Hands the listener a prompt's notice (`notices`).
fn tell_prompt(shell: &Shared, msg: MsgId, notice: &PromptNotice) {
    let (listener, event) = {
        let s = shell.borrow();
        let Some(outgoing) = s.outgoing.iter().find(|o| o.id == msg) else {
            return;
        };
        let client_msg_id = outgoing.client_msg_id.as_string().unwrap_or_default();
        let view = PromptView {
            client_msg_id: &client_msg_id,
            session_id: outgoing.session_id.as_deref(),
            message: &outgoing.message,
        };
        (s.listener.clone(), prompt::notice_event(notice, &view))
    };
    match event {
        Ok(event) => app::dispatch(listener, &event),
        Err(error) => js::warn(&error),
    }
}

/// Hands the listener the error event of a control message whose POST failed
/// (`notices`).
fn tell_control_failed(shell: &Shared, msg: MsgId, event: ControlFailure, fate: Fate) {
    let (listener, message) = {
        let s = shell.borrow();
        let Some(outgoing) = s.outgoing.iter().find(|o| o.id == msg) else {
            return;
        };
        (s.listener.clone(), outgoing.message.clone())
    };
    app::dispatch(
        listener,
        &prompt::control_failure_event(event, fate, &message),
    );
}

fn open_stream(shell: &Shared, id: StreamId) {
    let (config, max_event_length, memory, inputs) = {
        let s = shell.borrow();
        let max = s.options.max_event_bytes;
        (
            s.config.clone(),
            max,
            s.session_memory.clone(),
            s.inputs.clone(),
        )
    };
    match stream::open(&config, max_event_length, &memory, id, &inputs) {
        Some(stream) => shell.borrow_mut().streams.push(stream),
        // It warned, quoting the error it caught.
        None => {
            let now = js::now();
            shell.borrow_mut().core.on_stream_error(now, id, true);
        }
    }
}

/// A POST the core asked for, but its body.
struct PostOf<'a> {
    id: PostId,
    endpoint: Endpoint,
    connection_id: Option<&'a str>,
    keepalive: bool,
    read: ReadBody,
}

fn start_post(shell: &Shared, post: PostOf, body: Body) {
    let PostOf {
        id,
        endpoint,
        connection_id,
        keepalive,
        read,
    } = post;
    let (body, times_out) = {
        let s = shell.borrow();
        // With acknowledged application each `lastSeq` is an applied cursor, and the
        // reconnect POST says so.
        let applied_cursor = s.core.machine().config().applied_events;
        let body = match body {
            Body::Message(msg) => body_of(&s.outgoing, msg),
            Body::Reconnect(sessions) => {
                post::sessions_body("reconnect", &sessions, applied_cursor)
            }
            Body::Suspend(sessions) => post::sessions_body("session_suspend", &sessions, false),
        };
        (body, s.options.post_timeout)
    };
    let request = PostRequest {
        id,
        path: endpoint.path(),
        connection_id,
        body,
        keepalive,
        read,
    };
    send_post(shell, request, times_out);
}

/// Makes the POST, its AbortController kept when it may time out.
fn send_post(shell: &Shared, request: PostRequest, times_out: bool) {
    let id = request.id;
    let (config, inputs) = {
        let s = shell.borrow();
        (s.config.clone(), s.inputs.clone())
    };
    let mut prepared = post::prepare(&request, times_out);
    // Kept before the app's fetch runs: it may disconnect, aborting this POST.
    if let Some(controller) = prepared.aborter.take() {
        shell.borrow_mut().aborters.keep(id, controller);
    }
    post::send(&config, &request, prepared, &inputs);
}

/// Keeps the one host timer armed at the core's earliest deadline (`setTimeout` is
/// looked up on `globalThis` when it is armed, so fake timers see it).
fn arm_timer(shell: &Shared) {
    let mut s = shell.borrow_mut();
    let deadline = s.core.poll_timeout();
    if s.timer.is_at(deadline) {
        return;
    }
    let inputs = s.inputs.clone();
    s.timer.arm(deadline, js::now(), move || {
        let _ = inputs.send(Input::Timer);
    });
}

/// One input from the platform: fed to the core, then every action it caused carried
/// out; for a server event the core lets through, the listener to hand it to after
/// those (the caller calls it: the hot path does so in JS).
pub fn on_input(shell: &Shared, input: Input) -> Option<Function> {
    // The tabs' inputs go through the tab, which pumps and dispatches itself.
    #[cfg(feature = "share-tabs")]
    let input = match input {
        Input::Channel(message) => {
            on_channel(shell, message);
            return None;
        }
        Input::Lock(event) => {
            on_lock(shell, event);
            return None;
        }
        input => input,
    };
    #[cfg(feature = "persist")]
    let input = match input {
        Input::Restored(read) => {
            on_restored(shell, read);
            return None;
        }
        input => input,
    };
    let input = match input {
        Input::Chained { stream, event } => {
            on_chained_event(shell, stream, event);
            return None;
        }
        Input::SnapshotOffer { stream, message } => {
            on_snapshot_offer(shell, stream, &message);
            return None;
        }
        input => input,
    };
    #[cfg(feature = "share-tabs")]
    let event = matches!(input, Input::Event { .. });
    let dispatch = match input {
        Input::Event {
            stream,
            event: Some(event),
        } => on_server_event(shell, stream, event),
        input => {
            let now = js::now();
            let mut s = shell.borrow_mut();
            match input {
                Input::Welcome {
                    stream,
                    connection_id: Some(connection_id),
                } => s.core.on_welcome(now, stream, &connection_id),
                Input::Welcome { stream, .. } | Input::Event { stream, .. } => {
                    s.core.input(now, |m| m.on_malformed_event(now, stream))
                }
                Input::ProbeEcho { stream, nonce } => {
                    let nonce = nonce.unwrap_or_default();
                    s.core.input(now, |m| m.on_probe_echo(now, stream, &nonce));
                }
                Input::StreamError { stream, closed } => {
                    s.core.on_stream_error(now, stream, closed)
                }
                Input::PostAnswer { post, outcome } => {
                    s.aborters.take(post);
                    s.core.on_post_answer(now, post, outcome);
                }
                Input::PostReceipt { post, body } => {
                    s.aborters.take(post);
                    s.core.input(now, |m| m.on_post_receipt(now, post, body));
                }
                Input::SnapshotAnswer { post, applied } => {
                    s.aborters.take(post);
                    s.core
                        .input(now, |m| m.on_snapshot_answer(now, post, applied));
                }
                // Taken above.
                Input::Chained { .. } | Input::SnapshotOffer { .. } => {}
                Input::AuthExpired { stream } => {
                    s.core.input(now, |m| m.on_auth_expired(now, stream))
                }
                Input::AuthCheck { check, outcome } => {
                    s.core.input(now, |m| m.on_auth_check(now, check, outcome))
                }
                Input::Page(event) => on_page(&mut s.core, now, event),
                Input::Timer => {
                    if let Some(deadline) = s.timer.fired() {
                        s.core.on_timeout(now.max(deadline));
                    }
                }
                // Taken above.
                #[cfg(feature = "share-tabs")]
                Input::Channel(_) | Input::Lock(_) => {}
                #[cfg(feature = "persist")]
                Input::Restored(_) => {}
            }
            None
        }
    };
    pump(shell);
    // A leader relayed the event while the pump carried out what it caused.
    #[cfg(feature = "share-tabs")]
    if event {
        tabs::hold_event(&mut shell.borrow_mut().sharing, JsValue::UNDEFINED);
    }
    dispatch.and_then(|()| shell.borrow().listener.clone())
}

/// A read of the persisted outbox's store: the core judges it, the messages it takes
/// join the outgoing ones, the claims and removals it asks for are written (outbox
/// actions go first), then the expired messages are reported: a report follows its
/// record's removal.
#[cfg(feature = "persist")]
fn on_restored(shell: &Shared, read: ReadBack) {
    let (after, outbox) = {
        let mut s = shell.borrow_mut();
        let s = &mut *s;
        let verdicts = s.core.restore(js::now(), &read.entries, &read.live_owners);
        let after = verdicts::take(read, &verdicts, &mut s.outgoing);
        (after, s.outbox.clone())
    };
    if let Some(outbox) = outbox {
        outbox.legacy_settled(after.legacy_settled);
    }
    pump(shell);
    let config = shell.borrow().config.clone();
    for gone in after.expired {
        let (message, key) = (&gone.message, &gone.key);
        report::tell_app(
            &config,
            report::Outcome::EXPIRED,
            gone.endpoint,
            message,
            key,
            None,
        );
    }
}

/// A parsed server event: the core hears its `(sessionId, seq)` when it carries both;
/// `Some` when the listener should get it.
fn on_server_event(shell: &Shared, stream: StreamId, event: ServerEvent) -> Option<()> {
    let ServerEvent {
        seq, new_session, ..
    } = event;
    let mut s = shell.borrow_mut();
    let s = &mut *s;
    // `Date.now()` per event is not free: read only when the core uses event times.
    let now = if s.timed_events { js::now() } else { 0 };
    if let Some(session) = new_session {
        s.last_session = session;
    }
    // A leader relays the event to the other tabs as it carries out the actions the
    // event causes: it holds the event's data until then.
    #[cfg(feature = "share-tabs")]
    tabs::hold_event(&mut s.sharing, event.message);
    let session = seq.map(|_| s.last_session.as_str());
    let verdict = s.core.on_event(now, stream, session, seq);
    (verdict == EventVerdict::Dispatch).then_some(())
}

/// A chained event (`acknowledgeEvents`): the core says whether to hand it to the
/// listener now (whose answer it then hears), keep it for later, or drop it.
fn on_chained_event(shell: &Shared, stream: StreamId, event: ChainedEvent) {
    let ChainedEvent {
        message,
        seq,
        prev,
        new_session,
        length,
    } = event;
    let verdict = {
        let mut s = shell.borrow_mut();
        let s = &mut *s;
        if let Some(session) = new_session {
            s.last_session = session;
        }
        let now = js::now();
        let session = &s.last_session;
        let verdict = s.core.input(now, |machine| {
            machine.on_chained_event(now, stream, session, seq, prev, length)
        });
        if let ChainVerdict::Hold(key) = verdict {
            s.kept.push((key, message.clone()));
        }
        verdict
    };
    // A verdict to apply the event comes with no action: one pump, after the listener.
    if let ChainVerdict::Apply(key) = verdict {
        apply(shell, key, &message);
    }
    pump(shell);
}

/// A `session_reconnect_snapshot` offer `{ sessionId, cursor, offerId? }`: the core
/// holds the session's events until the app acknowledges it; the listener hears of it.
/// An offer without a `sessionId` string and a whole `cursor` is malformed.
fn on_snapshot_offer(shell: &Shared, stream: StreamId, message: &JsValue) {
    let now = js::now();
    let session = js::get(message, "sessionId").as_string();
    let cursor = js::as_count(&js::get(message, "cursor"));
    let offer_id = js::get(message, "offerId").as_string();
    let current = {
        let mut s = shell.borrow_mut();
        match (session, cursor) {
            (Some(session), Some(cursor)) => s.core.input(now, |machine| {
                machine.on_snapshot_offer(now, stream, &session, cursor, offer_id.as_deref())
            }),
            _ => {
                s.core
                    .input(now, |machine| machine.on_malformed_event(now, stream));
                false
            }
        }
    };
    pump(shell);
    if current {
        let listener = shell.borrow().listener.clone();
        app::dispatch(listener, message);
    }
}

fn on_page(core: &mut Core, now: u64, event: PageEvent) {
    core.input(now, |machine| match event {
        PageEvent::Visible => machine.on_visibility(now, true),
        PageEvent::Hidden => machine.on_visibility(now, false),
        PageEvent::PageHide => machine.on_page_hide(now),
        PageEvent::PageShow {
            from_back_forward_cache,
        } => machine.on_page_show(now, from_back_forward_cache),
        PageEvent::Online => machine.on_online(now),
    })
}

/// A message from another tab: fed to the tab, then, for a relayed event this tab's
/// machine lets through, its data to the listener, after the actions it caused (as
/// for an event of the tab's own stream).
#[cfg(feature = "share-tabs")]
fn on_channel(shell: &Shared, message: JsValue) {
    let Some(wire) = tabs::read_message(&message) else {
        return;
    };
    let verdict = shell.borrow_mut().core.on_channel(js::now(), &wire);
    pump(shell);
    if verdict == EventVerdict::Dispatch {
        let listener = shell.borrow().listener.clone();
        app::dispatch(listener, &js::get(&message, "data"));
    }
}

/// The lock was granted, taken away, or refused; a tab refused it goes on alone.
#[cfg(feature = "share-tabs")]
fn on_lock(shell: &Shared, event: super::input::LockEvent) {
    tabs::on_lock(&mut shell.borrow_mut().core, js::now(), event);
    pump(shell);
    let left = {
        let s = &mut *shell.borrow_mut();
        tabs::leave_if_alone(&s.core, &mut s.sharing)
    };
    if left {
        js::warn(&js::string(tabs::LEFT_SHARING));
    }
}

/// Forgets the body of a message whose fate is known.
pub fn take_outgoing(shell: &Shared, msg: MsgId) -> Option<Outgoing> {
    let mut s = shell.borrow_mut();
    let index = s.outgoing.iter().position(|o| o.id == msg)?;
    Some(s.outgoing.swap_remove(index))
}
