//! Receipts, sends without a stream, de-duplication by body, and the faults that
//! break receipts (docs/protocol.md, "Receipts").

mod common;

use common::{Reply, Server};
use hyper::StatusCode;
use serde_json::{json, Value};

/// A `send` with no `X-Connection-ID` (a prompt sent before, or without, a stream).
async fn send_without_connection(server: &Server, body: Value) -> Reply {
    server
        .request(
            "POST",
            "/api/chat/send",
            &[("content-type", "application/json")],
            body.to_string(),
        )
        .await
}

fn prompt(id: &str, session: Option<&str>, text: &str) -> Value {
    json!({"type": "send", "clientMsgId": id, "sessionId": session, "prompt": text})
}

#[tokio::test]
async fn a_send_is_answered_with_its_receipt() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;

    let answer = server.send_ok(&id, "s1", "m1", "hello").await;

    assert_eq!(answer["accepted"], true);
    assert_eq!(answer["clientMsgId"], "m1");
    assert_eq!(answer["sessionId"], "s1");
}

#[tokio::test]
async fn a_send_that_names_itself_is_accepted_without_a_connection() {
    let server = Server::start().await;

    let reply = send_without_connection(&server, prompt("m1", Some("s1"), "no stream yet")).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let answer = reply.json();
    assert_eq!(
        (answer["accepted"].clone(), answer["sessionId"].clone()),
        (json!(true), json!("s1"))
    );
    let accepted = server.get_json("/api/test/accepted?sessionId=s1").await;
    assert_eq!(accepted["accepted"], json!(["m1"]));
    assert_eq!(
        accepted["lastSeq"], 5,
        "the agent answered into the session"
    );
    let log = server.get_json("/api/test/log").await;
    assert_eq!(log["posts"][0]["connectionId"], Value::Null);
    // Replayed to a stream that comes later.
    let (mut stream, id) = server.connect().await;
    let replay = server
        .chat(
            "reconnect",
            &id,
            json!({"type": "reconnect", "sessions": [{"sessionId": "s1", "lastSeq": 0}]}),
        )
        .await;
    assert_eq!(replay.json()["replayed"], 5);
    assert_eq!(stream.next().await.json()["clientMsgId"], "m1");
}

#[tokio::test]
async fn a_send_without_a_connection_or_a_client_msg_id_is_refused() {
    let server = Server::start().await;

    let reply =
        send_without_connection(&server, json!({"type": "send", "prompt": "who am I"})).await;

    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().contains("clientMsgId"), "{}", reply.error());
    let watch = server
        .request(
            "POST",
            "/api/chat/watch",
            &[("content-type", "application/json")],
            json!({"type": "watch", "sessionId": "s", "clientMsgId": "w1"}).to_string(),
        )
        .await;
    assert_eq!(
        watch.status,
        StatusCode::BAD_REQUEST,
        "only a send may come alone"
    );
}

#[tokio::test]
async fn a_send_naming_a_forgotten_connection_is_still_stale() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    server.control("forget", json!({"connectionId": id})).await;

    let reply = server
        .chat("send", &id, prompt("m1", Some("s"), "stale"))
        .await;

    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["code"], "unknown_connection");
}

#[tokio::test]
async fn a_null_session_is_the_default_session_and_the_receipt_says_so() {
    let server = Server::start().await;

    let reply = send_without_connection(&server, prompt("m1", None, "new chat")).await;

    assert_eq!(reply.json()["sessionId"], "default");
}

#[tokio::test]
async fn a_repeat_hears_the_same_receipt_and_another_body_under_the_id_is_a_conflict() {
    let server = Server::start().await;
    let first = send_without_connection(&server, prompt("m1", Some("s"), "once")).await;
    let again = send_without_connection(&server, prompt("m1", Some("s"), "once")).await;

    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(again.json()["clientMsgId"], first.json()["clientMsgId"]);
    assert_eq!(again.json()["sessionId"], "s");
    let other = send_without_connection(&server, prompt("m1", Some("s"), "twice?")).await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.json()["code"], "client_msg_id_conflict");
    assert!(other.error().contains("m1"));
    let accepted = server.get_json("/api/test/accepted?sessionId=s").await;
    assert_eq!(accepted["accepted"], json!(["m1"]));
    assert_eq!(accepted["lastSeq"], 5, "processed once");
}

#[tokio::test]
async fn the_same_fields_in_another_order_are_the_same_body() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let headers = [
        ("content-type", "application/json"),
        ("x-connection-id", id.as_str()),
    ];
    for body in [
        r#"{"type":"send","clientMsgId":"m1","sessionId":"s","prompt":"x"}"#,
        r#"{"prompt":"x","sessionId":"s","clientMsgId":"m1","type":"send"}"#,
    ] {
        let reply = server
            .request("POST", "/api/chat/send", &headers, body)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    }
}

#[tokio::test]
async fn each_broken_receipt_is_processed_and_the_resend_hears_a_good_one() {
    let server = Server::start().await;
    for (n, kind) in ["html", "wrong_id", "missing_session"]
        .into_iter()
        .enumerate()
    {
        let id = format!("m{n}");
        let armed = server
            .control("break-receipts", json!({"kind": kind}))
            .await;
        assert_eq!(
            (armed["kind"].clone(), armed["count"].clone()),
            (json!(kind), json!(1))
        );

        let broken = send_without_connection(&server, prompt(&id, Some("s"), kind)).await;
        let resent = send_without_connection(&server, prompt(&id, Some("s"), kind)).await;

        assert_eq!(broken.status, StatusCode::OK);
        match kind {
            "html" => {
                assert!(broken.text().starts_with("<!doctype html>"));
                assert!(broken
                    .header("content-type")
                    .unwrap()
                    .starts_with("text/html"));
            }
            "wrong_id" => assert_ne!(broken.json()["clientMsgId"], json!(id)),
            _ => assert!(broken.json().get("sessionId").is_none()),
        }
        assert_eq!(
            resent.json()["clientMsgId"],
            json!(id),
            "{kind}: a good receipt"
        );
        assert_eq!(
            resent.json()["duplicate"],
            true,
            "{kind}: processed the first time"
        );
    }
    let faults = receipt_faults(&server).await;
    assert_eq!(
        faults,
        [
            json!("html"),
            Value::Null,
            json!("wrong_id"),
            Value::Null,
            json!("missing_session"),
            Value::Null
        ]
    );
}

