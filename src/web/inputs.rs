//! Turns what the browser reports (stream events, page lifecycle) into core inputs.
//! Parsing happens here, in JS, so event bodies are never copied through Rust.

use wasm_bindgen::JsValue;

use super::js::{self, read_event, seq_code};
use super::lifecycle::PageSignal;
use super::shell::{dispatch, pump, Shared};
use super::stream::StreamSignal;
use crate::core::{EventVerdict, StreamId};

pub fn on_stream_signal(shell: &Shared, stream: StreamId, signal: StreamSignal) {
    match signal {
        StreamSignal::Welcome(event) => {
            let now = js::now();
            let id = parse_event(shell, &event)
                .map(|obj| js::get(&obj, "connectionId"))
                .and_then(|id| id.as_string());
            let mut s = shell.borrow_mut();
            match id {
                Some(id) => s.core.on_welcome(now, stream, &id),
                None => s.core.on_malformed_event(now, stream),
            }
        }
        StreamSignal::Message(event) => on_message(shell, stream, &event),
        StreamSignal::Error { closed } => {
            let now = js::now();
            shell.borrow_mut().core.on_stream_error(now, stream, closed)
        }
    }
    pump(shell);
}

fn on_message(shell: &Shared, stream: StreamId, event: &JsValue) {
    let (max, last) = {
        let s = shell.borrow();
        (s.options.max_event_bytes, s.last_session.0.clone())
    };
    let parsed = read_event(event, max, &last);
    if parsed.is_null() {
        let now = js::now();
        shell.borrow_mut().core.on_malformed_event(now, stream);
        return;
    }
    let code = seq_code();
    let now = js::now();
    let verdict = {
        let mut s = shell.borrow_mut();
        let s = &mut *s;
        let seq = if code.is_nan() {
            None
        } else if code >= 0.0 {
            Some(code as u64)
        } else {
            // Another session than the last one: its id is copied into Rust once per
            // run of its events.
            let id = js::get(&parsed, "sessionId");
            s.last_session = (id.clone(), id.as_string().unwrap_or_default());
            Some((-1.0 - code) as u64)
        };
        let session = seq.map(|_| s.last_session.1.as_str());
        s.core.on_event(now, stream, session, seq)
    };
    if matches!(verdict, EventVerdict::Dispatch) {
        dispatch(shell, &parsed);
    }
}

/// The event's data as a plain object, or `None` when it is not a string, is larger
/// than `maxEventBytes`, is not JSON, or is not an object: such events are skipped
/// (and counted by the core), never allowed to break the stream.
fn parse_event(shell: &Shared, event: &JsValue) -> Option<JsValue> {
    let max = shell.borrow().options.max_event_bytes;
    let value = read_event(event, max, &JsValue::UNDEFINED);
    (!value.is_null()).then_some(value)
}

pub fn on_page_signal(shell: &Shared, signal: PageSignal) {
    let now = js::now();
    {
        let mut s = shell.borrow_mut();
        match signal {
            PageSignal::Visible => s.core.on_visibility(now, true),
            PageSignal::Hidden => s.core.on_visibility(now, false),
            PageSignal::PageHide => s.core.on_page_hide(now),
            PageSignal::PageShow { persisted } => s.core.on_page_show(now, persisted),
            PageSignal::Online => s.core.on_online(now),
        }
    }
    pump(shell);
}
