//! Authentication (docs/protocol.md, "Authentication"): the check URL, and the test
//! control that expires authentication and restores it.

mod common;

use common::Server;
use hyper::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_check_answers_200_while_authentication_holds() {
    let server = Server::start().await;

    let reply = server.get("/api/auth/check").await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["ok"], true);
}

#[tokio::test]
async fn expiring_tells_open_streams_and_refuses_the_check_posts_and_new_streams() {
    let server = Server::start().await;
    let (mut stream, id) = server.connect().await;

    let expired = server.control("expire-auth", json!({})).await;

    assert_eq!(expired["streams"], 1);
    assert_eq!(
        stream.next_non_heartbeat().await.json()["type"],
        "auth_expired"
    );
    let check = server.get("/api/auth/check").await;
    assert_eq!(check.status, StatusCode::UNAUTHORIZED);
    assert_eq!(check.json()["code"], "auth_expired");
    let send = server
        .chat(
            "send",
            &id,
            json!({"type": "send", "sessionId": "s1", "prompt": "hi"}),
        )
        .await;
    assert_eq!(send.status, StatusCode::UNAUTHORIZED, "{}", send.text());
    let events = server.get("/api/chat/events").await;
    assert_eq!(events.status, StatusCode::UNAUTHORIZED);
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["faults"]["authExpired"], true);
    let log = server.get_json("/api/test/log").await;
    assert_eq!(log["posts"][0]["status"], 401, "refused POSTs are logged");
}

#[tokio::test]
async fn restoring_lets_everything_through_again() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    server.control("expire-auth", json!({})).await;

    server.control("restore-auth", json!({})).await;

    assert_eq!(server.get("/api/auth/check").await.status, StatusCode::OK);
    server.send_ok(&id, "s1", "m1", "hello again").await;
    let (_fresh, _) = server.connect().await;
}

#[tokio::test]
async fn a_reset_restores_authentication_too() {
    let server = Server::start().await;
    server.control("expire-auth", json!({})).await;

    server.control("reset", json!({})).await;

    assert_eq!(server.get("/api/auth/check").await.status, StatusCode::OK);
}
