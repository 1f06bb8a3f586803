//! Authentication, as far as the client's latch needs it (docs/protocol.md,
//! "Authentication"): `GET /api/auth/check` answers 200 while authentication holds and
//! 401 once a test expired it. `POST /api/test/expire-auth` expires it: every open
//! stream gets `{"type":"auth_expired"}`, and until `POST /api/test/restore-auth` (or
//! `reset`) chat POSTs and new streams are refused with 401 `auth_expired`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{ok, ApiError};
use crate::state::{AppState, Frame};

/// The event an open stream gets when authentication expires.
const AUTH_EXPIRED_EVENT: &str = r#"{"type":"auth_expired"}"#;

/// The answer to anything authentication guards while it is expired.
pub(crate) fn expired() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "auth_expired",
        "authentication expired (POST /api/test/restore-auth)",
    )
}

/// 401 while authentication is expired: the gate of chat POSTs and new streams.
pub(crate) fn require(state: &AppState) -> Result<(), ApiError> {
    if state.lock().faults.auth_expired {
        return Err(expired());
    }
    Ok(())
}

/// `GET /api/auth/check`.
pub(crate) async fn check(State(state): State<AppState>) -> Response {
    match require(&state) {
        Ok(()) => ok(json!({"ok": true})),
        Err(error) => error.into_response(),
    }
}

/// `POST /api/test/expire-auth`: expired, and every open stream told.
pub(crate) async fn expire(State(state): State<AppState>) -> Response {
    let mut inner = state.lock();
    inner.faults.auth_expired = true;
    let frame = Frame::Event {
        id: None,
        data: AUTH_EXPIRED_EVENT.into(),
    };
    let streams = inner.broadcast(None, frame);
    ok(json!({"ok": true, "streams": streams}))
}

/// `POST /api/test/restore-auth`.
pub(crate) async fn restore(State(state): State<AppState>) -> Response {
    state.lock().faults.auth_expired = false;
    ok(json!({"ok": true}))
}
