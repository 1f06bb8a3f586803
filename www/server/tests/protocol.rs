//! Protocol v2 as the client library sees it: welcome, chat POSTs, the agent's
//! events, idempotent sends, reconnect replay, heartbeats, beacon, log, CORS, static
//! files.

mod common;

use std::time::Duration;

use common::{test_options, Server};
use hyper::StatusCode;
use serde_json::json;

#[tokio::test]
async fn welcome_is_the_first_event_and_each_stream_gets_a_fresh_connection_id() {
    let server = Server::start().await;
    let (_a, id_a) = server.connect().await;
    let (_b, id_b) = server.connect().await;
    assert_ne!(id_a, id_b);
    assert!(id_a.len() >= 32 && id_a.chars().all(|c| c.is_ascii_hexdigit()));
}

#[tokio::test]
async fn the_welcome_carries_the_sse_retry_field_only_when_configured() {
    let server = Server::start().await;
    let mut plain = server.events().await;
    assert_eq!(plain.next().await.retry, None);

    let server = Server::with(sse_courier_server::Options {
        sse_retry: Some(Duration::from_millis(500)),
        ..test_options()
    })
    .await;
    let mut stream = server.events().await;
    let welcome = stream.next().await;
    assert_eq!(welcome.event.as_deref(), Some("welcome"));
    assert_eq!(welcome.retry, Some(500));
}

#[tokio::test]
async fn event_stream_is_uncached_text_event_stream() {
    let server = Server::start().await;
    let stream = server.events().await;
    let content_type = stream.headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    assert!(stream.headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("no-cache"));
}

#[tokio::test]
async fn post_with_the_streams_connection_id_is_accepted_and_an_unknown_id_is_404() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let ok = server
        .chat("watch", &id, json!({"type": "watch", "sessionId": "s"}))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json()["ok"], true);

    let stale = server
        .chat(
            "watch",
            "not-a-connection",
            json!({"type": "watch", "sessionId": "s"}),
        )
        .await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND);
    assert_eq!(stale.json()["code"], "unknown_connection");
    assert!(stale.error().contains("not-a-connection"));
}

#[tokio::test]
async fn every_endpoint_of_the_protocol_accepts_its_message() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let messages = [
        (
            "send",
            json!({"type": "send", "sessionId": "s", "prompt": "hi"}),
        ),
        ("stop", json!({"type": "stop", "sessionId": "s"})),
        ("interrupt", json!({"type": "interrupt", "sessionId": "s"})),
        (
            "permission",
            json!({"type": "permission_response", "sessionId": "s", "allow": true}),
        ),
        (
            "mode",
            json!({"type": "set_mode", "sessionId": "s", "mode": "plan"}),
        ),
        ("watch", json!({"type": "watch", "sessionId": "s"})),
        (
            "switch",
            json!({"type": "switch_session", "sessionId": "t"}),
        ),
        ("unwatch", json!({"type": "unwatch", "sessionId": "t"})),
        (
            "suspend",
            json!({"type": "session_suspend", "sessions": [{"sessionId": "s", "lastSeq": 1}]}),
        ),
        ("close", json!({"type": "session_close", "sessionId": "s"})),
        (
            "reconnect",
            json!({"type": "reconnect", "sessions": [{"sessionId": "s", "lastSeq": 0}]}),
        ),
    ];
    for (endpoint, body) in messages {
        let reply = server.chat(endpoint, &id, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{endpoint}: {}", reply.text());
    }
}

#[tokio::test]
async fn unknown_endpoint_is_404_with_a_code_distinct_from_a_stale_connection() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let reply = server
        .chat("teleport", &id, json!({"type": "teleport"}))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["code"], "unknown_endpoint");
    assert!(reply.error().contains("teleport"));
}

