//! Turns what the browser reports (stream events, POST answers, page lifecycle, the
//! timer), all arriving through the shell's one inbox, into core inputs. The JS half
//! parses each event and hands over only what the core decides on: one crossing per
//! event, and the event itself never copied through Rust.

use alloc::string::String;

use super::js;
use super::shell::{pump, Shared};
use crate::core::{EventVerdict, PostId, PostOutcome, StreamId};

/// The inbox's kinds, as `helper.js` names them (`INBOX_WELCOME`, ...).
mod inbox {
    pub const WELCOME: u32 = 0;
    pub const MESSAGE: u32 = 1;
    pub const MALFORMED: u32 = 2;
    pub const STREAM_ERROR: u32 = 3;
    pub const POST_ANSWER: u32 = 4;
}

/// How a POST settled, as `helper.js` names it (`POST_ACCEPTED`, `POST_NETWORK_ERROR`);
/// any other code is the
/// HTTP status of an answer that was not `ok`.
mod post_answer {
    pub const ACCEPTED: f64 = 0.0;
    pub const NETWORK_ERROR: f64 = -1.0;
}

/// Whether the JS half hands a server event to the app's listener.
const DISPATCH: u32 = 1;
const SKIP: u32 = 0;

/// One report from the platform: `id` is the stream's, the POST's or the lifecycle
/// event's; `now` is `Date.now()` when it happened (0 for a server event when the core
/// reads no event times, see `Machine::event_time_needed`); `number` and `text` depend
/// on the kind (see the `INBOX_` codes in `helper.js`). Answers whether to dispatch a
/// server event.
pub fn on_input(
    shell: &Shared,
    kind: u32,
    id: u32,
    now: f64,
    number: f64,
    text: Option<String>,
) -> u32 {
    let now = js::from_js_time(now);
    let stream = StreamId(id);
    let mut verdict = SKIP;
    match kind {
        inbox::WELCOME => {
            let mut s = shell.borrow_mut();
            match text {
                Some(connection_id) => s.core.on_welcome(now, stream, &connection_id),
                None => s.core.on_malformed_event(now, stream),
            }
        }
        inbox::MESSAGE => verdict = on_message(shell, now, stream, number, text),
        inbox::MALFORMED => shell.borrow_mut().core.on_malformed_event(now, stream),
        inbox::STREAM_ERROR => {
            let closed = number == 1.0;
            shell.borrow_mut().core.on_stream_error(now, stream, closed)
        }
        inbox::POST_ANSWER => {
            let outcome = if number == post_answer::ACCEPTED {
                PostOutcome::Accepted
            } else if number == post_answer::NETWORK_ERROR || number < 1.0 {
                PostOutcome::NetworkError
            } else {
                PostOutcome::Status(number as u16)
            };
            shell
                .borrow_mut()
                .core
                .on_post_answer(now, PostId(id), outcome);
        }
        _ => {}
    }
    pump(shell);
    verdict
}

/// A parsed server event: `seq` is NaN when it carries no `(sessionId, seq)`, and
/// `new_session` is its session id when it differs from the last one reported (events
/// come in runs of one session, so the id is copied into Rust once a run).
fn on_message(
    shell: &Shared,
    now: u64,
    stream: StreamId,
    seq: f64,
    new_session: Option<String>,
) -> u32 {
    let mut s = shell.borrow_mut();
    let s = &mut *s;
    if let Some(session) = new_session {
        s.last_session = session;
    }
    let seq = (!seq.is_nan()).then_some(seq as u64);
    let session = seq.map(|_| s.last_session.as_str());
    match s.core.on_event(now, stream, session, seq) {
        EventVerdict::Dispatch => DISPATCH,
        _ => SKIP,
    }
}
