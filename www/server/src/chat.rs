//! `POST /api/chat/{endpoint}` and the `sendBeacon` suspend.
//!
//! Each POST goes through the same gate, in this order: known endpoint (else 404
//! `unknown_endpoint`), injected failure, `Content-Type` (415), `X-Connection-ID`
//! (400), body size (413), JSON shape (400), and only then the connection lookup,
//! whose failure is the stale-connection 404 (`unknown_connection`) the client library
//! is built around. A `send` may come without `X-Connection-ID` when it carries a
//! `clientMsgId` (a prompt sent before, or without, a stream): it is processed with no
//! connection to watch its session; with `--untied-sends`, so is one whose
//! `X-Connection-ID` the server does not know. A `send` is answered with its receipt
//! (`receipt.rs`), or with a broken one when a test armed that fault. Every POST,
//! whatever its fate, lands in the log; the configured delay is added to every answer
//! after the work is done, so a delayed answer can arrive after the events it caused.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::agent;
use crate::error::{json_response, ApiError};
use crate::receipt::{receipt, ReceiptFault};
use crate::state::{check_id, unknown_connection, AppState, Frame, Inner, MAX_ID_LEN};

/// Largest POST body accepted.
pub(crate) const MAX_BODY: usize = 64 * 1024;
/// Largest `sessions` list in a reconnect or suspend.
const MAX_SESSIONS_PER_REQUEST: usize = 1_000;
/// Session ids copied into one log entry; enough to check a test, bounded in memory.
const MAX_LOGGED_SESSIONS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Send,
    Stop,
    Interrupt,
    Permission,
    Mode,
    Watch,
    Unwatch,
    Switch,
    Suspend,
    Close,
    Reconnect,
    /// An acknowledgement of applied events.
    Applied,
    /// An acknowledgement of a reconnect snapshot.
    SnapshotApplied,
    /// The foreground liveness probe: echoed down the connection's stream.
    Probe,
}

impl Endpoint {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "send" => Endpoint::Send,
            "stop" => Endpoint::Stop,
            "interrupt" => Endpoint::Interrupt,
            "permission" => Endpoint::Permission,
            "mode" => Endpoint::Mode,
            "watch" => Endpoint::Watch,
            "unwatch" => Endpoint::Unwatch,
            "switch" => Endpoint::Switch,
            "suspend" => Endpoint::Suspend,
            "close" => Endpoint::Close,
            "reconnect" => Endpoint::Reconnect,
            "session-event-applied" => Endpoint::Applied,
            "reconnect-snapshot-applied" => Endpoint::SnapshotApplied,
            "probe" => Endpoint::Probe,
            _ => return None,
        })
    }

    /// The message `type` that maps to this endpoint (docs/protocol.md, "Message types
    /// and endpoints").
    fn message_type(self) -> &'static str {
        match self {
            Endpoint::Send => "send",
            Endpoint::Stop => "stop",
            Endpoint::Interrupt => "interrupt",
            Endpoint::Permission => "permission_response",
            Endpoint::Mode => "set_mode",
            Endpoint::Watch => "watch",
            Endpoint::Unwatch => "unwatch",
            Endpoint::Switch => "switch_session",
            Endpoint::Suspend => "session_suspend",
            Endpoint::Close => "session_close",
            Endpoint::Reconnect => "reconnect",
            Endpoint::Applied => "session_event_applied",
            Endpoint::SnapshotApplied => "reconnect_snapshot_applied",
            Endpoint::Probe => "probe",
        }
    }
}

/// One POST's entry in the log, filled in as far as the request got.
struct LogEntry {
    endpoint: String,
    connection_id: Option<String>,
    client_msg_id: Option<String>,
    session_id: Option<String>,
    sessions: Option<Vec<String>>,
    /// A send answered as already accepted: tests check a retry was not reprocessed.
    duplicate: bool,
    /// The armed fault that broke this send's receipt.
    receipt_fault: Option<ReceiptFault>,
    /// A probe whose echo the `swallow-probes` fault kept off the stream.
    echo_swallowed: bool,
}

