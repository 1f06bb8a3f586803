//! Shared helpers of the browser test suites: where the reference server is, and
//! small awaitable wrappers over EventSource and fetch.
#![allow(dead_code)]

pub mod client;

use js_sys::{Promise, Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{EventSource, MessageEvent, RequestInit, Response};

/// The reference server started by `scripts/with-server`, baked in at build time
/// because a wasm test page has no environment to read.
pub fn server_url() -> &'static str {
    match option_env!("SSE_COURIER_SERVER") {
        Some(url) => url,
        None => panic!("SSE_COURIER_SERVER is not set: run the browser tests through `make test`"),
    }
}

/// Waits for the stream's `welcome` event and returns its `connectionId`.
pub async fn welcome_connection_id(es: &EventSource) -> String {
    let event = next_event(es, "welcome").await;
    let data = event.data().as_string().expect("welcome data is a string");
    let parsed = JSON::parse(&data).expect("welcome data is JSON");
    Reflect::get(&parsed, &"connectionId".into())
        .unwrap()
        .as_string()
        .expect("welcome has a string connectionId")
}

/// Resolves with the next event of the given name on the stream.
pub async fn next_event(es: &EventSource, name: &str) -> MessageEvent {
    let promise = Promise::new(&mut |resolve, _reject| {
        let callback = Closure::once_into_js(move |event: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &event);
        });
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        es.add_event_listener_with_callback_and_add_event_listener_options(
            name,
            callback.unchecked_ref(),
            &options,
        )
        .unwrap();
    });
    JsFuture::from(promise).await.unwrap().unchecked_into()
}

/// POSTs a JSON body to `/api/chat/{endpoint}` as the protocol says and returns the status.
pub async fn post(endpoint: &str, connection_id: &str, body: &str) -> u16 {
    let headers = web_sys::Headers::new().unwrap();
    headers.set("Content-Type", "application/json").unwrap();
    headers.set("X-Connection-ID", connection_id).unwrap();
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(body));
    let url = format!("{}/api/chat/{}", server_url(), endpoint);
    global_fetch(&url, &init).await.status()
}

/// `globalThis.fetch`, so the helpers work in a page and in a worker alike.
async fn global_fetch(url: &str, init: &RequestInit) -> Response {
    let fetch: js_sys::Function = Reflect::get(&js_sys::global(), &"fetch".into())
        .unwrap()
        .unchecked_into();
    let promise: Promise = fetch
        .call2(&JsValue::NULL, &JsValue::from_str(url), init)
        .unwrap()
        .unchecked_into();
    JsFuture::from(promise).await.unwrap().unchecked_into()
}

/// Resolves after `ms` milliseconds (a real timer: these tests run against a real server).
pub async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout: js_sys::Function = Reflect::get(&global, &"setTimeout".into())
            .unwrap()
            .unchecked_into();
        set_timeout
            .call2(&JsValue::NULL, &resolve, &JsValue::from(ms))
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Polls `condition` every 20 ms until it holds; panics naming `what` after `timeout_ms`.
pub async fn wait_until(what: &str, timeout_ms: i32, mut condition: impl FnMut() -> bool) {
    let mut waited = 0;
    while !condition() {
        if waited >= timeout_ms {
            panic!("timed out after {timeout_ms} ms waiting until {what}");
        }
        sleep(20).await;
        waited += 20;
    }
}

/// A request to the server's test control API (`/api/test/...`); returns the JSON answer.
pub async fn control(method: &str, path: &str, body: Option<&str>) -> JsValue {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let headers = web_sys::Headers::new().unwrap();
        headers.set("Content-Type", "application/json").unwrap();
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(body));
    }
    let url = format!("{}/api/test/{}", server_url(), path);
    let response = global_fetch(&url, &init).await;
    assert!(
        response.ok(),
        "control {method} {path} answered {}",
        response.status()
    );
    JsFuture::from(response.json().unwrap()).await.unwrap()
}

/// `value[key]` for a chain of keys.
pub fn field(value: &JsValue, keys: &[&str]) -> JsValue {
    keys.iter().fold(value.clone(), |v, k| {
        Reflect::get(&v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
    })
}

/// The clientMsgIds the server accepted for a session, in order.
pub async fn accepted(session_id: &str) -> Vec<String> {
    let answer = control("GET", &format!("accepted?sessionId={session_id}"), None).await;
    js_sys::Array::from(&field(&answer, &["accepted"]))
        .iter()
        .map(|v| v.as_string().unwrap())
        .collect()
}

/// One POST the server received, from its log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedPost {
    pub endpoint: String,
    pub connection_id: String,
    pub session_id: String,
    pub status: u16,
}

/// Every POST the server received so far, and how many streams it opened.
pub async fn server_log() -> (Vec<LoggedPost>, u32) {
    let answer = control("GET", "log", None).await;
    let posts = js_sys::Array::from(&field(&answer, &["posts"]))
        .iter()
        .map(|p| LoggedPost {
            endpoint: field(&p, &["endpoint"]).as_string().unwrap_or_default(),
            connection_id: field(&p, &["connectionId"]).as_string().unwrap_or_default(),
            session_id: field(&p, &["sessionId"]).as_string().unwrap_or_default(),
            status: field(&p, &["status"]).as_f64().unwrap_or(0.0) as u16,
        })
        .collect();
    let streams = field(&answer, &["streamsOpened"]).as_f64().unwrap_or(0.0) as u32;
    (posts, streams)
}

/// A fresh session id per test, so tests sharing one server never see each other's data.
pub fn unique_session(name: &str) -> String {
    format!("{name}-{}", (js_sys::Math::random() * 1e9) as u64)
}
