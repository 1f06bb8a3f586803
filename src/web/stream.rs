//! The event streams. Each is an `EventSource` (the app's `createEventSource(url)` when
//! it gives one, read at each open, else `new EventSource(url)`) whose events are parsed
//! here and fed to the core; the server events the core lets through go on to the
//! app's listener. The handlers are owned by the `Stream`: dropping it closes the
//! source and detaches them, so a closed stream calls nothing back.
//!
//! What the app injects may be a plain object in its tests (the existing client's mock
//! `EventSource`): it is read and called by property, never assumed to be the
//! platform class.

use alloc::rc::Rc;

use gloo_events::{EventListener, EventListenerOptions};
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use super::app;
use super::js;
use super::shell::{pump, Shared};
use crate::core::{EventVerdict, StreamId};

/// `EventSource.CLOSED`: the browser gave up on the stream.
const CLOSED: f64 = 2.0;

/// One open stream: its source and the handlers on it.
pub struct Stream {
    pub id: StreamId,
    source: JsValue,
    _welcome: EventListener,
    _onmessage: PropertyHandler,
    _onerror: PropertyHandler,
}

impl Drop for Stream {
    /// Closes the source; its handlers are detached next, as the fields drop.
    fn drop(&mut self) {
        if let Ok(close) = js::get(&self.source, "close").dyn_into::<Function>() {
            let _ = close.call0(&self.source);
        }
    }
}

/// A closure set as `target[name]` (`onmessage`, `onerror`: properties, so that the
/// app's mock sources work), set back to null when dropped.
struct PropertyHandler {
    target: JsValue,
    name: &'static str,
    _closure: Closure<dyn FnMut(JsValue)>,
}

impl PropertyHandler {
    fn set(target: &JsValue, name: &'static str, handler: impl FnMut(JsValue) + 'static) -> Self {
        let closure = Closure::<dyn FnMut(JsValue)>::new(handler);
        let _ = Reflect::set(target, &name.into(), closure.as_ref());
        PropertyHandler {
            target: target.clone(),
            name,
            _closure: closure,
        }
    }
}

impl Drop for PropertyHandler {
    fn drop(&mut self) {
        let _ = Reflect::set(&self.target, &self.name.into(), &JsValue::NULL);
    }
}

/// Opens stream `id` on `{baseUrl}/api/chat/events`; `None`, after a warning saying
/// why, when no source could be made.
pub fn open(shell: &Shared, id: StreamId) -> Option<Stream> {
    let config = shell.borrow().config.clone();
    let base_url = js::get(&config, "baseUrl").as_string().unwrap_or_default();
    let url = JsValue::from([base_url.as_str(), "/api/chat/events"].concat());
    let source = make_source(&config, &url)?;
    let connection = Rc::downgrade(shell);
    let options = EventListenerOptions {
        passive: true,
        ..EventListenerOptions::default()
    };
    let welcome =
        EventListener::new_with_options(source.unchecked_ref(), "welcome", options, move |event| {
            if let Some(shell) = connection.upgrade() {
                on_welcome(&shell, id, event.as_ref());
            }
        });
    let connection = Rc::downgrade(shell);
    let onmessage = PropertyHandler::set(&source, "onmessage", move |event| {
        if let Some(shell) = connection.upgrade() {
            on_server_event(&shell, id, &event);
        }
    });
    let connection = Rc::downgrade(shell);
    let errors_of = source.clone();
    let onerror = PropertyHandler::set(&source, "onerror", move |_| {
        if let Some(shell) = connection.upgrade() {
            let closed = js::get(&errors_of, "readyState").as_f64() == Some(CLOSED);
            let now = js::now();
            shell.borrow_mut().core.on_stream_error(now, id, closed);
            pump(&shell);
        }
    });
    Some(Stream {
        id,
        source,
        _welcome: welcome,
        _onmessage: onmessage,
        _onerror: onerror,
    })
}

