//! Acknowledged application, the server's side (docs/protocol.md, "Acknowledged
//! application"): `prevSessionSeq` on session events, the acknowledgement and
//! snapshot endpoints, snapshot offers on reconnect, and the faults that drop events
//! from the live stream and break snapshot acknowledgements.

mod common;

use common::Server;
use hyper::StatusCode;
use serde_json::json;

#[tokio::test]
async fn session_events_name_the_seq_they_follow() {
    let server = Server::start().await;
    let (mut stream, id) = server.connect().await;
    server.chat("watch", &id, json!({"sessionId": "s"})).await;
    server
        .control("emit", json!({"sessionId": "s", "count": 3}))
        .await;
    for seq in 1..=3u64 {
        let event = stream.next().await.json();
        assert_eq!(
            (event["seq"].as_u64(), event["prevSessionSeq"].as_u64()),
            (Some(seq), Some(seq - 1))
        );
    }
}

#[tokio::test]
async fn an_acknowledgement_moves_the_sessions_applied_cursor_forward_only() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let ack = |seq: u64| json!({"type": "session_event_applied", "sessionId": "s", "seq": seq});
    let reply = server.chat("session-event-applied", &id, ack(4)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["appliedCursor"], 4);
    let reply = server.chat("session-event-applied", &id, ack(2)).await;
    assert_eq!(reply.json()["appliedCursor"], 4);
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["applied"]["cursors"]["s"], 4);
    let bad = server
        .chat(
            "session-event-applied",
            &id,
            json!({"sessionId": "s", "seq": -1}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.error().contains("`seq`"), "{}", bad.text());
}

#[tokio::test]
async fn an_acknowledgement_can_be_refused_on_demand() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    server
        .control(
            "fail-next",
            json!({"count": 1, "status": 503, "endpoint": "session-event-applied"}),
        )
        .await;
    let body = json!({"type": "session_event_applied", "sessionId": "s", "seq": 1});
    let reply = server
        .chat("session-event-applied", &id, body.clone())
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let reply = server.chat("session-event-applied", &id, body).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn dropped_events_are_not_sent_live_but_are_replayed() {
    let server = Server::start().await;
    let (mut stream, id) = server.connect().await;
    server.chat("watch", &id, json!({"sessionId": "s"})).await;
    server.control("emit", json!({"sessionId": "s"})).await;
    assert_eq!(stream.next().await.json()["seq"], 1);
    server.control("drop-events", json!({"count": 2})).await;
    server
        .control("emit", json!({"sessionId": "s", "count": 3}))
        .await;
    let next = stream.next().await.json();
    assert_eq!(
        (next["seq"].as_u64(), next["prevSessionSeq"].as_u64()),
        (Some(4), Some(3)),
        "2 and 3 dropped"
    );
    let reconnect = json!({"type": "reconnect", "sessions": [{"sessionId": "s", "lastSeq": 1}]});
    let reply = server.chat("reconnect", &id, reconnect).await;
    assert_eq!(reply.json()["replayed"], 3);
    let seqs: Vec<u64> = [
        stream.next().await.json(),
        stream.next().await.json(),
        stream.next().await.json(),
    ]
    .iter()
    .map(|e| e["seq"].as_u64().unwrap())
    .collect();
    assert_eq!(seqs, [2, 3, 4]);
}

#[tokio::test]
async fn a_reconnect_that_supports_an_applied_cursor_is_offered_a_snapshot_on_demand() {
    let server = Server::start().await;
    let (mut stream, id) = server.connect().await;
    server.chat("watch", &id, json!({"sessionId": "s"})).await;
    server
        .control("emit", json!({"sessionId": "s", "count": 5}))
        .await;
    for _ in 0..5 {
        stream.next().await;
    }
    server
        .control("offer-snapshots", json!({"enabled": true}))
        .await;
    let reconnect = |applied: bool| {
        let mut body = json!({"type": "reconnect", "sessions": [{"sessionId": "s", "lastSeq": 2}]});
        if applied {
            body["supportsAppliedCursor"] = json!(true);
        }
        body
    };
    let plain = server.chat("reconnect", &id, reconnect(false)).await.json();
    assert_eq!(
        (plain["replayed"].as_u64(), plain["offered"].as_u64()),
        (Some(3), Some(0))
    );
    for _ in 0..3 {
        stream.next().await;
    }
    let offered = server.chat("reconnect", &id, reconnect(true)).await.json();
    assert_eq!(offered["offered"], 1);
    let offer = stream.next().await.json();
    assert_eq!(offer["type"], "session_reconnect_snapshot");
    assert_eq!(
        (offer["sessionId"].as_str(), offer["cursor"].as_u64()),
        (Some("s"), Some(5))
    );
    let offer_id = offer["offerId"].as_str().unwrap().to_string();

    let ack = |cursor: u64, offer: &str| json!({"type": "reconnect_snapshot_applied", "sessionId": "s", "cursor": cursor, "offerId": offer});
    let wrong = server
        .chat("reconnect-snapshot-applied", &id, ack(4, &offer_id))
        .await;
    assert_eq!(wrong.json(), json!({"ok": true, "applied": false}));
    server
        .control("break-snapshots", json!({"enabled": true}))
        .await;
    let broken = server
        .chat("reconnect-snapshot-applied", &id, ack(5, &offer_id))
        .await;
    assert_eq!(broken.json(), json!({"ok": true}), "no `applied`");
    server
        .control("break-snapshots", json!({"enabled": false}))
        .await;
    let right = server
        .chat("reconnect-snapshot-applied", &id, ack(5, &offer_id))
        .await;
    assert_eq!(right.json(), json!({"ok": true, "applied": true}));
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["applied"]["cursors"]["s"], 5);
}
