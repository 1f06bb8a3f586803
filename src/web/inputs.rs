//! Turns what the browser reports (stream events, POST answers, page lifecycle, the
//! timer), all arriving through the shell's one inbox, into core inputs. Parsing
//! happens in JS, so event bodies are never copied through Rust.

use wasm_bindgen::JsValue;

use super::js::{self, read_event, seq_code};
use super::shell::{dispatch, on_timer, pump, Shared};
use crate::core::{EventVerdict, PostId, PostOutcome, StreamId};

// The inbox kinds, as `helper.js` sends them.
const WELCOME: u32 = 0;
const MESSAGE: u32 = 1;
const STREAM_ERROR: u32 = 2;
const POST_ANSWER: u32 = 3;
const PAGE: u32 = 4;

/// One report from the platform: `id` is the stream's, the POST's or the lifecycle
/// code (0 for the timer); `value` the event, the error's closed flag (1 when
/// readyState is CLOSED) or the POST's outcome code.
pub fn on_input(shell: &Shared, kind: u32, id: f64, value: JsValue) {
    let now = js::now();
    // Ids go to the helper as i32 (so it is called without a conversion wrapper):
    // back through i32, a wrapped id above 2^31 comes back as itself.
    let id = id as i32 as u32;
    let stream = StreamId(id);
    match kind {
        WELCOME => {
            let id = parse_event(shell, &value)
                .map(|obj| js::get(&obj, "connectionId"))
                .and_then(|id| id.as_string());
            let mut s = shell.borrow_mut();
            match id {
                Some(id) => s.core.on_welcome(now, stream, &id),
                None => s.core.on_malformed_event(now, stream),
            }
        }
        MESSAGE => on_message(shell, now, stream, &value),
        STREAM_ERROR => {
            let closed = value.as_f64() == Some(1.0);
            shell.borrow_mut().core.on_stream_error(now, stream, closed)
        }
        POST_ANSWER => {
            let code = value.as_f64().unwrap_or(-1.0);
            let outcome = if code == 0.0 {
                PostOutcome::Accepted
            } else if code >= 1.0 {
                PostOutcome::Status(code as u16)
            } else {
                PostOutcome::NetworkError
            };
            shell
                .borrow_mut()
                .core
                .on_post_answer(now, PostId(id), outcome);
        }
        PAGE => on_page(shell, now, id),
        _ => on_timer(shell, now),
    }
    pump(shell);
}

fn on_message(shell: &Shared, now: u64, stream: StreamId, event: &JsValue) {
    let (max, last) = {
        let s = shell.borrow();
        (s.options.max_event_bytes, s.last_session.0.clone())
    };
    let parsed = read_event(event, f64::from(max), &last);
    if parsed.is_undefined() {
        shell.borrow_mut().core.on_malformed_event(now, stream);
        return;
    }
    let code = seq_code();
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
    let value = read_event(event, f64::from(max), &JsValue::UNDEFINED);
    (!value.is_undefined()).then_some(value)
}

/// A page lifecycle code: 0 visible, 1 hidden, 2 pagehide, 3 pageshow from the
/// bfcache, 4 another pageshow, 5 online.
fn on_page(shell: &Shared, now: u64, code: u32) {
    let mut s = shell.borrow_mut();
    match code {
        0 => s.core.on_visibility(now, true),
        1 => s.core.on_visibility(now, false),
        2 => s.core.on_page_hide(now),
        3 | 4 => s.core.on_page_show(now, code == 3),
        _ => s.core.on_online(now),
    }
}
