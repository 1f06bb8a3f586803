//! Everything the server remembers: open streams and the connections they carry, the
//! per-session event store with its accepted-`clientMsgId` lists, the POST log and the
//! fault switches.
//!
//! One `std::sync::Mutex` guards it all. No lock is ever held across an `.await`, and
//! every operation is a short in-memory update, so a single lock keeps the ordering
//! guarantees simple: an event is stored and queued to its watchers in one step, and a
//! reconnect's replay is queued in the same step that starts the watch, so a replaying
//! client sees neither a gap nor a duplicate at the boundary.
//!
//! Every collection a client can grow has a bound (see the `MAX_*` constants), so a
//! long-running demo or a hostile page cannot exhaust memory.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use serde_json::{json, Map, Value};
use tokio::sync::Notify;

use crate::agent::AgentOptions;
use crate::applied::Applied;
use crate::error::ApiError;
use crate::faults::Faults;
use crate::Options;

/// Open SSE streams at once; a new stream past this is refused with 503.
pub(crate) const MAX_STREAMS: usize = 1024;
/// Sessions kept; past this the least recently used one is evicted whole.
pub(crate) const MAX_SESSIONS: usize = 1024;
/// Stored events per session; older ones can no longer be replayed.
pub(crate) const MAX_EVENTS_PER_SESSION: usize = 10_000;
/// Stored events over all sessions; past this least recently used sessions go.
pub(crate) const MAX_TOTAL_EVENTS: usize = 200_000;
/// Accepted `clientMsgId`s remembered per session, oldest forgotten first.
pub(crate) const MAX_ACCEPTED_PER_SESSION: usize = 10_000;
/// Sessions one connection may watch.
pub(crate) const MAX_WATCHED: usize = 1_000;
/// Frames waiting on one stream. A client this far behind is treated like a dead one:
/// its stream is ended and its connection forgotten, and it recovers by reconnecting.
pub(crate) const MAX_QUEUED_FRAMES: usize = 100_000;
/// POSTs remembered by the log.
pub(crate) const MAX_LOG: usize = 10_000;
/// Longest accepted session id or `clientMsgId`, in bytes.
pub(crate) const MAX_ID_LEN: usize = 200;

/// Cheap to clone: a handle on the one shared state.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

struct Shared {
    inner: Mutex<Inner>,
    options: Options,
}

impl AppState {
    pub fn new(options: Options) -> Self {
        let inner = Inner::new(&options);
        AppState {
            shared: Arc::new(Shared {
                inner: Mutex::new(inner),
                options,
            }),
        }
    }

    pub(crate) fn options(&self) -> &Options {
        &self.shared.options
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-built in a way
        // that matters more than refusing all further requests would, so keep going.
        self.shared.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends every stream and refuses new ones; used when the process is stopping.
    pub fn shut_down(&self) {
        let mut inner = self.lock();
        inner.shutting_down = true;
        inner.end_all_streams();
    }
}

/// One SSE frame waiting to be written.
#[derive(Debug, Clone)]
pub(crate) enum Frame {
    Welcome(Arc<str>),
    Event {
        id: Option<Arc<str>>,
        data: Arc<str>,
    },
}

/// One open SSE response. Its connection id is its key in `Inner::streams`.
pub(crate) struct Stream {
    /// False once the connection was forgotten: POSTs naming it get 404 and nothing
    /// more is written to it, though the response stays open (the seed's stale case).
    pub known: bool,
    /// Silenced (`silence-streams`): still open and known, but nothing more is written
    /// to it, heartbeats included: a stream dead somewhere on the way.
    silent: bool,
    pub watching: HashSet<String>,
    queue: VecDeque<Frame>,
    /// Set to end the response once the stream task next looks.
    closed: bool,
    notify: Arc<Notify>,
}

impl Stream {
    fn push(&mut self, frame: Frame) {
        if self.closed || self.silent {
            return;
        }
        if self.queue.len() >= MAX_QUEUED_FRAMES {
            self.close();
            return;
        }
        self.queue.push_back(frame);
        self.notify.notify_one();
    }

