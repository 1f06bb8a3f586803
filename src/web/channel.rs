//! The platform objects of one stream for all tabs (the `shareAcrossTabs` option): the
//! `BroadcastChannel` the tabs talk on and the Web Lock that says which tab leads. What
//! the tabs say and who leads are decided elsewhere (`crate::core::Tab`, `tabs.rs`);
//! this module carries it out and reports what it hears as `Input`s.
//!
//! The channel and the lock are reached by property and called as functions: the app's
//! tests hand in fakes, and Web Locks are not among web-sys's stable bindings
//! (`locks.rs`, shared with the persisted outbox).
//!
//! What goes on the channel is a batch: the array of the messages one task posted, in
//! order, posted from a task of its own when the task ends (a message to a
//! `MessageChannel` port: a microtask would run after every event's listener, and a
//! hidden page's timers are throttled to one a second). A leader relays every event of
//! its stream, and one `postMessage` per event cost it 10-20 µs each (BENCHMARKS.md).

use alloc::rc::{Rc, Weak};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::AbortController;

use super::input::{Input, Inputs, LockEvent};
use super::js;
use super::locks;

/// The wire format's version, in the channel's and the lock's name: tabs of builds that
/// would not understand each other never meet (each then leads its own stream).
/// 2: batches; 3: messages as named, tagged objects.
const NAME_PREFIX: &str = "sse-courier/tabs/3 ";

/// The channel and the lock of one connection (a handle: clones share them).
#[derive(Clone)]
pub struct TabsLink(Rc<Link>);

/// A handler of a port's or a channel's `message` events.
type MessageHandler = Closure<dyn FnMut(JsValue)>;

struct Link {
    channel: JsValue,
    locks: JsValue,
    name: JsValue,
    /// Where what this tab hears goes; none once the connection is closed.
    inputs: RefCell<Option<Inputs>>,
    /// Messages posted in this task, and the port whose message ends it.
    batch: RefCell<Vec<JsValue>>,
    flusher: RefCell<Option<Flusher>>,
    lock: RefCell<Option<Rc<LockRequest>>>,
    on_message: RefCell<Option<MessageHandler>>,
}

/// A `MessageChannel` whose message, posted to `port`, flushes the batch.
struct Flusher {
    port: JsValue,
    receiver: JsValue,
    _on_message: MessageHandler,
}

/// One request for the lock: granted or not yet, and how to give it back.
struct LockRequest {
    controller: Option<AbortController>,
    release: RefCell<Option<Function>>,
    granted: Cell<bool>,
}

impl TabsLink {
    /// The channel and the lock named after `share` (a string) or else `base_url`,
    /// what is heard reported to `inputs`; `None` when this page has no Web Locks or
    /// no BroadcastChannel.
    pub fn open(share: &JsValue, base_url: &JsValue, inputs: &Inputs) -> Option<TabsLink> {
        let locks = locks::manager()?;
        let suffix = share.as_string().or_else(|| base_url.as_string());
        let name = JsValue::from([NAME_PREFIX, &suffix.unwrap_or_default()].concat());
        let channel = js::construct("BroadcastChannel", &name)?;
        let link = Rc::new(Link {
            channel,
            locks,
            name,
            inputs: RefCell::new(Some(inputs.clone())),
            batch: RefCell::new(Vec::new()),
            flusher: RefCell::new(None),
            lock: RefCell::new(None),
            on_message: RefCell::new(None),
        });
        let weak = Rc::downgrade(&link);
        let on_message = MessageHandler::new(move |event: JsValue| {
            if let Some(link) = weak.upgrade() {
                link.receive(&js::get(&event, "data"));
            }
        });
        let _ = Reflect::set(&link.channel, &"onmessage".into(), on_message.as_ref());
        *link.on_message.borrow_mut() = Some(on_message);
        Some(TabsLink(link))
    }

    /// Posts one message to the other tabs (never to this one), in this task's batch.
    pub fn post(&self, message: JsValue) {
        let first = {
            let mut batch = self.0.batch.borrow_mut();
            batch.push(message);
            batch.len() == 1
        };
        if first {
            flush_when_task_ends(&self.0);
        }
    }