impl LogEntry {
    fn into_json(self, status: StatusCode) -> Value {
        let mut entry = Map::new();
        entry.insert("endpoint".into(), json!(self.endpoint));
        entry.insert("connectionId".into(), json!(self.connection_id));
        entry.insert("status".into(), json!(status.as_u16()));
        if let Some(id) = self.client_msg_id {
            entry.insert("clientMsgId".into(), json!(id));
        }
        if let Some(id) = self.session_id {
            entry.insert("sessionId".into(), json!(id));
        }
        if let Some(ids) = self.sessions {
            entry.insert("sessions".into(), json!(ids));
        }
        if self.duplicate {
            entry.insert("duplicate".into(), json!(true));
        }
        if let Some(fault) = self.receipt_fault {
            entry.insert("receiptFault".into(), json!(fault.name()));
        }
        if self.echo_swallowed {
            entry.insert("echoSwallowed".into(), json!(true));
        }
        Value::Object(entry)
    }
}

pub(crate) async fn post(
    State(state): State<AppState>,
    endpoint: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let name = endpoint.map(|Path(name)| name).unwrap_or_default();
    let mut entry = LogEntry {
        endpoint: truncate(&name, MAX_ID_LEN),
        connection_id: headers
            .get("x-connection-id")
            .and_then(|v| v.to_str().ok())
            .map(|v| truncate(v, MAX_ID_LEN)),
        client_msg_id: None,
        session_id: None,
        sessions: None,
        duplicate: false,
        receipt_fault: None,
        echo_swallowed: false,
    };
    let result = handle(&state, &name, &headers, body, &mut entry).await;
    if result.is_ok() && name == "send" {
        entry.receipt_fault = state.lock().faults.take_broken_receipt();
    }
    finish(&state, entry, result).await
}

/// Logs, applies the injected delay, answers.
async fn finish(state: &AppState, entry: LogEntry, result: Result<Value, ApiError>) -> Response {
    let fault = entry.receipt_fault;
    let (status, body) = match result {
        Ok(body) => (StatusCode::OK, body),
        Err(err) => (err.status, err.body()),
    };
    let delay = {
        let mut inner = state.lock();
        inner.log_post(entry.into_json(status));
        inner.faults.delay
    };
    if delay > Duration::ZERO {
        tokio::time::sleep(delay).await;
    }
    match fault {
        Some(fault) => fault.answer(body),
        None => json_response(status, &body),
    }
}

async fn handle(
    state: &AppState,
    name: &str,
    headers: &HeaderMap,
    body: Body,
    entry: &mut LogEntry,
) -> Result<Value, ApiError> {
    let endpoint = Endpoint::parse(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_endpoint",
            format!("no such endpoint: /api/chat/{}", truncate(name, MAX_ID_LEN)),
        )
    })?;
    injected_failure(state, name)?;
    crate::auth::require(state)?;
    check_content_type(headers)?;
    let connection_id = match (endpoint, connection_id(headers)) {
        // Judged once the body says whether it has a `clientMsgId`.
        (Endpoint::Send, Err(_)) if headers.get("x-connection-id").is_none() => None,
        (_, header) => Some(header?),
    };
    let bytes = read_body(headers, body).await?;
    let message = parse_object(&bytes)?;
    check_type(endpoint, &message)?;
    let request = Request::parse(endpoint, &message)?;
    if connection_id.is_none() && !request.identifies_itself() {
        return Err(ApiError::bad_request(
            "missing X-Connection-ID header (a send without one must carry a clientMsgId)",
        ));
    }
    request.describe(entry);

    let mut inner = state.lock();
    let mut connection_id = connection_id.as_deref();
    if let Some(id) = connection_id.filter(|id| !inner.is_known(id)) {
        // `--untied-sends`: such a server does not tie `/send` to a stream, so a send
        // that names itself is processed as if it had come without the header (the
        // log keeps the header as sent).
        if !(state.options().untied_sends && request.identifies_itself()) {
            return Err(unknown_connection(id));
        }
        connection_id = None;
    }
    let answer = request.apply(state, &mut inner, connection_id)?;
    entry.duplicate = answer["duplicate"] == true;
    entry.echo_swallowed = answer["echoed"] == false;
    Ok(answer)
}

