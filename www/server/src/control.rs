//! The test control API under `/api/test/`: lets browser tests, the demo and
//! benchmarks drive faults and inspect what the server saw, over plain HTTP so a page
//! on another origin can use it. Bodies are JSON objects; an empty body counts as
//! `{}`, and no particular `Content-Type` is required.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::agent::MAX_DELTAS;
use crate::chat::{kind, parse_object, read_body};
use crate::error::{ok, ApiError};
use crate::faults::{MAX_DELAY, MAX_RECEIPT_KINDS};
use crate::receipt::ReceiptFault;
use crate::state::{check_id, AppState, Frame, MAX_EVENTS_PER_SESSION};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/forget", post(forget))
        .route("/kill-streams", post(kill_streams))
        .route("/restart", post(restart))
        .route("/fail-next", post(fail_next))
        .route("/break-receipts", post(break_receipts))
        .route("/delay", post(delay))
        .route("/heartbeats", post(heartbeats))
        .route("/silence-streams", post(silence_streams))
        .route("/swallow-probes", post(swallow_probes))
        .route("/replay-overlap", post(replay_overlap))
        .route("/drop-events", post(drop_events))
        .route("/offer-snapshots", post(offer_snapshots))
        .route("/break-snapshots", post(break_snapshots))
        .route("/emit", post(emit))
        .route("/emit-raw", post(emit_raw))
        .route("/agent", post(agent))
        .route("/reset", post(reset))
        .route("/accepted", get(accepted))
        .route("/log", get(log))
        .route("/state", get(state))
        .route("/expire-auth", post(crate::auth::expire))
        .route("/restore-auth", post(crate::auth::restore))
}

type Answer = Result<Response, ApiError>;

async fn body(headers: &HeaderMap, body: Body) -> Result<Map<String, Value>, ApiError> {
    let bytes = read_body(headers, body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    parse_object(&bytes)
}

fn opt_u64(body: &Map<String, Value>, field: &str) -> Result<Option<u64>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            ApiError::bad_request(format!(
                "`{field}` must be a non-negative integer, not {}",
                kind(value)
            ))
        }),
    }
}

fn opt_str<'a>(body: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{field}` must be a string, not {}",
            kind(other)
        ))),
    }
}

/// A field the request must have: its value, or the error naming it.
fn required<T>(value: Option<T>, field: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::bad_request(format!("missing field `{field}`")))
}

fn opt_bool(body: &Map<String, Value>, field: &str) -> Result<Option<bool>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ApiError::bad_request(format!(
            "`{field}` must be a boolean, not {}",
            kind(other)
        ))),
    }
}

/// `{"connectionId"?}`: forget one connection, or all; their streams stay open.
async fn forget(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let mut inner = state.lock();
    let forgotten = match opt_str(&body, "connectionId")? {
        Some(id) => {
            if !inner.forget(id) {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "unknown_connection",
                    format!("no known connection {id:?} to forget"),
                ));
            }
            1
        }
        None => inner.forget_all(),
    };
    Ok(ok(json!({"ok": true, "forgotten": forgotten})))
}

/// End every SSE response and forget every connection.
async fn kill_streams(State(state): State<AppState>) -> Answer {
    let ended = state.lock().end_all_streams();
    Ok(ok(json!({"ok": true, "ended": ended})))
}

/// A process restart with a persistent store: all connection state goes, the event
/// store and accepted lists stay.
async fn restart(State(state): State<AppState>) -> Answer {
    let ended = state.lock().end_all_streams();
    Ok(ok(json!({"ok": true, "ended": ended})))
}