    fn close(&mut self) {
        self.known = false;
        self.closed = true;
        self.queue.clear();
        self.watching.clear();
        self.notify.notify_one();
    }
}

/// What a stream task should do next.
pub(crate) enum Next {
    Frame(Frame),
    Wait,
    End,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredEvent {
    pub seq: u64,
    pub id: Arc<str>,
    pub data: Arc<str>,
}

#[derive(Debug, Default)]
pub(crate) struct Session {
    pub last_seq: u64,
    pub events: VecDeque<StoredEvent>,
    accepted: VecDeque<String>,
    accepted_set: HashSet<String>,
    /// The fingerprint of the body each accepted `clientMsgId` came with: a repeat must
    /// be the very same message.
    accepted_bodies: HashMap<String, u64>,
    last_used: u64,
    /// Bumped by `stop`/`interrupt` so a running agent reply notices and gives up.
    pub agent_generation: u64,
}

impl Session {
    pub fn accepted(&self) -> impl Iterator<Item = &str> {
        self.accepted.iter().map(String::as_str)
    }
}

pub(crate) struct Inner {
    pub streams: HashMap<String, Stream>,
    pub sessions: HashMap<String, Session>,
    total_events: usize,
    clock: u64,
    log: VecDeque<Value>,
    log_dropped: u64,
    pub streams_opened: u64,
    pub faults: Faults,
    pub agent: AgentOptions,
    /// Applied cursors, snapshot offers and their faults (`applied.rs`).
    pub applied: Applied,
    /// Bumped by `reset`, so agent replies started before it do not write into the
    /// fresh store.
    pub epoch: u64,
    shutting_down: bool,
}

impl Inner {
    fn new(options: &Options) -> Self {
        Inner {
            streams: HashMap::new(),
            sessions: HashMap::new(),
            total_events: 0,
            clock: 0,
            log: VecDeque::new(),
            log_dropped: 0,
            streams_opened: 0,
            faults: Faults::default(),
            agent: options.agent.clone(),
            applied: Applied::default(),
            epoch: 0,
            shutting_down: false,
        }
    }

    // ---- streams and connections ----

