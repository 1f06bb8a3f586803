//! The wire protocol against the real reference server, from a real browser page:
//! the foundation every other browser test stands on.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::{post, server_url, welcome_connection_id};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::EventSource;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn event_source_receives_welcome_with_a_connection_id() {
    let es = EventSource::new(&format!("{}/api/chat/events", server_url())).unwrap();
    let id = welcome_connection_id(&es).await;
    es.close();
    assert!(!id.is_empty(), "welcome carried an empty connectionId");
}

#[wasm_bindgen_test]
async fn post_with_the_stream_connection_id_is_accepted() {
    let es = EventSource::new(&format!("{}/api/chat/events", server_url())).unwrap();
    let id = welcome_connection_id(&es).await;
    let status = post("watch", &id, r#"{"type":"watch","sessionId":"wire-ok"}"#).await;
    es.close();
    assert_eq!(status, 200);
}

#[wasm_bindgen_test]
async fn post_with_an_unknown_connection_id_is_404() {
    let es = EventSource::new(&format!("{}/api/chat/events", server_url())).unwrap();
    let id = welcome_connection_id(&es).await;
    let status = post(
        "watch",
        "no-such-connection",
        r#"{"type":"watch","sessionId":"wire-404"}"#,
    )
    .await;
    es.close();
    assert_ne!(id, "no-such-connection");
    assert_eq!(status, 404);
}
