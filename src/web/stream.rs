//! One `EventSource` and the three handlers the shell puts on it, owned so that
//! dropping a `Stream` detaches everything and closes the source.
//!
//! `welcome` is a listener (`addEventListener`); every other event comes through the
//! `onmessage` property and errors through `onerror`, because that is how the
//! existing client touches an EventSource and its tests' fakes implement only that.
//! The wiring is done by the JS helper ([`js::open_stream`], [`js::close_stream`]).

use wasm_bindgen::prelude::*;

use super::callbacks::Callback;
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

pub struct Stream {
    source: JsValue,
    welcome: Callback,
    _message: Callback,
    _error: Callback,
}

impl Stream {
    /// Opens `{config.baseUrl}/api/chat/events` with the injected factory (read from `config` at this moment) or
    /// `new EventSource(url)`, and routes its events to `on_signal`. `Err` when no
    /// source could be made (reported by the caller, naming createEventSource).
    pub fn open(
        config: &JsValue,
        on_signal: impl Fn(StreamSignal) + Clone + 'static,
    ) -> Result<Stream, ()> {
        let signal = on_signal.clone();
        let welcome = Callback::new(move |event: JsValue| signal(StreamSignal::Welcome(event)));
        let signal = on_signal.clone();
        let message = Callback::new(move |event: JsValue| signal(StreamSignal::Message(event)));
        let error = Callback::new(move |closed: JsValue| {
            on_signal(StreamSignal::Error {
                closed: closed.is_truthy(),
            })
        });
        let source = js::open_stream(config, welcome.as_ref(), message.as_ref(), error.as_ref());
        if source.is_null() {
            return Err(());
        }
        Ok(Stream {
            source,
            welcome,
            _message: message,
            _error: error,
        })
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // The closures are freed after this (field drop order), once detached.
        js::close_stream(&self.source, self.welcome.as_ref());
    }
}
