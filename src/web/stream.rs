//! The event streams. Each is an `EventSource` (the app's `createEventSource(url)` when
//! it gives one, read at each open, else `new EventSource(url)`) whose welcome, events
//! (parsed by `inbound.js`, the one JS hot path, which says why) and errors are
//! reported as `Input`s. The handlers are owned by the
//! `Stream`: dropping it closes the source and detaches them, so a closed stream calls
//! nothing back.
//!
//! What the app injects may be a plain object in its tests (the existing client's mock
//! `EventSource`): it is read and called by property, never assumed to be the
//! platform class.

use gloo_events::{EventListener, EventListenerOptions};
use js_sys::{Function, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use wasm_bindgen::prelude::wasm_bindgen;

use super::input::{ChainedEvent, Input, Inputs, ServerEvent};
use super::js;
use crate::core::StreamId;

/// `EventSource.CLOSED`: the browser gave up on the stream.
const CLOSED: f64 = 2.0;

/// One open stream: its source and the handlers on it.
pub struct Stream {
    pub id: StreamId,
    source: JsValue,
    _welcome: EventListener,
    _onmessage: EventHandler,
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

/// The `onmessage` handler (`inbound.js`'s, see there why it is JS), with the inbox it
/// calls; dropping it sets the property back to null and frees the inbox.
struct EventHandler {
    source: JsValue,
    inbox: JsValue,
}

impl Drop for EventHandler {
    fn drop(&mut self) {
        let _ = Reflect::set(&self.source, &"onmessage".into(), &JsValue::NULL);
        // Once the call into the wasm that dropped it has returned: it may be its own.
        js::free_later(&self.inbox);
    }
}

/// What `inbound.js` tells of one stream's server events: by name, one call per event.
#[wasm_bindgen(skip_typescript)]
pub struct StreamInbox {
    stream: StreamId,
    inputs: Inputs,
}

#[wasm_bindgen]
impl StreamInbox {
    /// A server event: `message` the parsed object, `seq` its seq (-1 when it has no
    /// `seq` and `sessionId`), `new_session` its `sessionId` when it differs from the
    /// last one handed over. Answers the app's listener when the event is to be handed
    /// to it, else undefined.
    pub fn event(&self, message: JsValue, seq: f64, new_session: Option<String>) -> JsValue {
        let event = ServerEvent {
            message,
            seq: js::count(seq),
            new_session,
        };
        let listener = self.inputs.send(Input::Event {
            stream: self.stream,
            event: Some(event),
        });
        listener.map_or(JsValue::UNDEFINED, JsValue::from)
    }

    /// A chained event (`acknowledgeEvents`): `seq` and `prev` its `seq` and
    /// `prevSessionSeq`, `length` its data's length. The shell hands it to the listener
    /// itself when the core lets it through.
    pub fn chained(
        &self,
        message: JsValue,
        seq: f64,
        prev: f64,
        new_session: Option<String>,
        length: f64,
    ) {
        let (Some(seq), Some(prev)) = (js::count(seq), js::count(prev)) else {
            return self.malformed();
        };
        let event = ChainedEvent {
            message,
            seq,
            prev,
            new_session,
            length: length as usize,
        };
        let _ = self.inputs.send(Input::Chained {
            stream: self.stream,
            event,
        });
    }

    /// The foreground probe's echo (`foregroundProbe`): its `nonce`, when a string.
    #[wasm_bindgen(js_name = probeEcho)]
    pub fn probe_echo(&self, nonce: Option<String>) {
        let _ = self.inputs.send(Input::ProbeEcho {
            stream: self.stream,
            nonce,
        });
    }

    /// A `session_reconnect_snapshot` offer (`acknowledgeEvents`).
    pub fn snapshot(&self, message: JsValue) {
        let _ = self.inputs.send(Input::SnapshotOffer {
            stream: self.stream,
            message,
        });
    }

    /// An `auth_expired` event (`authLatch`): authentication is lost.
    #[wasm_bindgen(js_name = authExpired)]
    pub fn auth_expired(&self) {
        let _ = self.inputs.send(Input::AuthExpired {
            stream: self.stream,
        });
    }

    /// An event whose data is not a JSON object within `maxEventBytes`.
    pub fn malformed(&self) {
        let _ = self.inputs.send(Input::Event {
            stream: self.stream,
            event: None,
        });
    }
}

/// A closure set as `target[name]` (`onerror`: a property, so that the app's mock
/// sources work), set back to null when dropped.
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

/// Opens stream `id` on the events URL (`config` being the connection's copy, read
/// now: see `events_url`), its welcome, events and errors reported to `inputs`, each event's
/// data parsed when it is at most `max_event_length` UTF-16 units (`session_memory`:
/// the connection's, see `inbound.js`); `None`, after a warning saying why, when no
/// source could be made.
pub fn open(
    config: &JsValue,
    max_event_length: u32,
    session_memory: &JsValue,
    id: StreamId,
    inputs: &Inputs,
) -> Option<Stream> {
    let url = match events_url(config) {
        Ok(url) => url,
        Err(warning) => {
            js::warn(&JsValue::from(warning));
            return None;
        }
    };
    let source = make_source(config, &url)?;
    let options = EventListenerOptions {
        passive: true,
        ..EventListenerOptions::default()
    };
    let to_shell = inputs.clone();
    let welcome =
        EventListener::new_with_options(source.unchecked_ref(), "welcome", options, move |event| {
            let data = js::parse_event_data(event.as_ref(), f64::from(max_event_length));
            let connection_id = js::get(&data, "connectionId").as_string();
            let _ = to_shell.send(Input::Welcome {
                stream: id,
                connection_id,
            });
        });
    let inbox = JsValue::from(StreamInbox {
        stream: id,
        inputs: inputs.clone(),
    });
    let handler = js::event_handler(&inbox, f64::from(max_event_length), session_memory);
    let _ = Reflect::set(&source, &"onmessage".into(), &handler);
    let onmessage = EventHandler {
        source: source.clone(),
        inbox,
    };
    let to_shell = inputs.clone();
    let errors_of = source.clone();
    let onerror = PropertyHandler::set(&source, "onerror", move |_| {
        let closed = js::get(&errors_of, "readyState").as_f64() == Some(CLOSED);
        let _ = to_shell.send(Input::StreamError { stream: id, closed });
    });
    Some(Stream {
        id,
        source,
        _welcome: welcome,
        _onmessage: onmessage,
        _onerror: onerror,
    })
}

/// The URL of a new stream: what the app's `buildEventUrl` returns, asked at every
/// attempt (so that a refreshed token is used), else `{baseUrl}/api/chat/events`. A
/// `buildEventUrl` that throws or returns no string fails this attempt, with the
/// warning saying why; the stream is tried again as after any failed open.
fn events_url(config: &JsValue) -> Result<JsValue, String> {
    let Ok(build) = js::get(config, "buildEventUrl").dyn_into::<Function>() else {
        let base_url = js::get(config, "baseUrl").as_string().unwrap_or_default();
        return Ok(JsValue::from(
            [base_url.as_str(), "/api/chat/events"].concat(),
        ));
    };
    match build.call0(config) {
        Ok(url) if url.is_string() => Ok(url),
        Ok(other) => Err([
            "could not open an EventSource: config.buildEventUrl returned ",
            &js::describe(&other),
            ", not a string",
        ]
        .concat()),
        Err(error) => Err([
            "could not open an EventSource: config.buildEventUrl threw ",
            &js::describe(&error),
        ]
        .concat()),
    }
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