/// `{"count"?: 1, "status"?: 500, "endpoint"?}`.
async fn fail_next(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let count = opt_u64(&body, "count")?.unwrap_or(1);
    let status = opt_u64(&body, "status")?.unwrap_or(500);
    let status = u16::try_from(status)
        .ok()
        .filter(|s| (200..=599).contains(s))
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| {
            ApiError::bad_request("`status` must be an HTTP status between 200 and 599")
        })?;
    let endpoint = opt_str(&body, "endpoint")?.map(String::from);
    state
        .lock()
        .faults
        .fail_next(count, status, endpoint.clone());
    Ok(ok(
        json!({"ok": true, "count": count, "status": status.as_u16(), "endpoint": endpoint}),
    ))
}

/// `{"kind": "html" | "wrong_id" | "missing_session", "count"?: 1}`: the next `count`
/// accepted sends are processed but answered with a receipt broken that way. Or
/// `{"kinds": [...]}`: the next sends' receipts broken in that order, one kind each.
/// Exactly one of `kind` and `kinds`; `count: 0` or `kinds: []` disarms.
async fn break_receipts(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let single = opt_str(&body, "kind")?;
    let list = body.get("kinds").filter(|k| !k.is_null());
    match (single, list) {
        (Some(_), Some(_)) => Err(ApiError::bad_request(
            "give either `kind` (with `count`) or `kinds` (a list), not both",
        )),
        (None, None) => Err(ApiError::bad_request(
            "missing field `kind` (or `kinds`, a list of kinds)",
        )),
        (Some(name), None) => {
            let count = opt_u64(&body, "count")?.unwrap_or(1);
            let fault = receipt_fault("kind", name)?;
            state.lock().faults.break_receipts(count, fault);
            Ok(ok(
                json!({"ok": true, "count": count, "kind": fault.name()}),
            ))
        }
        (None, Some(kinds)) => {
            if body.get("count").is_some_and(|c| !c.is_null()) {
                return Err(ApiError::bad_request(
                    "`count` goes with `kind`: with `kinds`, each listed kind breaks one receipt",
                ));
            }
            let Value::Array(kinds) = kinds else {
                return Err(ApiError::bad_request(format!(
                    "`kinds` must be a list of {KIND_NAMES}, not {}",
                    kind(kinds)
                )));
            };
            if kinds.len() > MAX_RECEIPT_KINDS {
                return Err(ApiError::bad_request(format!(
                    "`kinds` may list at most {MAX_RECEIPT_KINDS} kinds"
                )));
            }
            let faults = kinds
                .iter()
                .enumerate()
                .map(|(i, value)| match value {
                    Value::String(name) => receipt_fault(&format!("kinds[{i}]"), name),
                    other => Err(ApiError::bad_request(format!(
                        "`kinds[{i}]` must be {KIND_NAMES}, not {}",
                        kind(other)
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            state.lock().faults.break_receipts_in_turn(&faults);
            let names: Vec<&str> = faults.iter().map(|f| f.name()).collect();
            Ok(ok(
                json!({"ok": true, "count": faults.len(), "kinds": names}),
            ))
        }
    }
}

/// The receipt faults `break-receipts` knows, as its errors name them.
const KIND_NAMES: &str = "\"html\", \"wrong_id\" or \"missing_session\"";

fn receipt_fault(field: &str, name: &str) -> Result<ReceiptFault, ApiError> {
    ReceiptFault::parse(name).ok_or_else(|| {
        ApiError::bad_request(format!("`{field}` must be {KIND_NAMES}, not {name:?}"))
    })
}

/// `{"ms"}`: delay every chat POST answer; 0 clears.
async fn delay(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let ms = required(opt_u64(&body, "ms")?, "ms")?;
    let delay = Duration::from_millis(ms);
    if delay > MAX_DELAY {
        return Err(ApiError::bad_request(format!(
            "`ms` must be at most {}",
            MAX_DELAY.as_millis()
        )));
    }
    state.lock().faults.delay = delay;
    Ok(ok(json!({"ok": true, "ms": ms})))
}

/// `{"enabled"}`: applies to existing streams at their next tick.
async fn heartbeats(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let enabled = required(opt_bool(&body, "enabled")?, "enabled")?;
    state.lock().faults.heartbeats = enabled;
    Ok(ok(json!({"ok": true, "enabled": enabled})))
}

/// `{"connectionId"?}`: silence one connection's stream, or every known one: it stays
/// open and known (its POSTs are answered), but carries nothing more, no events, no
/// heartbeats, no probe echoes: a stream dead on the way that nobody closed.
async fn silence_streams(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let only = opt_str(&body, "connectionId")?;
    let mut inner = state.lock();
    if let Some(id) = only.filter(|id| !inner.is_known(id)) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_connection",
            format!("no known connection {id:?} to silence"),
        ));
    }
    let silenced = inner.silence(only);
    Ok(ok(json!({"ok": true, "silenced": silenced})))
}

/// `{"count"?: 1}`: the next `count` probes are answered 200 but not echoed; 0 disarms.
async fn swallow_probes(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let count = opt_u64(&body, "count")?.unwrap_or(1);
    state.lock().faults.swallow_probes(count);
    Ok(ok(json!({"ok": true, "count": count})))
}

/// `{"count"}`: later reconnects also replay this many events at or before lastSeq.
async fn replay_overlap(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let count = required(opt_u64(&body, "count")?, "count")?;
    state.lock().faults.replay_overlap = count;
    Ok(ok(json!({"ok": true, "count": count})))
}

/// `{"count"}`: the next `count` appended events are stored but not sent live (a
/// client with acknowledged application sees the gap; a replay brings them).
async fn drop_events(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let count = required(opt_u64(&body, "count")?, "count")?;
    state.lock().applied.drop_live = count;
    Ok(ok(json!({"ok": true, "count": count})))
}

/// `{"enabled"}`: answer each reconnect that supports an applied cursor with a
/// `session_reconnect_snapshot` offer per session behind, instead of its replay.
async fn offer_snapshots(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let enabled = required(opt_bool(&body, "enabled")?, "enabled")?;
    state.lock().applied.offer_snapshots = enabled;
    Ok(ok(json!({"ok": true, "enabled": enabled})))
}

/// `{"enabled"}`: answer snapshot acknowledgements `{ ok: true }`, without `applied`.
async fn break_snapshots(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let enabled = required(opt_bool(&body, "enabled")?, "enabled")?;
    state.lock().applied.break_snapshots = enabled;
    Ok(ok(json!({"ok": true, "enabled": enabled})))
}

/// `{"sessionId", "count"?: 1, "type"?: "block_delta", "fields"?: {...}}`: append
/// events to a session (delivered to its watchers); `fields` are merged into each.
async fn emit(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let session_id = required(opt_str(&body, "sessionId")?, "sessionId")?;
    check_id("sessionId", session_id)?;
    let count = opt_u64(&body, "count")?.unwrap_or(1);
    if count > MAX_EVENTS_PER_SESSION as u64 {
        return Err(ApiError::bad_request(format!(
            "`count` must be at most {MAX_EVENTS_PER_SESSION}"
        )));
    }
    let kind_name = opt_str(&body, "type")?.unwrap_or("block_delta");
    let fields = match body.get("fields") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(fields)) => fields.clone(),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "`fields` must be an object, not {}",
                kind(other)
            )))
        }
    };
    let mut inner = state.lock();
    let mut first = None;
    let mut last = 0;
    for i in 0..count {
        let mut event = fields.clone();
        event.insert("type".into(), json!(kind_name));
        if kind_name == "block_delta" && !event.contains_key("delta") {
            event.insert("delta".into(), json!(format!("emitted {} ", i + 1)));
        }
        last = inner.append(session_id, event);
        first.get_or_insert(last);
    }
    Ok(ok(
        json!({"ok": true, "sessionId": session_id, "firstSeq": first, "lastSeq": last}),
    ))
}