/// A POST body, validated into what the endpoint needs.
enum Request {
    Send {
        session_id: String,
        client_msg_id: Option<String>,
        text: String,
        /// What a repeat of the same `clientMsgId` must match (`Inner::same_body`).
        fingerprint: u64,
    },
    Watch(String),
    Unwatch(String),
    /// stop and interrupt: end the session's running agent reply.
    Halt(String),
    /// permission and mode: recorded (logged) only.
    Record(Option<String>),
    Suspend(Vec<String>),
    /// The sessions and their cursors; whether the client supports an applied cursor
    /// (and so may be offered snapshots).
    Reconnect(Vec<(String, u64)>, bool),
    /// `{ sessionId, seq }`: applied up to `seq`.
    Applied(String, u64),
    /// `{ sessionId, cursor, offerId? }`: the snapshot offered was applied.
    SnapshotApplied {
        session_id: String,
        cursor: u64,
        offer_id: Option<String>,
    },
    /// The probe's nonce, echoed back on the stream.
    Probe(String),
}

impl Request {
    fn parse(endpoint: Endpoint, message: &Map<String, Value>) -> Result<Self, ApiError> {
        Ok(match endpoint {
            Endpoint::Send => {
                let prompt = optional_str(message, "prompt")?;
                let text = optional_str(message, "text")?;
                let client_msg_id = optional_str(message, "clientMsgId")?;
                if let Some(id) = client_msg_id {
                    check_id("clientMsgId", id)?;
                }
                Request::Send {
                    session_id: session_id(message)?,
                    client_msg_id: client_msg_id.map(String::from),
                    text: prompt.or(text).unwrap_or_default().to_string(),
                    fingerprint: fingerprint(message),
                }
            }
            Endpoint::Watch | Endpoint::Switch => Request::Watch(session_id(message)?),
            Endpoint::Unwatch | Endpoint::Close => Request::Unwatch(session_id(message)?),
            Endpoint::Stop | Endpoint::Interrupt => Request::Halt(session_id(message)?),
            Endpoint::Permission | Endpoint::Mode => {
                let id = optional_str(message, "sessionId")?;
                if let Some(id) = id {
                    check_id("sessionId", id)?;
                }
                Request::Record(id.map(String::from))
            }
            Endpoint::Suspend => Request::Suspend(suspend_sessions(message.get("sessions"))?),
            Endpoint::Reconnect => Request::Reconnect(
                reconnect_sessions(message)?,
                message.get("supportsAppliedCursor") == Some(&Value::Bool(true)),
            ),
            Endpoint::Applied => {
                Request::Applied(session_id(message)?, required_u64(message, "seq")?)
            }
            Endpoint::SnapshotApplied => {
                let offer_id = optional_str(message, "offerId")?;
                Request::SnapshotApplied {
                    session_id: session_id(message)?,
                    cursor: required_u64(message, "cursor")?,
                    offer_id: offer_id.map(String::from),
                }
            }
            Endpoint::Probe => {
                let nonce = optional_str(message, "nonce")?
                    .ok_or_else(|| ApiError::bad_request("missing field `nonce`"))?;
                check_id("nonce", nonce)?;
                Request::Probe(nonce.to_string())
            }
        })
    }

    /// A `send` with a `clientMsgId`: it can be processed without a connection, and
    /// its receipt names it.
    fn identifies_itself(&self) -> bool {
        matches!(
            self,
            Request::Send {
                client_msg_id: Some(_),
                ..
            }
        )
    }