#[tokio::test]
async fn send_is_echoed_then_answered_in_deltas_and_done_with_seq_and_sse_id() {
    let server = Server::start().await;
    let (mut stream, id) = server.connect().await;
    let reply = server.send_ok(&id, "s1", "m1", "hello there").await;
    assert_eq!(reply["duplicate"], false);

    let echo = stream.next().await;
    assert_eq!(echo.event, None, "session events are unnamed");
    assert_eq!(echo.id.as_deref(), Some("session:s1:seq:1"));
    let data = echo.json();
    assert_eq!(data["type"], "user_message");
    assert_eq!(data["sessionId"], "s1");
    assert_eq!(data["seq"], 1);
    assert_eq!(data["clientMsgId"], "m1");
    assert_eq!(data["text"], "hello there");

    let mut text = String::new();
    for seq in 2..=4 {
        let delta = stream.next().await;
        assert_eq!(delta.id, Some(format!("session:s1:seq:{seq}")));
        let data = delta.json();
        assert_eq!(data["type"], "block_delta");
        assert_eq!(data["seq"], seq);
        text.push_str(data["delta"].as_str().unwrap());
    }
    assert!(text.contains("hello there"), "{text}");
    let done = stream.next().await.json();
    assert_eq!(done["type"], "message_done");
    assert_eq!(done["seq"], 5);
}