    /// Registers a new stream with a fresh connection id and queues its welcome.
    pub fn open_stream(&mut self) -> Result<(String, Arc<Notify>), ApiError> {
        if self.shutting_down {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the server is shutting down",
            ));
        }
        if self.streams.len() >= MAX_STREAMS {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_streams",
                format!("too many open streams (limit {MAX_STREAMS})"),
            ));
        }
        let id = fresh_connection_id()?;
        let notify = Arc::new(Notify::new());
        let welcome = json!({"type": "welcome", "protocolVersion": 2, "connectionId": id});
        let mut stream = Stream {
            known: true,
            silent: false,
            watching: HashSet::new(),
            queue: VecDeque::new(),
            closed: false,
            notify: notify.clone(),
        };
        stream.push(Frame::Welcome(welcome.to_string().into()));
        self.streams.insert(id.clone(), stream);
        self.streams_opened += 1;
        Ok((id, notify))
    }

    /// Called when a stream's response is gone (client left or stream ended).
    pub fn remove_stream(&mut self, id: &str) {
        self.streams.remove(id);
    }

    pub fn next_frame(&mut self, id: &str) -> Next {
        let Some(stream) = self.streams.get_mut(id) else {
            return Next::End;
        };
        if let Some(frame) = stream.queue.pop_front() {
            Next::Frame(frame)
        } else if stream.closed {
            Next::End
        } else {
            Next::Wait
        }
    }

    /// Whether a heartbeat should be written on this stream now. A forgotten stream
    /// stays silent: the point of `forget` is a stream the browser believes in while
    /// nothing arrives on it, which is what a heartbeat watchdog must detect.
    pub fn heartbeat_due(&self, id: &str) -> bool {
        self.faults.heartbeats
            && self
                .streams
                .get(id)
                .is_some_and(|s| s.known && !s.closed && !s.silent)
    }

    pub fn is_known(&self, id: &str) -> bool {
        self.streams.get(id).is_some_and(|s| s.known)
    }

    pub fn known_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .streams
            .iter()
            .filter(|(_, s)| s.known)
            .map(|(id, _)| id.as_str())
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Forgets one connection; its stream stays open but silent. False if unknown.
    pub fn forget(&mut self, id: &str) -> bool {
        match self.streams.get_mut(id) {
            Some(stream) if stream.known => {
                stream.known = false;
                stream.watching.clear();
                true
            }
            _ => false,
        }
    }

    /// Silences one known connection (or every one): it stays known, its POSTs are
    /// answered, but its stream carries nothing more. How many were silenced.
    pub fn silence(&mut self, only: Option<&str>) -> usize {
        let mut silenced = 0;
        for (id, stream) in self.streams.iter_mut() {
            if stream.known && !stream.silent && only.map_or(true, |o| o == id) {
                stream.silent = true;
                stream.queue.clear();
                silenced += 1;
            }
        }
        silenced
    }

    pub fn forget_all(&mut self) -> usize {
        let ids: Vec<String> = self.known_ids().into_iter().map(String::from).collect();
        ids.iter().filter(|id| self.forget(id)).count()
    }

    /// Ends every open response (forgotten ones too) and forgets every connection.
    pub fn end_all_streams(&mut self) -> usize {
        let mut ended = 0;
        for stream in self.streams.values_mut().filter(|s| !s.closed) {
            stream.close();
            ended += 1;
        }
        ended
    }

    /// Queues a frame that belongs to no session (raw test data) on known streams.
    pub fn broadcast(&mut self, only: Option<&str>, frame: Frame) -> usize {
        let mut sent = 0;
        for (id, stream) in self.streams.iter_mut() {
            if stream.known && only.map_or(true, |o| o == id) {
                stream.push(frame.clone());
                sent += 1;
            }
        }
        sent
    }

    pub fn watch(&mut self, id: &str, session_id: &str) -> Result<(), ApiError> {
        let Some(stream) = self.streams.get_mut(id).filter(|s| s.known) else {
            return Err(unknown_connection(id));
        };
        if !stream.watching.contains(session_id) {
            if stream.watching.len() >= MAX_WATCHED {
                return Err(ApiError::bad_request(format!(
                    "a connection may watch at most {MAX_WATCHED} sessions"
                )));
            }
            stream.watching.insert(session_id.to_string());
        }
        Ok(())
    }

    pub fn unwatch(&mut self, id: &str, session_id: &str) {
        if let Some(stream) = self.streams.get_mut(id) {
            stream.watching.remove(session_id);
        }
    }

    // ---- sessions and events ----

    /// The session, created if new (evicting the least recently used one at the
    /// bound), marked as just used.
    pub fn session(&mut self, session_id: &str) -> &mut Session {
        self.clock += 1;
        if !self.sessions.contains_key(session_id) && self.sessions.len() >= MAX_SESSIONS {
            self.evict_least_recent(None);
        }
        let session = self.sessions.entry(session_id.to_string()).or_default();
        session.last_used = self.clock;
        session
    }

    fn evict_least_recent(&mut self, keep: Option<&str>) -> bool {
        let victim = self
            .sessions
            .iter()
            .filter(|(id, _)| Some(id.as_str()) != keep)
            .min_by_key(|(_, s)| s.last_used)
            .map(|(id, _)| id.clone());
        match victim {
            Some(id) => {
                if let Some(session) = self.sessions.remove(&id) {
                    self.total_events -= session.events.len();
                }
                true
            }
            None => false,
        }
    }

    /// Appends an event to a session (assigning `sessionId`, the next `seq` and the
    /// `prevSessionSeq` it follows) and queues it to every known connection watching
    /// that session, unless the `drop-events` fault swallows it (it stays stored).
    pub fn append(&mut self, session_id: &str, mut event: Map<String, Value>) -> u64 {
        let session = self.session(session_id);
        let prev = session.last_seq;
        session.last_seq += 1;
        let seq = session.last_seq;
        event.insert("sessionId".into(), Value::from(session_id));
        event.insert("seq".into(), Value::from(seq));
        event.insert("prevSessionSeq".into(), Value::from(prev));
        let stored = StoredEvent {
            seq,
            id: format!("session:{session_id}:seq:{seq}").into(),
            data: Value::Object(event).to_string().into(),
        };
        session.events.push_back(stored.clone());
        if session.events.len() > MAX_EVENTS_PER_SESSION {
            session.events.pop_front();
        } else {
            self.total_events += 1;
        }
        while self.total_events > MAX_TOTAL_EVENTS && self.evict_least_recent(Some(session_id)) {}

        if !self.applied.send_live() {
            return seq;
        }
        let frame = Frame::Event {
            id: Some(stored.id),
            data: stored.data,
        };
        for stream in self.streams.values_mut() {
            if stream.known && stream.watching.contains(session_id) {
                stream.push(frame.clone());
            }
        }
        seq
    }

    /// Queues on connection `id` the stored events of `session_id` with seq above
    /// `last_seq`, plus `overlap` already-seen ones before them. Returns how many.
    pub fn replay(&mut self, id: &str, session_id: &str, last_seq: u64, overlap: u64) -> usize {
        let from = last_seq.saturating_sub(overlap);
        let Some(session) = self.sessions.get(session_id) else {
            return 0;
        };
        let Some(stream) = self.streams.get_mut(id).filter(|s| s.known) else {
            return 0;
        };
        let mut count = 0;
        for event in session.events.iter().filter(|e| e.seq > from) {
            stream.push(Frame::Event {
                id: Some(event.id.clone()),
                data: event.data.clone(),
            });
            count += 1;
        }
        count
    }

    /// Records `client_msg_id` as accepted in the session; false if it already was.
    pub fn accept(&mut self, session_id: &str, client_msg_id: &str) -> bool {
        let session = self.session(session_id);
        if session.accepted_set.contains(client_msg_id) {
            return false;
        }
        if session.accepted.len() >= MAX_ACCEPTED_PER_SESSION {
            if let Some(oldest) = session.accepted.pop_front() {
                session.accepted_set.remove(&oldest);
                session.accepted_bodies.remove(&oldest);
            }
        }
        session.accepted.push_back(client_msg_id.to_string());
        session.accepted_set.insert(client_msg_id.to_string());
        true
    }

    /// Checks that a `send` of `client_msg_id` in the session carries the body the
    /// first one did (`fingerprint`), remembering it the first time. A different body
    /// under an accepted id is refused: one `clientMsgId` is one message.
    pub fn same_body(
        &mut self,
        session_id: &str,
        client_msg_id: &str,
        fingerprint: u64,
    ) -> Result<(), ApiError> {
        let session = self.session(session_id);
        match session.accepted_bodies.get(client_msg_id) {
            Some(first) if *first != fingerprint => Err(ApiError::new(
                StatusCode::CONFLICT,
                "client_msg_id_conflict",
                format!(
                    "clientMsgId {client_msg_id:?} was already accepted in session {session_id:?} with a different body"
                ),
            )),
            Some(_) => Ok(()),
            None => {
                session
                    .accepted_bodies
                    .insert(client_msg_id.to_string(), fingerprint);
                Ok(())
            }
        }
    }

    pub fn total_events(&self) -> usize {
        self.total_events
    }

    // ---- log ----

    pub fn log_post(&mut self, entry: Value) {
        if self.log.len() >= MAX_LOG {
            self.log.pop_front();
            self.log_dropped += 1;
        }
        self.log.push_back(entry);
    }

    pub fn log_json(&self) -> Value {
        json!({
            "posts": self.log,
            "postsDropped": self.log_dropped,
            "streamsOpened": self.streams_opened,
        })
    }

    /// Clears data and faults for test isolation; open streams and their connections
    /// survive, so a page's live connection is not pulled from under it.
    pub fn reset(&mut self, agent: AgentOptions) {
        self.sessions.clear();
        self.total_events = 0;
        self.log.clear();
        self.log_dropped = 0;
        self.streams_opened = 0;
        self.faults = Faults::default();
        self.applied = Applied::default();
        self.agent = agent;
        self.epoch += 1;
    }
}