    fn describe(&self, entry: &mut LogEntry) {
        match self {
            Request::Send {
                session_id,
                client_msg_id,
                ..
            } => {
                entry.session_id = Some(session_id.clone());
                entry.client_msg_id = client_msg_id.clone();
            }
            Request::Watch(id)
            | Request::Unwatch(id)
            | Request::Halt(id)
            | Request::Applied(id, _)
            | Request::SnapshotApplied { session_id: id, .. } => {
                entry.session_id = Some(id.clone());
            }
            Request::Record(id) => entry.session_id = id.clone(),
            Request::Probe(_) => {}
            Request::Suspend(ids) => {
                entry.sessions = Some(ids.iter().take(MAX_LOGGED_SESSIONS).cloned().collect());
            }
            Request::Reconnect(sessions, _) => {
                entry.sessions = Some(
                    sessions
                        .iter()
                        .take(MAX_LOGGED_SESSIONS)
                        .map(|(id, _)| id.clone())
                        .collect(),
                );
            }
        }
    }

    /// `connection` is `None` only for a `send` that identifies itself.
    fn apply(
        self,
        state: &AppState,
        inner: &mut Inner,
        connection: Option<&str>,
    ) -> Result<Value, ApiError> {
        // Every request but a `send` was refused without a connection id.
        let on = connection.unwrap_or_default();
        match self {
            Request::Send {
                session_id,
                client_msg_id,
                text,
                fingerprint,
            } => {
                if let Some(connection) = connection {
                    inner.watch(connection, &session_id)?;
                }
                if let Some(id) = &client_msg_id {
                    inner.same_body(&session_id, id, fingerprint)?;
                    if !inner.accept(&session_id, id) {
                        return Ok(receipt(Some(id), &session_id, true));
                    }
                }
                agent::on_send(state, inner, &session_id, client_msg_id.as_deref(), &text);
                Ok(receipt(client_msg_id.as_deref(), &session_id, false))
            }
            Request::Watch(session_id) => {
                inner.watch(on, &session_id)?;
                let last_seq = inner.sessions.get(&session_id).map_or(0, |s| s.last_seq);
                Ok(json!({"ok": true, "sessionId": session_id, "lastSeq": last_seq}))
            }
            Request::Unwatch(session_id) => {
                inner.unwatch(on, &session_id);
                Ok(json!({"ok": true}))
            }
            Request::Halt(session_id) => {
                inner.session(&session_id).agent_generation += 1;
                Ok(json!({"ok": true}))
            }
            Request::Record(_) | Request::Suspend(_) => Ok(json!({"ok": true})),
            Request::Reconnect(sessions, applied_cursor) => {
                let overlap = inner.faults.replay_overlap;
                let offer = applied_cursor && inner.applied.offer_snapshots;
                let (mut replayed, mut offered) = (0, 0);
                for (session_id, last_seq) in &sessions {
                    inner.watch(on, session_id)?;
                    let latest = inner.sessions.get(session_id).map_or(0, |s| s.last_seq);
                    if offer && latest > *last_seq {
                        let event = inner.applied.offer(on, session_id, latest);
                        let frame = Frame::Event {
                            id: None,
                            data: event.to_string().into(),
                        };
                        inner.broadcast(Some(on), frame);
                        offered += 1;
                    } else {
                        replayed += inner.replay(on, session_id, *last_seq, overlap);
                    }
                }
                Ok(json!({"ok": true, "replayed": replayed, "offered": offered}))
            }
            Request::Applied(session_id, seq) => {
                let cursor = inner.applied.acknowledge(&session_id, seq);
                Ok(json!({"ok": true, "sessionId": session_id, "appliedCursor": cursor}))
            }
            Request::SnapshotApplied {
                session_id,
                cursor,
                offer_id,
            } => {
                let offer = offer_id.as_deref();
                Ok(inner
                    .applied
                    .snapshot_answer(on, &session_id, cursor, offer))
            }
            Request::Probe(nonce) => {
                // Down the very stream the probe asks about: a stream that carries it
                // is alive (docs/protocol.md, "The foreground probe").
                let echoed = !inner.faults.take_swallowed_probe();
                if echoed {
                    let echo = json!({"type": "_probe", "nonce": nonce});
                    let frame = Frame::Event {
                        id: None,
                        data: echo.to_string().into(),
                    };
                    inner.broadcast(Some(on), frame);
                }
                Ok(json!({"ok": true, "echoed": echoed}))
            }
        }
    }
}

