//! The POSTs: every message, reconnect, suspend and foreground probe goes up as
//! `fetch(url, init)` with the existing client's init (`method`, `headers`, `body`;
//! `keepalive` when the page is going away, and an `AbortController`'s `signal` with
//! `postTimeoutMs`), and its answer is reported as an `Input`; the suspend beacon is `navigator.sendBeacon`.
//!
//! `fetch` is the app's `config.fetch` when it is a function, read at each POST (the
//! app may replace it, to add auth headers), else the global one. What it returns is
//! read by property, never assumed to be a `Response`: the existing client's tests
//! answer with plain `{ ok, status }` objects.

use alloc::vec::Vec;

use js_sys::{Array, Function, Object, Promise, Reflect, JSON};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, Blob, BlobPropertyBag, RequestInit};

use super::boundary;
use super::input::{Input, Inputs};
use super::js;
use super::receipt;
use crate::core::{PostId, PostOutcome, SessionSeq};

/// One POST to make.
pub struct PostRequest<'a> {
    pub id: PostId,
    /// The endpoint's path under `{baseUrl}/api/chat/`.
    pub path: &'a str,
    /// `X-Connection-ID`, when a connection is known (a prompt may go without one).
    pub connection_id: Option<&'a str>,
    /// The JSON body, a JS string.
    pub body: JsValue,
    /// The page is going away: the request must outlive it.
    pub keepalive: bool,
    /// What a 2xx answer's body is read for.
    pub read: ReadBody,
}

/// Whether, and for what, the body of a 2xx answer is read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ReadBody {
    /// Not at all: the status is the answer.
    Nothing,
    /// A prompt under `receipts`: its receipt, reported as `Input::PostReceipt`.
    Receipt,
    /// A `reconnect-snapshot-applied` POST: `{ applied: true }`, reported as
    /// `Input::SnapshotAnswer`.
    Applied,
}

/// The AbortControllers of the POSTs in flight that may time out (`postTimeoutMs`).
#[derive(Default)]
pub struct Aborters(Vec<(PostId, AbortController)>);

impl Aborters {
    pub fn keep(&mut self, id: PostId, controller: AbortController) {
        self.0.push((id, controller));
    }

    /// POST `id`'s controller, which it no longer needs kept (to abort it, or because
    /// it was answered).
    pub fn take(&mut self, id: PostId) -> Option<AbortController> {
        let index = self.0.iter().position(|(post, _)| *post == id)?;
        Some(self.0.swap_remove(index).1)
    }
}

/// A POST made ready: its init, and its AbortController when POSTs time out (for the
/// shell to keep before the app's fetch runs: the app may disconnect, aborting it).
pub struct Prepared {
    init: RequestInit,
    pub aborter: Option<AbortController>,
}

/// The init of `request`: `method`, `headers`, `body`; `keepalive` when the page is going
/// away; an AbortController's `signal` when `times_out`.
pub fn prepare(request: &PostRequest, times_out: bool) -> Prepared {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers(request.connection_id));
    init.set_body(&request.body);
    // Only when the page is going away, so that other requests keep the existing
    // client's exact init. (web-sys's RequestInit has no `keepalive` setter.)
    if request.keepalive {
        let _ = Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    }
    let aborter = times_out.then(|| AbortController::new().ok()).flatten();
    if let Some(controller) = &aborter {
        init.set_signal(Some(&controller.signal()));
    }
    Prepared { init, aborter }
}

/// Makes the POST (`config` being the connection's copy, read now); its answer is
/// reported to `inputs` once it settles.
pub fn send(config: &JsValue, request: &PostRequest, prepared: Prepared, inputs: &Inputs) {
    let base_url = js::get(config, "baseUrl").as_string().unwrap_or_default();
    let url = [base_url.as_str(), "/api/chat/", request.path].concat();
    let answer = call_fetch(config, &url, &prepared.init);
    let post = request.id;
    let read = request.read;
    let inputs = inputs.clone();
    spawn_local(async move {
        let settled = JsFuture::from(answer).await;
        if let Ok(response) = &settled {
            if read != ReadBody::Nothing && js::get(response, "ok").as_bool() == Some(true) {
                let input = if read == ReadBody::Receipt {
                    let body = receipt::read(response).await;
                    Input::PostReceipt { post, body }
                } else {
                    let body = receipt::parsed_body(response).await;
                    let applied = body.is_some_and(|b| js::get(&b, "applied") == JsValue::TRUE);
                    Input::SnapshotAnswer { post, applied }
                };
                let _ = inputs.send(input);
                return;
            }
        }
        let outcome = outcome_of(settled);
        let _ = inputs.send(Input::PostAnswer { post, outcome });
    });
}

/// `{ "Content-Type": "application/json", "X-Connection-ID": id }` (without the id
/// when none is known): a plain object, as the existing client's tests compare it.
fn headers(connection_id: Option<&str>) -> Object {
    let headers = Object::new();
    let set = |name: &str, value: &str| Reflect::set(&headers, &name.into(), &value.into());
    let _ = set("Content-Type", "application/json");
    if let Some(connection_id) = connection_id {
        let _ = set("X-Connection-ID", connection_id);
    }
    headers
}