    /// Queues for the lock (`steal`: takes it from whichever tab holds it), abandoning
    /// a request still queued first. Once granted, the lock is held until
    /// `release_lock`; if the browser takes it away (a steal), `Input::Lock(Lost)`; if
    /// it refuses the request (a SecurityError in an opaque origin, say), `Refused`.
    pub fn request_lock(&self, steal: bool) {
        self.release_lock();
        let link = &self.0;
        let options = Object::new();
        // `steal` may not be combined with a signal; a steal is never queued anyway.
        let controller = if steal {
            let _ = Reflect::set(&options, &"steal".into(), &JsValue::TRUE);
            None
        } else {
            let controller = AbortController::new().ok();
            if let Some(controller) = &controller {
                let _ = Reflect::set(&options, &"signal".into(), &controller.signal());
            }
            controller
        };
        let request = Rc::new(LockRequest {
            controller,
            release: RefCell::new(None),
            granted: Cell::new(false),
        });
        *link.lock.borrow_mut() = Some(request.clone());
        let (weak, granted) = (Rc::downgrade(link), Rc::downgrade(&request));
        // Called once, when the lock is granted; freed then (a request never granted
        // keeps it: a few bytes per change of leader).
        let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
            let (Some(link), Some(request)) = (weak.upgrade(), granted.upgrade()) else {
                return JsValue::UNDEFINED;
            };
            // Abandoned meanwhile (a fake without signals): give it back at once.
            if !link.is_current(&request) {
                return JsValue::UNDEFINED;
            }
            request.granted.set(true);
            let (held, release) = js::deferred();
            *request.release.borrow_mut() = Some(release);
            link.tell(Input::Lock(LockEvent::Granted));
            held.into()
        });
        let answer = locks::request(&link.locks, &link.name, &options, &callback);
        let weak = Rc::downgrade(link);
        spawn_local(async move {
            if JsFuture::from(answer).await.is_ok() {
                return;
            }
            // Rejected while held: stolen. Rejected while queued: refused, unless
            // abandoned by this tab (`release_lock` forgot the request first).
            let Some(link) = weak.upgrade() else {
                return;
            };
            if link.is_current(&request) {
                *link.lock.borrow_mut() = None;
                let event = if request.granted.get() {
                    LockEvent::Lost
                } else {
                    LockEvent::Refused
                };
                link.tell(Input::Lock(event));
            }
        });
    }

    /// Releases the lock, or abandons the queued request.
    pub fn release_lock(&self) {
        let request = self.0.lock.borrow_mut().take();
        let Some(request) = request else {
            return;
        };
        let release = request.release.borrow_mut().take();
        if let Some(release) = release {
            let _ = release.call0(&JsValue::UNDEFINED);
        } else if let Some(controller) = &request.controller {
            controller.abort();
        }
    }

    /// The connection is gone: posts what it still had to say (a `Bye`), releases the
    /// lock, closes the channel and the flusher's ports; nothing is heard any more.
    pub fn close(&self) {
        let link = &self.0;
        *link.inputs.borrow_mut() = None;
        link.flush();
        self.release_lock();
        js::call_method(&link.channel, "close");
        if let Some(flusher) = link.flusher.borrow_mut().take() {
            js::call_method(&flusher.port, "close");
            js::call_method(&flusher.receiver, "close");
        }
        let _ = Reflect::set(&link.channel, &"onmessage".into(), &JsValue::NULL);
    }
}

impl Link {
    fn is_current(&self, request: &Rc<LockRequest>) -> bool {
        matches!(&*self.lock.borrow(), Some(current) if Rc::ptr_eq(current, request))
    }

    fn tell(&self, input: Input) {
        let inputs = self.inputs.borrow().clone();
        if let Some(inputs) = inputs {
            let _ = inputs.send(input);
        }
    }

    /// A batch from another tab: each message, in order (nothing once closed).
    fn receive(&self, batch: &JsValue) {
        if !Array::is_array(batch) {
            return;
        }
        for message in Array::from(batch).iter() {
            self.tell(Input::Channel(message));
        }
    }

    /// Posts the batch, if any.
    fn flush(&self) {
        let batch: Vec<JsValue> = core::mem::take(&mut *self.batch.borrow_mut());
        if batch.is_empty() {
            return;
        }
        let batch: Array = batch.into_iter().collect();
        let _ = js::get(&self.channel, "postMessage")
            .unchecked_into::<Function>()
            .call1(&self.channel, &batch);
    }
}

/// Posts the batch from a task of its own: a message to a `MessageChannel` port. Without
/// `MessageChannel`, at once.
fn flush_when_task_ends(link: &Rc<Link>) {
    if link.flusher.borrow().is_none() {
        *link.flusher.borrow_mut() = new_flusher(link);
    }
    let posted = match &*link.flusher.borrow() {
        Some(flusher) => js::get(&flusher.port, "postMessage")
            .unchecked_into::<Function>()
            .call1(&flusher.port, &JsValue::from(0))
            .is_ok(),
        None => false,
    };
    if !posted {
        link.flush();
    }
}

fn new_flusher(link: &Rc<Link>) -> Option<Flusher> {
    let channel = js::construct("MessageChannel", &JsValue::UNDEFINED)?;
    let (receiver, port) = (js::get(&channel, "port1"), js::get(&channel, "port2"));
    let weak: Weak<Link> = Rc::downgrade(link);
    let on_message = MessageHandler::new(move |_| {
        if let Some(link) = weak.upgrade() {
            link.flush();
        }
    });
    let _ = Reflect::set(&receiver, &"onmessage".into(), on_message.as_ref());
    // Node: the ports must not keep the process alive.
    for end in [&receiver, &port] {
        js::call_method(end, "unref");
    }
    Some(Flusher {
        port,
        receiver,
        _on_message: on_message,
    })
}