/// `POST /api/chat/suspend-beacon` with `{"connectionId","sessions"}`: what
/// `navigator.sendBeacon` sends when the page is being hidden and the connection is
/// down. It has no custom headers and any content type (a Blob), and nobody reads the
/// answer, so an unknown connection is accepted rather than 404ed.
pub(crate) async fn suspend_beacon(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let mut entry = LogEntry {
        endpoint: "suspend-beacon".into(),
        connection_id: None,
        client_msg_id: None,
        session_id: None,
        sessions: None,
        duplicate: false,
        receipt_fault: None,
        echo_swallowed: false,
    };
    let result = beacon(&state, &headers, body, &mut entry).await;
    finish(&state, entry, result).await
}

async fn beacon(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    entry: &mut LogEntry,
) -> Result<Value, ApiError> {
    injected_failure(state, "suspend-beacon")?;
    let bytes = read_body(headers, body).await?;
    let message = parse_object(&bytes)?;
    let connection_id = optional_str(&message, "connectionId")?
        .ok_or_else(|| ApiError::bad_request("missing field `connectionId`"))?;
    entry.connection_id = Some(truncate(connection_id, MAX_ID_LEN));
    let sessions = suspend_sessions(message.get("sessions"))?;
    entry.sessions = Some(sessions.iter().take(MAX_LOGGED_SESSIONS).cloned().collect());
    let known = state.lock().is_known(connection_id);
    Ok(json!({"ok": true, "knownConnection": known}))
}

fn injected_failure(state: &AppState, endpoint: &str) -> Result<(), ApiError> {
    match state.lock().faults.take_failure(endpoint) {
        Some(status) => Err(injected(status)),
        None => Ok(()),
    }
}

/// The answer of a request failed by `POST /api/test/fail-next`.
pub(crate) fn injected(status: StatusCode) -> ApiError {
    ApiError::new(
        status,
        "injected_failure",
        format!(
            "injected failure {} (POST /api/test/fail-next)",
            status.as_u16()
        ),
    )
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "missing Content-Type: expected application/json",
        ));
    };
    let essence = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if essence.as_deref() != Some("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "Content-Type {:?} is not supported: expected application/json",
                String::from_utf8_lossy(value.as_bytes())
            ),
        ));
    }
    Ok(())
}

fn connection_id(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers
        .get("x-connection-id")
        .ok_or_else(|| ApiError::bad_request("missing X-Connection-ID header"))?;
    let id = value
        .to_str()
        .map_err(|_| ApiError::bad_request("X-Connection-ID header is not ASCII text"))?
        .trim();
    if id.is_empty() {
        return Err(ApiError::bad_request("X-Connection-ID header is empty"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(ApiError::bad_request(format!(
            "X-Connection-ID header is longer than {MAX_ID_LEN} bytes"
        )));
    }
    Ok(id.to_string())
}

/// Reads at most `MAX_BODY` bytes; a declared or actual larger body is a 413.
pub(crate) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body is larger than {} KiB", MAX_BODY / 1024),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|err| {
        let over_limit = std::error::Error::source(&err)
            .is_some_and(|e| e.is::<http_body_util::LengthLimitError>())
            || err.to_string().contains("length limit");
        if over_limit {
            too_large()
        } else {
            ApiError::bad_request(format!("could not read the request body: {err}"))
        }
    })
}

pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(ApiError::bad_request(format!(
            "body must be a JSON object, not {}",
            kind(&other)
        ))),
        Err(err) => Err(ApiError::bad_request(format!("malformed JSON body: {err}"))),
    }
}