/// The promise of `fetch(url, init)`: the app's `config.fetch` (called on the config,
/// as the existing client does) or the global one. A fetch that is missing or throws
/// is a rejected promise (a network error), and whatever it returns is taken as a
/// promise of it.
pub fn call_fetch(config: &JsValue, url: &str, init: &RequestInit) -> Promise {
    let own = js::get(config, "fetch");
    let (fetch, this) = if own.is_function() {
        (own, config.clone())
    } else {
        let global = JsValue::from(js_sys::global());
        (js::get(&global, "fetch"), global)
    };
    let Some(fetch) = fetch.dyn_ref::<Function>() else {
        return Promise::reject(&JsValue::UNDEFINED);
    };
    js::promise_of(fetch.call2(&this, &JsValue::from_str(url), init))
}

/// How a settled fetch counts: accepted (`ok: true`), the HTTP status of an answer
/// that is not ok, or a network error (a rejection, or an answer with neither).
pub fn outcome_of(settled: Result<JsValue, JsValue>) -> PostOutcome {
    let Ok(response) = settled else {
        return PostOutcome::NetworkError;
    };
    discard_body(&response);
    if js::get(&response, "ok").as_bool() == Some(true) {
        return PostOutcome::Accepted;
    }
    match js::get(&response, "status").as_f64() {
        Some(status) if (1.0..=999.0).contains(&status) => PostOutcome::Status(status as u16),
        _ => PostOutcome::NetworkError,
    }
}

/// Cancels the answer's body: an unread body holds its connection (Chromium fails every
/// request after about 16k of them). A cancel that fails is of no interest.
fn discard_body(response: &JsValue) {
    let body = js::get(response, "body");
    let Ok(cancel) = js::get(&body, "cancel").dyn_into::<Function>() else {
        return;
    };
    if let Ok(cancelled) = cancel.call0(&body) {
        spawn_local(async move {
            let _ = JsFuture::from(Promise::resolve(&cancelled)).await;
        });
    }
}

/// A reconnect or suspend POST's body: `{"type": kind, "sessions": [{"sessionId",
/// "lastSeq"}]}`, keys in the existing client's order (its tests compare the string);
/// with `applied_cursor` (`acknowledgeEvents`: each `lastSeq` is the applied cursor)
/// also `"supportsAppliedCursor": true`.
pub fn sessions_body(kind: &str, sessions: &[SessionSeq], applied_cursor: bool) -> JsValue {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct SessionsBody<'a> {
        r#type: &'a str,
        sessions: &'a [SessionSeq],
        #[serde(skip_serializing_if = "core::ops::Not::not")]
        supports_applied_cursor: bool,
    }
    json(&SessionsBody {
        r#type: kind,
        sessions,
        supports_applied_cursor: applied_cursor,
    })
}

/// An acknowledgement's body: `{"type": "session_event_applied", "sessionId", "seq"}`.
pub fn applied_body(session_id: &str, seq: u64) -> JsValue {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct AppliedBody<'a> {
        r#type: &'a str,
        session_id: &'a str,
        seq: u64,
    }
    json(&AppliedBody {
        r#type: "session_event_applied",
        session_id,
        seq,
    })
}

/// A snapshot's acknowledgement: `{"type": "reconnect_snapshot_applied", "sessionId",
/// "cursor", "offerId"?}`.
pub fn snapshot_applied_body(session_id: &str, cursor: u64, offer_id: Option<&str>) -> JsValue {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct SnapshotAppliedBody<'a> {
        r#type: &'a str,
        session_id: &'a str,
        cursor: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        offer_id: Option<&'a str>,
    }
    json(&SnapshotAppliedBody {
        r#type: "reconnect_snapshot_applied",
        session_id,
        cursor,
        offer_id,
    })
}

/// The foreground probe's path under `{baseUrl}/api/chat/` (`foregroundProbe`).
pub const PROBE_PATH: &str = "probe";

/// The foreground probe's body: `{"nonce": nonce}`, which the server echoes down the
/// stream as `{"type": "_probe", "nonce": nonce}`.
pub fn probe_body(nonce: &str) -> JsValue {
    #[derive(Serialize)]
    struct ProbeBody<'a> {
        nonce: &'a str,
    }
    json(&ProbeBody { nonce })
}

/// `navigator.sendBeacon(config.suspendUrl, blob of { connectionId, sessions })`, when
/// there is a `suspendUrl` (read now from the connection's `config`) and a `sendBeacon`.
pub fn send_beacon(config: &JsValue, connection_id: &str, sessions: &[SessionSeq]) {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct BeaconBody<'a> {
        connection_id: &'a str,
        sessions: &'a [SessionSeq],
    }
    let url = js::get(config, "suspendUrl")
        .as_string()
        .unwrap_or_default();
    let navigator = js::get(&js_sys::global(), "navigator");
    let Ok(send) = js::get(&navigator, "sendBeacon").dyn_into::<Function>() else {
        return;
    };
    if url.is_empty() {
        return;
    }
    let payload = json(&BeaconBody {
        connection_id,
        sessions,
    });
    let options = BlobPropertyBag::new();
    options.set_type("application/json");
    let Ok(blob) = Blob::new_with_str_sequence_and_options(&Array::of1(&payload), &options) else {
        return;
    };
    let _ = send.call2(&navigator, &JsValue::from_str(&url), &blob);
}

/// `value` as a JSON string (a JS string), or undefined should it not serialise.
fn json<T: Serialize>(value: &T) -> JsValue {
    boundary::to_js(value)
        .ok()
        .and_then(|object| JSON::stringify(&object).ok())
        .map_or(JsValue::UNDEFINED, JsValue::from)
}