/// `{"data", "connectionId"?}`: write `data` verbatim as an unnamed event on known
/// streams (or one), stored nowhere, so tests can feed a client malformed events.
async fn emit_raw(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let data = required(opt_str(&body, "data")?, "data")?;
    let only = opt_str(&body, "connectionId")?;
    let frame = Frame::Event {
        id: None,
        data: data.into(),
    };
    let sent = state.lock().broadcast(only, frame);
    Ok(ok(json!({"ok": true, "streams": sent})))
}

/// `{"enabled"?, "deltas"?, "delayMs"?}`: reconfigure the agent until the next reset.
async fn agent(State(state): State<AppState>, headers: HeaderMap, raw: Body) -> Answer {
    let body = body(&headers, raw).await?;
    let enabled = opt_bool(&body, "enabled")?;
    let deltas = opt_u64(&body, "deltas")?;
    let delay_ms = opt_u64(&body, "delayMs")?;
    if deltas.is_some_and(|d| d > MAX_DELTAS as u64) {
        return Err(ApiError::bad_request(format!(
            "`deltas` must be at most {MAX_DELTAS}"
        )));
    }
    if delay_ms.is_some_and(|ms| Duration::from_millis(ms) > MAX_DELAY) {
        return Err(ApiError::bad_request(format!(
            "`delayMs` must be at most {}",
            MAX_DELAY.as_millis()
        )));
    }
    let mut inner = state.lock();
    let agent = &mut inner.agent;
    if let Some(enabled) = enabled {
        agent.enabled = enabled;
    }
    if let Some(deltas) = deltas {
        agent.deltas = deltas as usize;
    }
    if let Some(ms) = delay_ms {
        agent.delay = Duration::from_millis(ms);
    }
    let answer = json!({
        "ok": true,
        "enabled": agent.enabled,
        "deltas": agent.deltas,
        "delayMs": agent.delay.as_millis() as u64,
    });
    Ok(ok(answer))
}

