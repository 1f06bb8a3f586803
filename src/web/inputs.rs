//! Turns what the browser reports (stream events, page lifecycle) into core inputs.
//! Parsing happens here, in JS, so event bodies are never copied through Rust.

use wasm_bindgen::prelude::*;

use super::js;
use super::lifecycle::PageSignal;
use super::shell::{dispatch, pump, Shared};
use super::stream::StreamSignal;
use crate::core::{EventVerdict, StreamId};

#[wasm_bindgen(inline_js = "let q;\
export function r(e,m,l){let d,v;try{d=e.data}catch(_){return null}\
if(typeof d!=='string'||d.length>m)return null;try{v=JSON.parse(d)}catch(_){return null}\
if(v===null||typeof v!=='object'||Array.isArray(v))return null;\
const s=v.sessionId,n=v.seq;\
q=typeof s==='string'&&Number.isSafeInteger(n)&&n>=0?s===l?n:-1-n:NaN;return v}\
export function c(){return q}")]
extern "C" {
    /// One crossing for an event: `event.data` read, checked to be a string of at most
    /// `max` UTF-16 units, `JSON.parse`d and checked to be a plain object, which is
    /// returned (or null when any step fails). It also notes the event's seq code for
    /// [`seq_code`], comparing `sessionId` with `last` (the JS string of the session
    /// the shell saw last) so a run of one session's events never copies the id.
    #[wasm_bindgen(js_name = r)]
    fn read_event(event: &JsValue, max: u32, last: &JsValue) -> JsValue;

    /// The seq code of the last event [`read_event`] returned: `NaN` when `sessionId`
    /// is not a string or `seq` not a non-negative integer; the seq when the session is
    /// `last`; `-1 - seq` when it is another session.
    #[wasm_bindgen(js_name = c)]
    fn seq_code() -> f64;
}

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