/// `type` may be absent; if present it must be this endpoint's message type (or the
/// endpoint's own name), so a client that routes a message to the wrong endpoint
/// hears about it.
fn check_type(endpoint: Endpoint, message: &Map<String, Value>) -> Result<(), ApiError> {
    let Some(kind) = optional_str(message, "type")? else {
        return Ok(());
    };
    let name = match endpoint {
        Endpoint::Permission => "permission",
        Endpoint::Mode => "mode",
        Endpoint::Switch => "switch",
        Endpoint::Suspend => "suspend",
        Endpoint::Close => "close",
        other => other.message_type(),
    };
    if kind != endpoint.message_type() && kind != name {
        return Err(ApiError::bad_request(format!(
            "`type` {:?} does not belong on /api/chat/{name} (expected {:?})",
            truncate(kind, MAX_ID_LEN),
            endpoint.message_type()
        )));
    }
    Ok(())
}

fn optional_str<'a>(
    message: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, ApiError> {
    match message.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{field}` must be a string, not {}",
            kind(other)
        ))),
    }
}

/// A required non-negative integer field.
fn required_u64(message: &Map<String, Value>, field: &str) -> Result<u64, ApiError> {
    message
        .get(field)
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::bad_request(format!("`{field}` must be a non-negative integer")))
}

/// `sessionId`, defaulting to "default" as the existing server does.
fn session_id(message: &Map<String, Value>) -> Result<String, ApiError> {
    let id = optional_str(message, "sessionId")?.unwrap_or("default");
    check_id("sessionId", id)?;
    Ok(id.to_string())
}

/// A present `sessions` field: an array of at most `MAX_SESSIONS_PER_REQUEST` entries.
fn session_list(value: &Value) -> Result<&Vec<Value>, ApiError> {
    let Value::Array(list) = value else {
        return Err(ApiError::bad_request(format!(
            "`sessions` must be an array, not {}",
            kind(value)
        )));
    };
    if list.len() > MAX_SESSIONS_PER_REQUEST {
        return Err(ApiError::bad_request(format!(
            "`sessions` has more than {MAX_SESSIONS_PER_REQUEST} entries"
        )));
    }
    Ok(list)
}

fn reconnect_sessions(message: &Map<String, Value>) -> Result<Vec<(String, u64)>, ApiError> {
    let list = match message.get("sessions") {
        None | Some(Value::Null) => return Err(ApiError::bad_request("missing field `sessions`")),
        Some(value) => session_list(value)?,
    };
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let Value::Object(item) = item else {
                return Err(ApiError::bad_request(format!(
                    "`sessions[{i}]` must be an object {{sessionId, lastSeq}}, not {}",
                    kind(item)
                )));
            };
            let id = optional_str(item, "sessionId")?.ok_or_else(|| {
                ApiError::bad_request(format!("`sessions[{i}].sessionId` is missing"))
            })?;
            check_id("sessionId", id)?;
            let last_seq = match item.get("lastSeq") {
                None | Some(Value::Null) => 0,
                Some(value) => value.as_u64().ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "`sessions[{i}].lastSeq` must be a non-negative integer"
                    ))
                })?,
            };
            Ok((id.to_string(), last_seq))
        })
        .collect()
}

/// A suspend's `sessions`: optional; items are session ids or `{sessionId, ...}`
/// objects, since clients send either their tracked-session list or plain ids.
fn suspend_sessions(value: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(value) => session_list(value)?,
    };
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let id = match item {
                Value::String(id) => id.as_str(),
                Value::Object(obj) => optional_str(obj, "sessionId")?.ok_or_else(|| {
                    ApiError::bad_request(format!("`sessions[{i}].sessionId` is missing"))
                })?,
                other => {
                    return Err(ApiError::bad_request(format!(
                        "`sessions[{i}]` must be a session id or an object, not {}",
                        kind(other)
                    )))
                }
            };
            check_id("sessionId", id)?;
            Ok(id.to_string())
        })
        .collect()
}

/// A fingerprint of a message, the same for the same JSON object whatever the order
/// of its fields (serde_json's map is sorted).
fn fingerprint(message: &Map<String, Value>) -> u64 {
    let mut hasher = DefaultHasher::new();
    Value::Object(message.clone()).to_string().hash(&mut hasher);
    hasher.finish()
}

pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Bounds a client-supplied string before it is echoed into a message or the log.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
