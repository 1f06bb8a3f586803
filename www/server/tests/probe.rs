//! The foreground liveness probe (docs/protocol.md, "The foreground probe"): a probe is
//! answered and echoed down its connection's stream, and the two faults that make a
//! stream look alive while it is not: `swallow-probes` and `silence-streams`.

mod common;

use std::time::Duration;

use common::{test_options, Server};
use hyper::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_probe_is_answered_and_echoed_on_its_own_connections_stream_only() {
    let server = Server::start().await;
    let (mut mine, id) = server.connect().await;
    let (mut other, _) = server.connect().await;
    let reply = server.chat("probe", &id, json!({"nonce": "00ff"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json(), json!({"ok": true, "echoed": true}));
    let echo = mine.next_non_heartbeat().await;
    assert_eq!(echo.json(), json!({"type": "_probe", "nonce": "00ff"}));
    other.expect_silent(Duration::from_millis(150)).await;
    let posts = server.get_json("/api/test/log").await["posts"].clone();
    assert_eq!(posts[0]["endpoint"], "probe");
    assert_eq!(posts[0]["connectionId"], json!(id));
    assert!(posts[0].get("echoSwallowed").is_none());
}

#[tokio::test]
async fn a_probe_needs_a_known_connection_and_a_nonce() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let unknown = server.chat("probe", "nobody", json!({"nonce": "1"})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["code"], "unknown_connection");
    for (body, says) in [
        (json!({}), "missing field `nonce`"),
        (json!({"nonce": 7}), "`nonce` must be a string"),
        (json!({"nonce": ""}), "`nonce` must not be empty"),
        (
            json!({"type": "send", "nonce": "1"}),
            "does not belong on /api/chat/probe",
        ),
    ] {
        let reply = server.chat("probe", &id, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(reply.error().contains(says), "{body}: {}", reply.error());
    }
    let typed = server
        .chat("probe", &id, json!({"type": "probe", "nonce": "1"}))
        .await;
    assert_eq!(typed.status, StatusCode::OK);
}

#[tokio::test]
async fn swallow_probes_answers_the_next_probes_without_their_echo() {
    let server = Server::start().await;
    let (mut stream, id) = server.connect().await;
    let armed = server.control("swallow-probes", json!({"count": 1})).await;
    assert_eq!(armed, json!({"ok": true, "count": 1}));
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["faults"]["swallowProbes"], 1);
    let swallowed = server.chat("probe", &id, json!({"nonce": "a"})).await;
    assert_eq!(swallowed.status, StatusCode::OK);
    assert_eq!(swallowed.json()["echoed"], false);
    stream.expect_silent(Duration::from_millis(150)).await;
    server.chat("probe", &id, json!({"nonce": "b"})).await;
    assert_eq!(stream.next_non_heartbeat().await.json()["nonce"], "b");
    let posts = server.get_json("/api/test/log").await["posts"].clone();
    assert_eq!(posts[0]["echoSwallowed"], true);
    assert!(posts[1].get("echoSwallowed").is_none());
}

#[tokio::test]
async fn a_silenced_stream_stays_open_and_known_but_carries_nothing() {
    let mut options = test_options();
    options.heartbeat = Duration::from_millis(30);
    let server = Server::with(options).await;
    let (mut silent, id) = server.connect().await;
    let (mut live, other) = server.connect().await;
    server
        .chat("watch", &id, json!({"type": "watch", "sessionId": "s"}))
        .await;
    server
        .chat("watch", &other, json!({"type": "watch", "sessionId": "s"}))
        .await;
    let answer = server
        .control("silence-streams", json!({"connectionId": id}))
        .await;
    assert_eq!(answer, json!({"ok": true, "silenced": 1}));
    // Its POSTs are still answered: only the stream is dead.
    let probe = server.chat("probe", &id, json!({"nonce": "n"})).await;
    assert_eq!(probe.status, StatusCode::OK);
    server.control("emit", json!({"sessionId": "s"})).await;
    silent.expect_silent(Duration::from_millis(200)).await;
    assert_eq!(live.next_non_heartbeat().await.json()["sessionId"], "s");
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["connections"], 2);
    assert_eq!(state["openStreams"], 2);
    // What it missed is in the store: a new connection's reconnect replays it.
    let (mut fresh, new_id) = server.connect().await;
    let replay = server
        .chat(
            "reconnect",
            &new_id,
            json!({"sessions": [{"sessionId": "s", "lastSeq": 0}]}),
        )
        .await;
    assert_eq!(replay.json()["replayed"], 1);
    assert_eq!(fresh.next_non_heartbeat().await.json()["seq"], 1);
}

#[tokio::test]
async fn silence_streams_without_an_id_silences_every_known_one_and_an_unknown_id_is_404() {
    let server = Server::start().await;
    let (_a, _) = server.connect().await;
    let (_b, _) = server.connect().await;
    assert_eq!(
        server.control("silence-streams", json!({})).await["silenced"],
        2
    );
    let reply = server
        .request(
            "POST",
            "/api/test/silence-streams",
            &[],
            json!({"connectionId": "nobody"}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
