//! Bad client input gets a 4xx naming what is wrong, never a panic or a 5xx, and the
//! server keeps serving afterwards.

mod common;

use common::Server;
use hyper::StatusCode;
use serde_json::json;

async fn post(
    server: &Server,
    endpoint: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> common::Reply {
    server
        .request(
            "POST",
            &format!("/api/chat/{endpoint}"),
            headers,
            body.to_string(),
        )
        .await
}

#[tokio::test]
async fn missing_or_wrong_content_type_is_415() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let body = json!({"type": "send"}).to_string();
    let missing = post(&server, "send", &[("x-connection-id", &id)], &body).await;
    assert_eq!(missing.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        missing.error().contains("Content-Type"),
        "{}",
        missing.text()
    );
    let wrong = post(
        &server,
        "send",
        &[("content-type", "text/plain"), ("x-connection-id", &id)],
        &body,
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(wrong.error().contains("text/plain"));
    let with_charset = post(
        &server,
        "send",
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("x-connection-id", &id),
        ],
        &body,
    )
    .await;
    assert_eq!(with_charset.status, StatusCode::OK);
}

#[tokio::test]
async fn missing_or_empty_connection_id_header_is_400() {
    let server = Server::start().await;
    let missing = post(
        &server,
        "send",
        &[("content-type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.error().contains("X-Connection-ID"));
    let empty = post(
        &server,
        "send",
        &[
            ("content-type", "application/json"),
            ("x-connection-id", " "),
        ],
        "{}",
    )
    .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.error().contains("X-Connection-ID"));
}

#[tokio::test]
async fn malformed_json_or_a_non_object_body_is_400() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let headers = [
        ("content-type", "application/json"),
        ("x-connection-id", id.as_str()),
    ];
    for (body, needle) in [
        ("{not json", "malformed JSON"),
        ("", "malformed JSON"),
        ("[1,2]", "an array"),
        ("\"send\"", "a string"),
        ("null", "null"),
    ] {
        let reply = post(&server, "send", &headers, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(reply.error().contains(needle), "{body}: {}", reply.text());
    }
}

#[tokio::test]
async fn fields_of_the_wrong_shape_are_400_naming_the_field() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let cases = [
        ("send", json!({"type": 7}), "`type`"),
        ("send", json!({"type": "stop"}), "`type`"),
        ("send", json!({"sessionId": 42}), "`sessionId`"),
        ("send", json!({"sessionId": ""}), "`sessionId`"),
        ("send", json!({"sessionId": "a\nb"}), "`sessionId`"),
        ("send", json!({"sessionId": "x".repeat(500)}), "`sessionId`"),
        ("send", json!({"clientMsgId": ["m1"]}), "`clientMsgId`"),
        ("send", json!({"prompt": {"text": "hi"}}), "`prompt`"),
        ("reconnect", json!({"type": "reconnect"}), "`sessions`"),
        ("reconnect", json!({"sessions": "s"}), "`sessions`"),
        ("reconnect", json!({"sessions": ["s"]}), "`sessions[0]`"),
        (
            "reconnect",
            json!({"sessions": [{"lastSeq": 1}]}),
            "`sessions[0].sessionId`",
        ),
        (
            "reconnect",
            json!({"sessions": [{"sessionId": "s", "lastSeq": -1}]}),
            "`sessions[0].lastSeq`",
        ),
        (
            "reconnect",
            json!({"sessions": [{"sessionId": "s", "lastSeq": "3"}]}),
            "`sessions[0].lastSeq`",
        ),
        ("suspend", json!({"sessions": {"s": 1}}), "`sessions`"),
        ("suspend", json!({"sessions": [1]}), "`sessions[0]`"),
        ("watch", json!({"sessionId": true}), "`sessionId`"),
    ];
    for (endpoint, body, field) in cases {
        let reply = server.chat(endpoint, &id, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{endpoint} {body}: {}",
            reply.text()
        );
        assert!(
            reply.error().contains(field),
            "{endpoint} {body}: {}",
            reply.text()
        );
    }
    // None of it broke the connection.
    let fine = server
        .chat("send", &id, json!({"type": "send", "prompt": "still here"}))
        .await;
    assert_eq!(fine.status, StatusCode::OK);
}

#[tokio::test]
async fn body_over_64_kib_is_413_with_or_without_content_length() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let big = json!({"type": "send", "prompt": "x".repeat(70 * 1024)}).to_string();
    let headers = [
        ("content-type", "application/json"),
        ("x-connection-id", id.as_str()),
    ];
    let declared = post(&server, "send", &headers, &big).await;
    assert_eq!(declared.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(declared.error().contains("64 KiB"));
    let streamed = server
        .request_chunked("/api/chat/send", &headers, big.into_bytes())
        .await;
    assert_eq!(streamed.status, StatusCode::PAYLOAD_TOO_LARGE);
    let beacon = server
        .request_chunked("/api/chat/suspend-beacon", &[], vec![b' '; 65 * 1024])
        .await;
    assert_eq!(beacon.status, StatusCode::PAYLOAD_TOO_LARGE);

    let just_under = json!({"type": "send", "prompt": "x".repeat(60 * 1024)}).to_string();
    assert_eq!(
        post(&server, "send", &headers, &just_under).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn beacon_without_a_connection_id_is_400() {
    let server = Server::start().await;
    let reply = server
        .request(
            "POST",
            "/api/chat/suspend-beacon",
            &[],
            r#"{"sessions":[]}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().contains("connectionId"));
}

#[tokio::test]
async fn control_api_rejects_bad_bodies_naming_the_field() {
    let server = Server::start().await;
    let cases = [
        ("fail-next", json!({"status": 42}), "`status`"),
        ("fail-next", json!({"count": -1}), "`count`"),
        ("delay", json!({}), "`ms`"),
        ("delay", json!({"ms": 10_000_000}), "`ms`"),
        ("heartbeats", json!({"enabled": "yes"}), "`enabled`"),
        ("emit", json!({"count": 1}), "`sessionId`"),
        (
            "emit",
            json!({"sessionId": "s", "count": 1_000_000}),
            "`count`",
        ),
        ("emit", json!({"sessionId": "s", "fields": 3}), "`fields`"),
        ("replay-overlap", json!({"count": "2"}), "`count`"),
        ("emit-raw", json!({}), "`data`"),
        ("agent", json!({"deltas": 100_000}), "`deltas`"),
    ];
    for (name, body, field) in cases {
        let reply = server
            .request("POST", &format!("/api/test/{name}"), &[], body.to_string())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{name} {body}: {}",
            reply.text()
        );
        assert!(
            reply.error().contains(field),
            "{name} {body}: {}",
            reply.text()
        );
    }
    let no_session = server.get("/api/test/accepted").await;
    assert_eq!(no_session.status, StatusCode::BAD_REQUEST);
    assert!(no_session.error().contains("sessionId"));
    let garbage = server.request("POST", "/api/test/emit", &[], "{{{").await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn wrong_methods_and_unknown_paths_get_4xx_not_5xx() {
    let server = Server::start().await;
    assert_eq!(
        server.get("/api/chat/send").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        server
            .request("POST", "/api/chat/events", &[], "")
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let unknown = server.get("/api/test/nothing").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.error().contains("/api/test/nothing"));
    assert_eq!(
        server.get("/").await.status,
        StatusCode::NOT_FOUND,
        "no static dir configured"
    );
}
