//! One `EventSource` and the three handlers the shell puts on it, owned so that
//! dropping a `Stream` detaches everything and closes the source.
//!
//! `welcome` is a listener (`addEventListener`); every other event comes through the
//! `onmessage` property and errors through `onerror`, because that is how the
//! existing client touches an EventSource and its tests' fakes implement only that.

use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, EventTarget};

use super::callbacks::{Callback, EventListener};
use super::js;

/// What happened on a stream, handed to the shell.
/// The events are handed over as they came (their `data` is read by the shell, duck-typed:
/// a fake may hand a MessageEvent or a plain object).
pub enum StreamSignal {
    Welcome(JsValue),
    Message(JsValue),
    /// `closed`: readyState is CLOSED, so the browser will not reconnect by itself.
    Error {
        closed: bool,
    },
}

/// A closure installed as an `on*` property; dropping it sets the property back to
/// null and frees the closure, the property-handler twin of [`EventListener`].
struct PropertyHandler {
    target: JsValue,
    property: &'static str,
    _closure: Callback,
}

impl PropertyHandler {
    fn install(target: &JsValue, property: &'static str, closure: Callback) -> Self {
        let _ = js_sys::Reflect::set(target, &JsValue::from_str(property), closure.as_ref());
        PropertyHandler {
            target: target.clone(),
            property,
            _closure: closure,
        }
    }
}

impl Drop for PropertyHandler {
    fn drop(&mut self) {
        let _ = js_sys::Reflect::set(
            &self.target,
            &JsValue::from_str(self.property),
            &JsValue::NULL,
        );
    }
}

pub struct Stream {
    source: EventSource,
    _welcome: EventListener,
    _message: PropertyHandler,
    _error: PropertyHandler,
}

const READY_STATE_CLOSED: f64 = 2.0;

impl Stream {
    /// Opens `url` with the injected factory (read from the config at this moment) or
    /// `new EventSource(url)`, and routes its events to `on_signal`.
    pub fn open(
        url: &str,
        factory: Option<Function>,
        on_signal: impl Fn(StreamSignal) + Clone + 'static,
    ) -> Result<Stream, JsValue> {
        let source: EventSource = match factory {
            Some(create) => {
                let created = create.call1(&JsValue::UNDEFINED, &JsValue::from_str(url))?;
                if !created.is_object() {
                    // Reported by the caller (a warning naming createEventSource).
                    return Err(JsValue::UNDEFINED);
                }
                created.unchecked_into()
            }
            None => EventSource::new(url)?,
        };
        let target: &EventTarget = source.unchecked_ref();

        let signal = on_signal.clone();
        let welcome = EventListener::new(target, "welcome", move |event: JsValue| {
            signal(StreamSignal::Welcome(event));
        });
        let signal = on_signal.clone();
        let message = PropertyHandler::install(
            &source,
            "onmessage",
            Closure::new(move |event: JsValue| signal(StreamSignal::Message(event))),
        );
        let error_source = source.clone();
        let error = PropertyHandler::install(
            &source,
            "onerror",
            Closure::new(move |_event: JsValue| {
                let closed =
                    js::get(&error_source, "readyState").as_f64() == Some(READY_STATE_CLOSED);
                on_signal(StreamSignal::Error { closed });
            }),
        );
        Ok(Stream {
            source,
            _welcome: welcome,
            _message: message,
            _error: error,
        })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // Handlers detach after this (field drop order), so close() cannot call back.
        self.source.close();
    }
}
