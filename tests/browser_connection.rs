//! `Connection` in a real browser against the real reference server, with faults the
//! tests inject over HTTP: the delivery promise as a user meets it.
#![cfg(target_arch = "wasm32")]

mod browser_support;

use browser_support::client::{send_body, Client, WAIT_MS};
use browser_support::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn send_on_a_silently_forgotten_connection_is_delivered_once_on_a_fresh_one() {
    let session = unique_session("stale");
    let client = Client::connected().await;
    let stale_id = client.make_stale().await;

    assert!(client.send(&send_body(&session, "m-1")));
    client.wait_reports(1).await;

    {
        let reports = client.reports.borrow();
        assert_eq!(reports[0].status, "delivered");
        assert_eq!(reports[0].client_msg_id.as_deref(), Some("m-1"));
        assert_eq!(reports[0].reason, None);
    }
    assert_eq!(accepted(&session).await, vec!["m-1"]);
    assert_ne!(
        client.id(),
        stale_id,
        "the message went out on a fresh connection"
    );
    let (posts, _) = server_log().await;
    let sends: Vec<_> = posts
        .iter()
        .filter(|p| p.endpoint == "send" && p.session_id == session)
        .map(|p| (p.status, p.connection_id == stale_id))
        .collect();
    assert_eq!(
        sends,
        vec![(404, true), (200, false)],
        "one stale attempt, then one on the fresh connection"
    );
}

#[wasm_bindgen_test]
async fn suspend_meeting_404_is_not_replayed_on_the_next_connection() {
    let session = unique_session("suspend");
    let client = Client::connected().await;
    client.conn.track_seq(&session, 1.0);
    let stale_id = client.make_stale().await;

    client.conn.send_suspend();
    wait_until("a fresh connection", WAIT_MS, || {
        client.conn.is_connected() && client.id() != stale_id
    })
    .await;
    // A send after the reconnect is a barrier: a replayed suspend would precede it.
    assert!(client.send(&send_body(&session, "barrier")));
    client.wait_reports(1).await;

    let (posts, _) = server_log().await;
    let suspends: Vec<_> = posts.iter().filter(|p| p.endpoint == "suspend").collect();
    assert_eq!(
        suspends.len(),
        1,
        "suspend was POSTed exactly once: {suspends:?}"
    );
    assert_eq!(suspends[0].status, 404);
    assert_eq!(suspends[0].connection_id, stale_id);
}

#[wasm_bindgen_test]
async fn server_error_is_retried_without_rebuilding_the_stream() {
    let session = unique_session("error500");
    let client = Client::connected().await;
    let id = client.id();
    let (_, streams_before) = server_log().await;
    control(
        "POST",
        "fail-next",
        Some(r#"{"count":1,"status":500,"endpoint":"send"}"#),
    )
    .await;

    assert!(client.send(&send_body(&session, "m-500")));
    client.wait_reports(1).await;

    assert_eq!(client.reports.borrow()[0].status, "delivered");
    assert_eq!(client.id(), id, "same connection after a 500");
    let (posts, streams_after) = server_log().await;
    assert_eq!(streams_after, streams_before, "a 500 opened no new stream");
    let statuses: Vec<u16> = posts
        .iter()
        .filter(|p| p.endpoint == "send" && p.connection_id == id)
        .map(|p| p.status)
        .collect();
    assert_eq!(statuses, vec![500, 200]);
    assert_eq!(accepted(&session).await, vec!["m-500"]);
}

#[wasm_bindgen_test]
async fn killed_stream_is_rebuilt_and_queued_sends_flush_after_the_reconnect_post() {
    let session = unique_session("killed");
    let client = Client::connected().await;
    assert!(client.send(&send_body(&session, "before")));
    client.wait_reports(1).await;
    wait_until("agent events tracked", WAIT_MS, || {
        client.conn.get_last_seq(&session) > 0.0
    })
    .await;
    let old_id = client.id();

    control("POST", "kill-streams", None).await;
    wait_until("the stream error is noticed", WAIT_MS, || {
        !client.conn.is_connected()
    })
    .await;
    assert!(
        client.send(&send_body(&session, "during")),
        "queued while reconnecting"
    );
    client.wait_reports(2).await;

    assert_eq!(client.reports.borrow()[1].status, "delivered");
    assert_eq!(accepted(&session).await, vec!["before", "during"]);
    let new_id = client.id();
    assert_ne!(new_id, old_id);
    let (posts, _) = server_log().await;
    let on_new: Vec<&str> = posts
        .iter()
        .filter(|p| p.connection_id == new_id)
        .map(|p| p.endpoint.as_str())
        .collect();
    assert_eq!(
        on_new.first().copied(),
        Some("reconnect"),
        "reconnect POST came first: {on_new:?}"
    );
    assert!(on_new.contains(&"send"));
}

#[wasm_bindgen_test]
async fn tracked_seqs_survive_a_reconnect_and_replayed_events_are_dispatched_once() {
    let session = unique_session("replay");
    let client = Client::connected().await;
    // The connection watches the session once it sends to it.
    assert!(client.send(&send_body(&session, "hello")));
    client.wait_reports(1).await;
    let emitted = control(
        "POST",
        "emit",
        Some(&format!(r#"{{"sessionId":"{session}","count":4}}"#)),
    )
    .await;
    let last = field(&emitted, &["lastSeq"]).as_f64().unwrap();
    wait_until("emitted events arrive", WAIT_MS, || {
        client.conn.get_last_seq(&session) >= last
    })
    .await;

    control("POST", "replay-overlap", Some(r#"{"count":3}"#)).await;
    control("POST", "kill-streams", None).await;
    wait_until("the stream error is noticed", WAIT_MS, || {
        !client.conn.is_connected()
    })
    .await;
    client.wait_connected().await;
    let more = control(
        "POST",
        "emit",
        Some(&format!(r#"{{"sessionId":"{session}","count":2}}"#)),
    )
    .await;
    let newest = field(&more, &["lastSeq"]).as_f64().unwrap();
    wait_until("post-reconnect events arrive", WAIT_MS, || {
        client.conn.get_last_seq(&session) >= newest
    })
    .await;
    control("POST", "replay-overlap", Some(r#"{"count":0}"#)).await;

    let seqs = client.seqs_of(&session);
    let mut deduped = seqs.clone();
    deduped.dedup();
    assert_eq!(seqs, deduped, "no event dispatched twice");
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seqs strictly increase: {seqs:?}"
    );
    assert_eq!(seqs.last().copied(), Some(newest as u64));
}
