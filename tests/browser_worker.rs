//! `Connection` inside a dedicated Web Worker: no `window`, no `document`, only
//! `globalThis`. The seed's stale-connection case must recover there too.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::client::{send_body, Client};
use browser_support::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen_test]
async fn in_a_worker_a_send_on_a_forgotten_connection_is_delivered_once() {
    assert!(
        web_sys::window().is_none(),
        "this test must run in a worker"
    );
    let session = unique_session("worker");
    let client = Client::connected().await;
    let stale_id = client.make_stale().await;

    assert!(client.send(&send_body(&session, "w-1")));
    client.wait_reports(1).await;

    assert_eq!(client.reports.borrow()[0].status, "delivered");
    assert_eq!(accepted(&session).await, vec!["w-1"]);
    assert_ne!(client.id(), stale_id);
}
