//! `GET /api/chat/events`: one SSE response per connection.
//!
//! The response first carries `event: welcome` with a fresh connection id, then the
//! events queued for it in `state` (live events of watched sessions, replays), and a
//! `{"type":"heartbeat"}` data event every heartbeat interval. Heartbeats are real
//! events rather than SSE comments because `EventSource` hides comments, and a client
//! watchdog can only see what reaches `onmessage`. A test may have the next requests
//! refused instead (`fail-next` with `"endpoint": "events"`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::Notify;
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

use crate::chat::injected;
use crate::state::{AppState, Frame, Next};

pub(crate) async fn events(State(state): State<AppState>) -> Response {
    // `fail-next` with `"endpoint": "events"`: answer with its status, open nothing.
    let failure = state.lock().faults.take_stream_failure();
    if let Some(status) = failure {
        return injected(status).into_response();
    }
    if let Err(expired) = crate::auth::require(&state) {
        return expired.into_response();
    }
    let opened = state.lock().open_stream();
    let (id, notify) = match opened {
        Ok(opened) => opened,
        Err(err) => return err.into_response(),
    };
    let every = state.options().heartbeat;
    let retry = state.options().sse_retry;
    let mut heartbeat = interval_at(Instant::now() + every, every);
    // After a stall, one heartbeat is enough; a burst would only be noise.
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let reader = StreamReader {
        state,
        id,
        notify,
        heartbeat,
        retry,
    };
    let body = stream::unfold(reader, |mut reader| async move {
        let event = reader.next().await?;
        Some((Ok::<_, Infallible>(event), reader))
    });
    let mut response = Sse::new(body).into_response();
    let headers = response.headers_mut();
    // `Sse` already sets text/event-stream; make "no caching" explicit and keep
    // buffering proxies from holding events back.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store"),
    );
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The state of one open response. Dropping it (client gone, or stream ended)
/// removes the connection, exactly as a real server forgets a closed stream.
struct StreamReader {
    state: AppState,
    id: String,
    notify: Arc<Notify>,
    heartbeat: Interval,
    /// The `retry:` field sent with the welcome, if configured.
    retry: Option<Duration>,
}

impl StreamReader {
    async fn next(&mut self) -> Option<Event> {
        loop {
            let next = self.state.lock().next_frame(&self.id);
            match next {
                Next::Frame(frame) => return Some(to_event(frame, self.retry)),
                Next::End => return None,
                Next::Wait => {}
            }
            // `notify_one` stores a permit when nobody waits, so a frame queued between
            // the check above and this wait is not missed.
            tokio::select! {
                () = self.notify.notified() => {}
                _ = self.heartbeat.tick() => {
                    if self.state.lock().heartbeat_due(&self.id) {
                        return Some(Event::default().data(r#"{"type":"heartbeat"}"#));
                    }
                }
            }
        }
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        self.state.lock().remove_stream(&self.id);
    }
}

fn to_event(frame: Frame, retry: Option<Duration>) -> Event {
    match frame {
        Frame::Welcome(data) => {
            let welcome = Event::default().event("welcome").data(&*data);
            match retry {
                Some(retry) => welcome.retry(retry),
                None => welcome,
            }
        }
        Frame::Event { id: Some(id), data } => Event::default().id(&*id).data(&*data),
        Frame::Event { id: None, data } => Event::default().data(&*data),
    }
}