#[tokio::test]
async fn agent_with_a_delay_streams_its_reply_after_answering() {
    let mut options = test_options();
    options.agent.delay = Duration::from_millis(5);
    let server = Server::with(options).await;
    let (mut stream, id) = server.connect().await;
    server.send_ok(&id, "s", "m1", "slow").await;
    let types: Vec<String> = {
        let mut types = Vec::new();
        for _ in 0..5 {
            types.push(
                stream.next().await.json()["type"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        types
    };
    assert_eq!(
        types,
        [
            "user_message",
            "block_delta",
            "block_delta",
            "block_delta",
            "message_done"
        ]
    );
}

#[tokio::test]
async fn send_with_an_already_accepted_client_msg_id_is_a_duplicate_and_not_processed_again() {
    let server = Server::start().await;
    let (mut stream, id) = server.connect().await;
    server.send_ok(&id, "s", "m1", "once").await;
    for _ in 0..5 {
        stream.next().await;
    }
    let again = server.send_ok(&id, "s", "m1", "once").await;
    assert_eq!(
        again,
        json!({"ok": true, "duplicate": true, "accepted": true, "clientMsgId": "m1", "sessionId": "s"}),
        "a repeat hears its receipt again"
    );
    stream.expect_silent(Duration::from_millis(200)).await;

    // The same clientMsgId in another session is a different message.
    let other = server.send_ok(&id, "t", "m1", "elsewhere").await;
    assert_eq!(other["duplicate"], false);
    let accepted = server.get_json("/api/test/accepted?sessionId=s").await;
    assert_eq!(accepted["accepted"], json!(["m1"]));
    assert_eq!(accepted["lastSeq"], 5);
}

#[tokio::test]
async fn accepted_list_keeps_client_msg_ids_in_order_per_session() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    for m in ["m3", "m1", "m2", "m1"] {
        server.send_ok(&id, "s", m, "x").await;
    }
    let accepted = server.get_json("/api/test/accepted?sessionId=s").await;
    assert_eq!(
        accepted,
        json!({"sessionId": "s", "accepted": ["m3", "m1", "m2"], "lastSeq": 15})
    );
    let empty = server.get_json("/api/test/accepted?sessionId=nobody").await;
    assert_eq!(empty["accepted"], json!([]));
}

#[tokio::test]
async fn send_without_client_msg_id_or_session_goes_to_the_default_session() {
    let server = Server::start().await;
    let (mut stream, id) = server.connect().await;
    let reply = server
        .chat("send", &id, json!({"type": "send", "text": "plain"}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let echo = stream.next().await.json();
    assert_eq!(echo["sessionId"], "default");
    assert_eq!(echo["text"], "plain");
}

#[tokio::test]
async fn reconnect_replays_events_after_last_seq_over_the_new_stream_with_seq_and_id() {
    let server = Server::start().await;
    server
        .control("emit", json!({"sessionId": "s", "count": 6}))
        .await;
    server
        .control("emit", json!({"sessionId": "t", "count": 2}))
        .await;

    let (mut stream, id) = server.connect().await;
    let reply = server
        .chat(
            "reconnect",
            &id,
            json!({"type": "reconnect", "sessions": [{"sessionId": "s", "lastSeq": 4}, {"sessionId": "t", "lastSeq": 0}]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["replayed"], 4);

    let mut seen = Vec::new();
    for _ in 0..4 {
        let event = stream.next().await;
        let data = event.json();
        let session = data["sessionId"].as_str().unwrap().to_string();
        let seq = data["seq"].as_u64().unwrap();
        assert_eq!(event.id, Some(format!("session:{session}:seq:{seq}")));
        seen.push((session, seq));
    }
    let expected: Vec<(String, u64)> = [("s", 5), ("s", 6), ("t", 1), ("t", 2)]
        .into_iter()
        .map(|(s, n)| (s.to_string(), n))
        .collect();
    assert_eq!(seen, expected);

    // Reconnecting made the connection a watcher: new events follow live.
    server.control("emit", json!({"sessionId": "s"})).await;
    assert_eq!(stream.next().await.json()["seq"], 7);
}

#[tokio::test]
async fn events_reach_only_connections_watching_their_session() {
    let server = Server::start().await;
    let (mut watcher, a) = server.connect().await;
    let (mut bystander, _b) = server.connect().await;
    server
        .chat("watch", &a, json!({"type": "watch", "sessionId": "s"}))
        .await;
    server.control("emit", json!({"sessionId": "s"})).await;
    assert_eq!(watcher.next().await.json()["seq"], 1);
    bystander.expect_silent(Duration::from_millis(150)).await;

    server
        .chat("unwatch", &a, json!({"type": "unwatch", "sessionId": "s"}))
        .await;
    server.control("emit", json!({"sessionId": "s"})).await;
    watcher.expect_silent(Duration::from_millis(150)).await;

    server
        .chat(
            "switch",
            &a,
            json!({"type": "switch_session", "sessionId": "s"}),
        )
        .await;
    server.control("emit", json!({"sessionId": "s"})).await;
    assert_eq!(watcher.next().await.json()["seq"], 3);
    server
        .chat(
            "close",
            &a,
            json!({"type": "session_close", "sessionId": "s"}),
        )
        .await;
    server.control("emit", json!({"sessionId": "s"})).await;
    watcher.expect_silent(Duration::from_millis(150)).await;
}

#[tokio::test]
async fn heartbeats_arrive_as_unnamed_data_events_at_the_configured_interval() {
    let mut options = test_options();
    options.heartbeat = Duration::from_millis(50);
    let server = Server::with(options).await;
    let (mut stream, _id) = server.connect().await;
    for _ in 0..3 {
        let beat = stream.next().await;
        assert_eq!(beat.event, None);
        assert_eq!(beat.id, None);
        assert_eq!(beat.json(), json!({"type": "heartbeat"}));
    }
}

#[tokio::test]
async fn closing_the_stream_forgets_its_connection() {
    let server = Server::start().await;
    let (stream, id) = server.connect().await;
    drop(stream);
    let mut status = StatusCode::OK;
    for _ in 0..50 {
        status = server
            .chat("watch", &id, json!({"type": "watch"}))
            .await
            .status;
        if status == StatusCode::NOT_FOUND {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(server.get_json("/api/test/state").await["openStreams"], 0);
}

#[tokio::test]
async fn suspend_beacon_accepts_a_blob_without_custom_headers() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let body = json!({"connectionId": id, "sessions": [{"sessionId": "s", "lastSeq": 3}, "t"]})
        .to_string();
    let reply = server
        .request(
            "POST",
            "/api/chat/suspend-beacon",
            &[("content-type", "text/plain;charset=UTF-8")],
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["knownConnection"], true);

    let stale = json!({"connectionId": "gone", "sessions": []}).to_string();
    let reply = server
        .request("POST", "/api/chat/suspend-beacon", &[], stale)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["knownConnection"], false);

    let log = server.get_json("/api/test/log").await;
    let beacon = &log["posts"][0];
    assert_eq!(beacon["endpoint"], "suspend-beacon");
    assert_eq!(beacon["connectionId"], id.as_str());
    assert_eq!(beacon["sessions"], json!(["s", "t"]));
}

#[tokio::test]
async fn log_records_every_post_in_order_with_status_and_counts_streams() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    server.send_ok(&id, "s", "m1", "x").await;
    server.send_ok(&id, "s", "m1", "x").await;
    server
        .chat(
            "send",
            "stale",
            json!({"type": "send", "clientMsgId": "m2"}),
        )
        .await;
    server
        .chat(
            "suspend",
            &id,
            json!({"type": "session_suspend", "sessions": ["s"]}),
        )
        .await;
    let log = server.get_json("/api/test/log").await;
    assert_eq!(log["streamsOpened"], 1);
    assert_eq!(
        log["posts"],
        json!([
            {"endpoint": "send", "connectionId": id, "status": 200, "clientMsgId": "m1", "sessionId": "s"},
            {"endpoint": "send", "connectionId": id, "status": 200, "clientMsgId": "m1", "sessionId": "s", "duplicate": true},
            {"endpoint": "send", "connectionId": "stale", "status": 404, "clientMsgId": "m2", "sessionId": "default"},
            {"endpoint": "suspend", "connectionId": id, "status": 200, "sessions": ["s"]},
        ])
    );
}

#[tokio::test]
async fn cors_preflight_is_204_and_every_answer_allows_any_origin() {
    let server = Server::start().await;
    let preflight = server
        .request(
            "OPTIONS",
            "/api/chat/send",
            &[
                ("origin", "http://127.0.0.1:9999"),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "content-type,x-connection-id",
                ),
            ],
            "",
        )
        .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    let methods = preflight.header("access-control-allow-methods").unwrap();
    for method in ["GET", "POST", "OPTIONS"] {
        assert!(methods.contains(method), "{methods}");
    }
    let allowed = preflight
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        allowed.contains("content-type") && allowed.contains("x-connection-id"),
        "{allowed}"
    );

    // Even errors, the control API and unknown paths carry the header, or a
    // cross-origin test could not read the status it is checking.
    let stale = server.chat("send", "nobody", json!({})).await;
    assert_eq!(stale.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        server
            .get("/api/test/state")
            .await
            .header("access-control-allow-origin"),
        Some("*")
    );
    assert_eq!(
        server
            .get("/nowhere")
            .await
            .header("access-control-allow-origin"),
        Some("*")
    );
    let stream = server.events().await;
    assert_eq!(stream.headers["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn preflight_is_never_subject_to_injected_failures() {
    let server = Server::start().await;
    server
        .control("fail-next", json!({"count": 5, "status": 503}))
        .await;
    let preflight = server
        .request(
            "OPTIONS",
            "/api/chat/send",
            &[("access-control-request-method", "POST")],
            "",
        )
        .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get_json("/api/test/state").await["faults"]["failNext"]["remaining"],
        5
    );
}

#[tokio::test]
async fn static_dir_serves_index_wasm_and_js_with_browser_types() {
    let dir = std::env::temp_dir().join(format!("sse-courier-static-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>demo</h1>").unwrap();
    std::fs::write(dir.join("pkg/courier_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.join("pkg/courier.js"), "export {}").unwrap();
    let mut options = test_options();
    options.static_dir = Some(dir.clone());
    let server = Server::with(options).await;

    let index = server.get("/").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(index.text(), "<h1>demo</h1>");
    let wasm = server.get("/pkg/courier_bg.wasm").await;
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(&wasm.body[..4], b"\0asm");
    let js = server.get("/pkg/courier.js").await;
    assert!(js
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));

    assert_eq!(
        server.get("/pkg").await.status,
        StatusCode::PERMANENT_REDIRECT
    );
    assert_eq!(
        server.get("/missing.js").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.get("/../../etc/passwd").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server.get("/%2e%2e/%2e%2e/etc/passwd").await.status,
        StatusCode::BAD_REQUEST
    );
    // API paths never fall through to files.
    assert_eq!(server.get("/api/nothing").await.json()["code"], "not_found");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn concurrent_retries_of_one_send_are_accepted_exactly_once() {
    let server = std::sync::Arc::new(Server::start().await);
    let (_stream, id) = server.connect().await;
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let server = server.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            server.send_ok(&id, "s", "m1", "racing").await
        }));
    }
    let mut fresh = 0;
    for task in tasks {
        if task.await.unwrap()["duplicate"] == false {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1);
    let accepted = server.get_json("/api/test/accepted?sessionId=s").await;
    assert_eq!(accepted["accepted"], json!(["m1"]));
    assert_eq!(accepted["lastSeq"], 5, "one echo, three deltas, one done");
}