/// The source: the app's factory's when it gives one, else the platform's. The app's
/// own error is the one thing that says what went wrong: the warning keeps it.
fn make_source(config: &JsValue, url: &JsValue) -> Option<JsValue> {
    let made = match js::get(config, "createEventSource").dyn_into::<Function>() {
        Ok(factory) => factory.call1(&JsValue::UNDEFINED, url).map_err(|error| {
            let cause = js::describe(&error);
            [
                "could not open an EventSource: config.createEventSource threw ",
                &cause,
            ]
            .concat()
        }),
        Err(_) => web_sys::EventSource::new(&url.as_string().unwrap_or_default())
            .map(JsValue::from)
            .map_err(|error| {
                let cause = js::describe(&error);
                [
                    "could not open an EventSource (",
                    &cause,
                    "); pass config.createEventSource",
                ]
                .concat()
            }),
    };
    let warning = match made {
        Ok(source) if source.is_object() => return Some(source),
        Ok(other) => [
            "could not open an EventSource: config.createEventSource returned ",
            &js::describe(&other),
            ", not an EventSource",
        ]
        .concat(),
        Err(warning) => warning,
    };
    js::warn(&JsValue::from(warning));
    None
}

/// The event's data as a plain object, or `None` when it is not a string of at most
/// `max_length` UTF-16 units holding a JSON object.
fn parse_event_data(event: &JsValue, max_length: u32) -> Option<JsValue> {
    let data = js::get(event, "data");
    let text = data.dyn_ref::<js_sys::JsString>()?;
    if text.length() > max_length {
        return None;
    }
    let value = js::parse_json(text).ok()?;
    (value.is_object() && !Array::is_array(&value)).then_some(value)
}

fn on_welcome(shell: &Shared, id: StreamId, event: &JsValue) {
    let max_length = shell.borrow().options.max_event_bytes;
    let connection_id = parse_event_data(event, max_length)
        .map(|data| js::get(&data, "connectionId"))
        .and_then(|id| id.as_string());
    let now = js::now();
    {
        let mut s = shell.borrow_mut();
        match connection_id {
            Some(connection_id) => s.core.on_welcome(now, id, &connection_id),
            None => s.core.on_malformed_event(now, id),
        }
    }
    pump(shell);
}

/// A server event: the core hears its `(sessionId, seq)` when it carries both, and
/// says whether the listener gets it (after the actions it caused, as before).
fn on_server_event(shell: &Shared, id: StreamId, event: &JsValue) {
    let (max_length, timed) = {
        let s = shell.borrow();
        (s.options.max_event_bytes, s.timed_events)
    };
    let Some(message) = parse_event_data(event, max_length) else {
        let now = js::now();
        shell.borrow_mut().core.on_malformed_event(now, id);
        pump(shell);
        return;
    };
    let session = js::get(&message, "sessionId");
    let seq = js::get(&message, "seq").as_f64().and_then(js::count);
    let tracked = seq.filter(|_| session.is_string());
    // `Date.now()` per event is not free: read only when the core uses event times.
    let now = if timed { js::now() } else { 0 };
    let verdict = {
        let mut s = shell.borrow_mut();
        let s = &mut *s;
        // Events come in runs of one session: its id is copied into Rust once a run.
        if tracked.is_some() && session != s.last_session_js {
            s.last_session = session.as_string().unwrap_or_default();
            s.last_session_js = session;
        }
        // A leader relays the event to the other tabs as it carries out the actions
        // the event causes: it holds the event's data until then.
        #[cfg(feature = "share-tabs")]
        s.core.hold_event(message.clone());
        let session = tracked.map(|_| s.last_session.as_str());
        s.core.on_event(now, id, session, tracked)
    };
    pump(shell);
    #[cfg(feature = "share-tabs")]
    shell.borrow_mut().core.hold_event(JsValue::UNDEFINED);
    if verdict == EventVerdict::Dispatch {
        app::dispatch(shell, &message);
    }
}