pub(crate) fn unknown_connection(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_connection",
        format!("unknown connection id {id:?}: the server does not know (or no longer knows) this connection; reconnect"),
    )
}

/// 128 random bits as hex: unguessable, so one page cannot post as another's
/// connection.
fn fresh_connection_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no_randomness",
            format!("cannot draw a connection id: {e}"),
        )
    })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Checks a session id or `clientMsgId` named `field`: non-empty, bounded, and free of
/// control characters (they would corrupt the SSE `id:` line).
pub(crate) fn check_id(field: &str, value: &str) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(ApiError::bad_request(format!(
            "`{field}` must not be empty"
        )));
    }
    if value.len() > MAX_ID_LEN {
        return Err(ApiError::bad_request(format!(
            "`{field}` is longer than {MAX_ID_LEN} bytes"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "`{field}` must not contain control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner() -> Inner {
        Inner::new(&Options::default())
    }

    fn event(kind: &str) -> Map<String, Value> {
        let mut map = Map::new();
        map.insert("type".into(), Value::from(kind));
        map
    }

    fn drain(inner: &mut Inner, id: &str) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Next::Frame(frame) = inner.next_frame(id) {
            frames.push(frame);
        }
        frames
    }

    #[test]
    fn seqs_start_at_one_and_increase_per_session() {
        let mut inner = inner();
        assert_eq!(inner.append("a", event("x")), 1);
        assert_eq!(inner.append("a", event("x")), 2);
        assert_eq!(inner.append("b", event("x")), 1);
    }

    #[test]
    fn session_store_keeps_only_the_newest_events() {
        let mut inner = inner();
        for _ in 0..MAX_EVENTS_PER_SESSION + 5 {
            inner.append("a", event("x"));
        }
        let session = &inner.sessions["a"];
        assert_eq!(session.events.len(), MAX_EVENTS_PER_SESSION);
        assert_eq!(session.events.front().unwrap().seq, 6);
        assert_eq!(inner.total_events(), MAX_EVENTS_PER_SESSION);
    }

    #[test]
    fn session_count_is_bounded_by_evicting_the_least_recently_used() {
        let mut inner = inner();
        for i in 0..MAX_SESSIONS + 3 {
            inner.append(&format!("s{i}"), event("x"));
        }
        assert_eq!(inner.sessions.len(), MAX_SESSIONS);
        assert!(!inner.sessions.contains_key("s0"));
        assert!(inner
            .sessions
            .contains_key(&format!("s{}", MAX_SESSIONS + 2)));
    }

    #[test]
    fn only_known_watchers_get_events_and_forgotten_streams_stay_open() {
        let mut inner = inner();
        let (a, _) = inner.open_stream().unwrap();
        let (b, _) = inner.open_stream().unwrap();
        drain(&mut inner, &a);
        drain(&mut inner, &b);
        inner.watch(&a, "s").unwrap();
        inner.watch(&b, "s").unwrap();
        assert!(inner.forget(&b));
        inner.append("s", event("x"));
        assert_eq!(drain(&mut inner, &a).len(), 1);
        assert!(matches!(inner.next_frame(&b), Next::Wait));
        assert!(inner.watch(&b, "s").is_err());
    }

    #[test]
    fn a_silenced_stream_stays_known_and_open_but_carries_nothing() {
        let mut inner = inner();
        let (a, _) = inner.open_stream().unwrap();
        let (b, _) = inner.open_stream().unwrap();
        drain(&mut inner, &a);
        inner.watch(&a, "s").unwrap();
        inner.watch(&b, "s").unwrap();
        assert_eq!(inner.silence(Some(&b)), 1);
        assert!(
            matches!(inner.next_frame(&b), Next::Wait),
            "its welcome went too"
        );
        assert_eq!(inner.silence(Some(&b)), 0, "once");
        inner.append("s", event("x"));
        assert_eq!(drain(&mut inner, &a).len(), 1);
        assert!(matches!(inner.next_frame(&b), Next::Wait));
        assert!(inner.is_known(&b));
        assert!(inner.heartbeat_due(&a));
        assert!(!inner.heartbeat_due(&b));
        assert_eq!(inner.silence(None), 1, "every other known one");
    }

    #[test]
    fn accepted_list_is_ordered_deduplicated_and_bounded() {
        let mut inner = inner();
        assert!(inner.accept("s", "m1"));
        assert!(inner.accept("s", "m2"));
        assert!(!inner.accept("s", "m1"));
        let list: Vec<&str> = inner.sessions["s"].accepted().collect();
        assert_eq!(list, ["m1", "m2"]);
        for i in 0..MAX_ACCEPTED_PER_SESSION {
            inner.accept("s", &format!("x{i}"));
        }
        assert_eq!(
            inner.sessions["s"].accepted().count(),
            MAX_ACCEPTED_PER_SESSION
        );
    }

    #[test]
    fn an_accepted_id_takes_only_its_own_body_again() {
        let mut inner = inner();
        assert!(inner.same_body("s", "m1", 7).is_ok());
        assert!(inner.accept("s", "m1"));
        assert!(
            inner.same_body("s", "m1", 7).is_ok(),
            "the same message again"
        );
        let conflict = inner.same_body("s", "m1", 8).unwrap_err();
        assert_eq!(conflict.status, StatusCode::CONFLICT);
        assert_eq!(conflict.code, "client_msg_id_conflict");
        assert!(
            inner.same_body("t", "m1", 8).is_ok(),
            "another session's id"
        );
    }

    #[test]
    fn a_forgotten_accepted_id_forgets_its_body_too() {
        let mut inner = inner();
        inner.same_body("s", "m0", 1).unwrap();
        inner.accept("s", "m0");
        for i in 0..MAX_ACCEPTED_PER_SESSION {
            inner.accept("s", &format!("x{i}"));
        }
        assert!(!inner.sessions["s"].accepted_bodies.contains_key("m0"));
    }

    #[test]
    fn connection_ids_are_fresh_and_unguessable_length() {
        let a = fresh_connection_id().unwrap();
        let b = fresh_connection_id().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn ids_with_control_characters_are_refused() {
        assert!(check_id("sessionId", "a\nb").is_err());
        assert!(check_id("sessionId", "").is_err());
        assert!(check_id("sessionId", &"x".repeat(MAX_ID_LEN + 1)).is_err());
        assert!(check_id("sessionId", "chat:42").is_ok());
    }
}