#[tokio::test]
async fn broken_receipts_spare_refused_sends_and_other_endpoints() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    server
        .control("break-receipts", json!({"kind": "html", "count": 1}))
        .await;

    let watch = server
        .chat("watch", &id, json!({"type": "watch", "sessionId": "s"}))
        .await;
    let refused = send_without_connection(&server, json!({"type": "send"})).await;
    let state = server.get_json("/api/test/state").await;

    assert_eq!(watch.json()["ok"], true);
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        state["faults"]["brokenReceipts"],
        json!({"remaining": 1, "kind": "html", "queue": [{"kind": "html", "count": 1}]})
    );
    server.control("reset", json!({})).await;
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["faults"]["brokenReceipts"], Value::Null);
}

#[tokio::test]
async fn break_receipts_refuses_an_unknown_or_missing_kind() {
    let server = Server::start().await;
    for body in [json!({}), json!({"kind": "garbled"}), json!({"kind": 3})] {
        let reply = server
            .request("POST", "/api/test/break-receipts", &[], body.to_string())
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(reply.error().contains("kind"), "{}", reply.error());
    }
}

#[tokio::test]
async fn a_queue_of_kinds_breaks_the_next_receipts_in_order_one_each() {
    let server = Server::start().await;
    let kinds = ["html", "wrong_id", "missing_session"];
    let armed = server
        .control("break-receipts", json!({"kinds": kinds}))
        .await;
    assert_eq!(armed, json!({"ok": true, "count": 3, "kinds": kinds}));

    // The same message posted again after each broken receipt, as a client does.
    let mut replies = Vec::new();
    for _ in 0..=kinds.len() {
        replies.push(send_without_connection(&server, prompt("m1", Some("s"), "x")).await);
    }

    assert!(replies.iter().all(|r| r.status == StatusCode::OK));
    assert!(replies[0].text().starts_with("<!doctype html>"));
    assert_ne!(replies[1].json()["clientMsgId"], "m1");
    assert_eq!(replies[2].json()["clientMsgId"], "m1");
    assert!(replies[2].json().get("sessionId").is_none());
    assert_eq!(
        replies[3].json(),
        json!({"ok": true, "duplicate": true, "accepted": true, "clientMsgId": "m1", "sessionId": "s"}),
        "then the good receipt"
    );
    let faults = receipt_faults(&server).await;
    assert_eq!(
        faults,
        [
            json!("html"),
            json!("wrong_id"),
            json!("missing_session"),
            Value::Null
        ]
    );
    let accepted = server.get_json("/api/test/accepted?sessionId=s").await;
    assert_eq!(accepted["accepted"], json!(["m1"]), "processed once");
}

#[tokio::test]
async fn an_empty_queue_or_a_zero_count_disarms() {
    let server = Server::start().await;
    for disarm in [json!({"kinds": []}), json!({"kind": "html", "count": 0})] {
        server
            .control("break-receipts", json!({"kinds": ["html", "html"]}))
            .await;
        server.control("break-receipts", disarm.clone()).await;

        let state = server.get_json("/api/test/state").await;
        assert_eq!(state["faults"]["brokenReceipts"], Value::Null, "{disarm}");
    }
    let reply = send_without_connection(&server, prompt("m1", Some("s"), "x")).await;
    assert_eq!(reply.json()["clientMsgId"], "m1");
}

#[tokio::test]
async fn break_receipts_takes_exactly_one_of_kind_and_kinds_and_only_known_kinds() {
    let server = Server::start().await;
    server
        .control("break-receipts", json!({"kinds": ["wrong_id"]}))
        .await;
    for (body, needle) in [
        (json!({"kind": "html", "kinds": ["html"]}), "not both"),
        (json!({"kinds": ["html", "garbled"]}), "kinds[1]"),
        (json!({"kinds": ["html", 7]}), "kinds[1]"),
        (json!({"kinds": "html"}), "`kinds` must be a list"),
        (json!({"kinds": ["html"], "count": 2}), "`count`"),
        (json!({"count": 2}), "kind"),
    ] {
        let reply = server
            .request("POST", "/api/test/break-receipts", &[], body.to_string())
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        let error = reply.error();
        assert!(error.contains(needle), "{body}: {error}");
        if needle == "kinds[1]" {
            assert!(
                error.contains(r#""html", "wrong_id" or "missing_session""#),
                "names the allowed kinds: {error}"
            );
        }
    }
    let state = server.get_json("/api/test/state").await;
    assert_eq!(
        state["faults"]["brokenReceipts"]["queue"],
        json!([{"kind": "wrong_id", "count": 1}]),
        "a refused request leaves the armed queue alone"
    );
}

/// The `receiptFault` of every logged POST, in order (`null` where its receipt was whole).
async fn receipt_faults(server: &Server) -> Vec<Value> {
    let log = server.get_json("/api/test/log").await;
    log["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.get("receiptFault").cloned().unwrap_or(Value::Null))
        .collect()
}
