//! `--untied-sends`: a `send` that names itself and an unknown connection is processed
//! as one without `X-Connection-ID`, as by a server whose `/send` is not tied to a
//! stream; everything else about unknown connections is unchanged.

mod common;

use common::{test_options, Reply, Server};
use hyper::StatusCode;
use serde_json::{json, Value};

async fn untied() -> Server {
    let mut options = test_options();
    options.untied_sends = true;
    Server::with(options).await
}

fn prompt(id: &str, session: &str, text: &str) -> Value {
    json!({"type": "send", "clientMsgId": id, "sessionId": session, "prompt": text})
}

/// A connection id the server never gave out.
const MADE_UP: &str = "0123456789abcdef0123456789abcdef";

async fn send(server: &Server, connection_id: &str, body: Value) -> Reply {
    server.chat("send", connection_id, body).await
}

#[tokio::test]
async fn a_send_naming_an_unknown_connection_is_accepted_and_logged_as_sent() {
    let server = untied().await;
    assert_eq!(
        server.get_json("/api/test/state").await["untiedSends"],
        true
    );

    let reply = send(&server, MADE_UP, prompt("m1", "s", "made up")).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"ok": true, "duplicate": false, "accepted": true, "clientMsgId": "m1", "sessionId": "s"})
    );
    let accepted = server.get_json("/api/test/accepted?sessionId=s").await;
    assert_eq!(accepted["accepted"], json!(["m1"]));
    assert_eq!(
        accepted["lastSeq"], 5,
        "the agent answered into the session"
    );
    let log = server.get_json("/api/test/log").await;
    assert_eq!(
        log["posts"][0]["connectionId"], MADE_UP,
        "the header as sent"
    );
    assert_eq!(log["posts"][0]["status"], 200);
    // Tied to nothing: a stream that comes later has it replayed.
    let (mut stream, id) = server.connect().await;
    let replay = server
        .chat(
            "reconnect",
            &id,
            json!({"type": "reconnect", "sessions": [{"sessionId": "s", "lastSeq": 0}]}),
        )
        .await;
    assert_eq!(replay.json()["replayed"], 5);
    assert_eq!(stream.next().await.json()["clientMsgId"], "m1");
}

#[tokio::test]
async fn forgotten_and_pre_restart_connections_are_accepted_too_and_repeats_deduplicated() {
    let server = untied().await;
    let (_stream, forgotten) = server.connect().await;
    server
        .control("forget", json!({"connectionId": forgotten}))
        .await;
    let first = send(&server, &forgotten, prompt("m1", "s", "x")).await;
    let (_old, before_restart) = server.connect().await;
    server.control("restart", json!({})).await;

    let again = send(&server, &before_restart, prompt("m1", "s", "x")).await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.json()["duplicate"], false);
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json()["duplicate"], true);
    let accepted = server.get_json("/api/test/accepted?sessionId=s").await;
    assert_eq!(accepted["accepted"], json!(["m1"]));
}

#[tokio::test]
async fn a_known_connection_still_watches_the_session_it_sends_to() {
    let server = untied().await;
    let (mut stream, id) = server.connect().await;

    server.send_ok(&id, "s", "m1", "tied").await;

    let echo = stream.next().await.json();
    assert_eq!(
        (echo["type"].clone(), echo["clientMsgId"].clone()),
        (json!("user_message"), json!("m1"))
    );
}

#[tokio::test]
async fn everything_else_naming_an_unknown_connection_is_still_stale() {
    let server = untied().await;
    let nameless = send(
        &server,
        MADE_UP,
        json!({"type": "send", "sessionId": "s", "prompt": "who am I"}),
    )
    .await;
    let watch = server
        .chat("watch", MADE_UP, json!({"type": "watch", "sessionId": "s"}))
        .await;
    let reconnect = server
        .chat(
            "reconnect",
            MADE_UP,
            json!({"type": "reconnect", "sessions": [{"sessionId": "s", "lastSeq": 0}]}),
        )
        .await;

    for (what, reply) in [
        ("a send without clientMsgId", nameless),
        ("watch", watch),
        ("reconnect", reconnect),
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{what}");
        assert_eq!(reply.json()["code"], "unknown_connection", "{what}");
    }
    let accepted = server.get_json("/api/test/accepted?sessionId=s").await;
    assert_eq!(accepted["lastSeq"], 0, "nothing processed");
}

#[tokio::test]
async fn without_the_flag_a_send_naming_an_unknown_connection_is_404() {
    let server = Server::start().await;
    assert_eq!(
        server.get_json("/api/test/state").await["untiedSends"],
        false
    );

    let reply = send(&server, MADE_UP, prompt("m1", "s", "made up")).await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["code"], "unknown_connection");
    assert_eq!(
        server.get_json("/api/test/accepted?sessionId=s").await["accepted"],
        json!([])
    );
}
