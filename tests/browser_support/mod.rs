//! Shared helpers of the browser test suites: where the reference server is, and
//! small awaitable wrappers over EventSource and fetch.
#![allow(dead_code)]

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
    let window = web_sys::window().unwrap();
    let response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .unwrap();
    response.unchecked_into::<Response>().status()
}
