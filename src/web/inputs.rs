//! Turns what the browser reports (stream events, page lifecycle) into core inputs.
//! Parsing happens here, in JS, so event bodies are never copied through Rust.

use js_sys::JsString;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::js;
use super::lifecycle::PageSignal;
use super::shell::{dispatch, pump, Shared};
use super::stream::StreamSignal;
use crate::core::{EventVerdict, StreamId};

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` on a JS string without copying it into Rust first.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_json(text: &JsValue) -> Result<JsValue, JsValue>;
}

pub fn on_stream_signal(shell: &Shared, stream: StreamId, signal: StreamSignal) {
    let now = js::now();
    match signal {
        StreamSignal::Welcome(data) => {
            let id = parse_event(shell, &data)
                .map(|obj| js::get(&obj, "connectionId"))
                .and_then(|id| id.as_string());
            let mut s = shell.borrow_mut();
            match id {
                Some(id) => s.core.on_welcome(now, stream, &id),
                None => s.core.on_malformed_event(now, stream),
            }
        }
        StreamSignal::Message(data) => match parse_event(shell, &data) {
            Some(event) => {
                let seq = js::as_count(&js::get(&event, "seq"));
                let session = js::get(&event, "sessionId").as_string();
                // Seq tracking needs both, as in the existing client.
                let (session, seq) = match (session, seq) {
                    (Some(session), Some(seq)) => (Some(session), Some(seq)),
                    _ => (None, None),
                };
                let verdict =
                    shell
                        .borrow_mut()
                        .core
                        .on_event(now, stream, session.as_deref(), seq);
                if matches!(verdict, EventVerdict::Dispatch) {
                    dispatch(shell, &event);
                }
            }
            None => shell.borrow_mut().core.on_malformed_event(now, stream),
        },
        StreamSignal::Error { closed } => {
            shell.borrow_mut().core.on_stream_error(now, stream, closed)
        }
    }
    pump(shell);
}

/// The event's data as a plain object, or `None` when it is not a string, is larger
/// than `maxEventBytes`, is not JSON, or is not an object: such events are skipped
/// (and counted by the core), never allowed to break the stream.
fn parse_event(shell: &Shared, data: &JsValue) -> Option<JsValue> {
    let text: &JsString = data.dyn_ref()?;
    if text.length() > shell.borrow().options.max_event_bytes {
        return None;
    }
    let value = parse_json(data).ok()?;
    (value.is_object() && !js_sys::Array::is_array(&value)).then_some(value)
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