/// Clears the event store, accepted lists, log, faults and agent settings. Open
/// streams stay, so a test page's live connection survives another test's reset.
async fn reset(State(state): State<AppState>) -> Answer {
    let agent = state.options().agent.clone();
    state.lock().reset(agent);
    Ok(ok(json!({"ok": true})))
}

/// `?sessionId=S` → `{"sessionId", "accepted": [clientMsgIds in order], "lastSeq"}`.
async fn accepted(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let session_id = query
        .get("sessionId")
        .ok_or_else(|| ApiError::bad_request("missing query parameter `sessionId`"))?;
    let inner = state.lock();
    let session = inner.sessions.get(session_id.as_str());
    let list: Vec<&str> = session.map(|s| s.accepted().collect()).unwrap_or_default();
    let last_seq = session.map_or(0, |s| s.last_seq);
    Ok(ok(
        json!({"sessionId": session_id, "accepted": list, "lastSeq": last_seq}),
    ))
}

/// Every chat POST so far, in order, and how many streams were opened.
async fn log(State(state): State<AppState>) -> Answer {
    Ok(ok(state.lock().log_json()))
}

async fn state(State(state): State<AppState>) -> Answer {
    let inner = state.lock();
    let agent = &inner.agent;
    let answer = json!({
        "connections": inner.known_ids().len(),
        "connectionIds": inner.known_ids(),
        "openStreams": inner.streams.len(),
        "streamsOpened": inner.streams_opened,
        "heartbeats": inner.faults.heartbeats,
        "heartbeatMs": state.options().heartbeat.as_millis() as u64,
        "untiedSends": state.options().untied_sends,
        "sessions": inner.sessions.len(),
        "storedEvents": inner.total_events(),
        "faults": inner.faults.describe(),
        "applied": inner.applied.describe(),
        "agent": {
            "enabled": agent.enabled,
            "deltas": agent.deltas,
            "delayMs": agent.delay.as_millis() as u64,
        },
    });
    Ok(ok(answer))
}
