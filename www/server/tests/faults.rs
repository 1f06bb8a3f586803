//! The test control API: each fault does what the browser tests rely on.

mod common;

use std::time::{Duration, Instant};

use common::{test_options, Server};
use hyper::StatusCode;
use serde_json::json;

#[tokio::test]
async fn forget_makes_posts_404_while_the_stream_stays_open_and_silent() {
    let mut options = test_options();
    options.heartbeat = Duration::from_millis(30);
    let server = Server::with(options).await;
    let (mut stream, id) = server.connect().await;
    server
        .chat("watch", &id, json!({"type": "watch", "sessionId": "s"}))
        .await;
    let answer = server.control("forget", json!({"connectionId": id})).await;
    assert_eq!(answer["forgotten"], 1);

    let stale = server.send_ok_or(&id).await;
    assert_eq!(stale, StatusCode::NOT_FOUND);
    // The seed's stale case: the response is still open but nothing arrives on it,
    // neither session events nor heartbeats.
    server.control("emit", json!({"sessionId": "s"})).await;
    stream.expect_silent(Duration::from_millis(200)).await;
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["openStreams"], 1);
    assert_eq!(state["connections"], 0);
}

trait SendOrStatus {
    async fn send_ok_or(&self, id: &str) -> StatusCode;
}

impl SendOrStatus for Server {
    async fn send_ok_or(&self, id: &str) -> StatusCode {
        self.chat(
            "send",
            id,
            json!({"type": "send", "sessionId": "s", "clientMsgId": "m1", "prompt": "x"}),
        )
        .await
        .status
    }
}

#[tokio::test]
async fn forget_without_a_connection_id_forgets_all_and_an_unknown_id_is_404() {
    let server = Server::start().await;
    let (_a, a) = server.connect().await;
    let (_b, b) = server.connect().await;
    assert_eq!(server.control("forget", json!({})).await["forgotten"], 2);
    assert_eq!(server.send_ok_or(&a).await, StatusCode::NOT_FOUND);
    assert_eq!(server.send_ok_or(&b).await, StatusCode::NOT_FOUND);
    let reply = server
        .request(
            "POST",
            "/api/test/forget",
            &[],
            json!({"connectionId": "nobody"}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // A message rejected as stale was not accepted: a retry may still be processed.
    assert_eq!(
        server.get_json("/api/test/accepted?sessionId=s").await["accepted"],
        json!([])
    );
}

#[tokio::test]
async fn kill_streams_ends_every_stream_and_forgets_its_connection() {
    let server = Server::start().await;
    let (mut a, id_a) = server.connect().await;
    let (mut b, _) = server.connect().await;
    server
        .control("forget", json!({"connectionId": id_a}))
        .await;
    assert_eq!(server.control("kill-streams", json!({})).await["ended"], 2);
    a.expect_end().await;
    b.expect_end().await;
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["openStreams"], 0);
    assert_eq!(state["connections"], 0);
    // A new stream works as before.
    let (_c, id_c) = server.connect().await;
    assert_eq!(server.send_ok_or(&id_c).await, StatusCode::OK);
}

#[tokio::test]
async fn restart_drops_connections_but_keeps_the_event_store_and_accepted_lists() {
    let server = Server::start().await;
    let (mut old, old_id) = server.connect().await;
    server.send_ok(&old_id, "s", "m1", "before restart").await;
    server.control("restart", json!({})).await;
    old.expect_end().await;
    assert_eq!(server.send_ok_or(&old_id).await, StatusCode::NOT_FOUND);

    let (mut fresh, id) = server.connect().await;
    let reply = server
        .chat(
            "reconnect",
            &id,
            json!({"type": "reconnect", "sessions": [{"sessionId": "s", "lastSeq": 2}]}),
        )
        .await;
    assert_eq!(reply.json()["replayed"], 3);
    assert_eq!(fresh.next().await.json()["seq"], 3);
    // The retried send is recognised as already accepted.
    let retry = server.send_ok(&id, "s", "m1", "before restart").await;
    assert_eq!(retry["duplicate"], true);
}

#[tokio::test]
async fn fail_next_answers_with_its_status_without_processing_and_only_on_its_endpoint() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    server
        .control(
            "fail-next",
            json!({"count": 2, "status": 500, "endpoint": "send"}),
        )
        .await;

    let suspend = server
        .chat("suspend", &id, json!({"type": "session_suspend"}))
        .await;
    assert_eq!(
        suspend.status,
        StatusCode::OK,
        "other endpoints are untouched"
    );
    for _ in 0..2 {
        let failed = server
            .chat("send", &id, json!({"type": "send", "clientMsgId": "m1"}))
            .await;
        assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(failed.json()["code"], "injected_failure");
    }
    assert_eq!(
        server
            .get_json("/api/test/accepted?sessionId=default")
            .await["accepted"],
        json!([])
    );
    let third = server
        .chat("send", &id, json!({"type": "send", "clientMsgId": "m1"}))
        .await;
    assert_eq!(third.status, StatusCode::OK);
    assert_eq!(third.json()["duplicate"], false);

    let statuses: Vec<u64> = server.get_json("/api/test/log").await["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 500, 500, 200]);
}

#[tokio::test]
async fn fail_next_defaults_to_one_500_on_any_endpoint() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    server.control("fail-next", json!({})).await;
    let failed = server
        .chat(
            "reconnect",
            &id,
            json!({"type": "reconnect", "sessions": []}),
        )
        .await;
    assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
    let next = server
        .chat(
            "reconnect",
            &id,
            json!({"type": "reconnect", "sessions": []}),
        )
        .await;
    assert_eq!(next.status, StatusCode::OK);
}

#[tokio::test]
async fn delay_holds_every_post_answer_until_cleared() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    server.control("delay", json!({"ms": 300})).await;
    let started = Instant::now();
    assert_eq!(server.send_ok_or(&id).await, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    server.control("delay", json!({"ms": 0})).await;
    let started = Instant::now();
    server.chat("watch", &id, json!({"type": "watch"})).await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn heartbeats_can_be_stopped_and_restarted_on_open_streams() {
    let mut options = test_options();
    options.heartbeat = Duration::from_millis(40);
    let server = Server::with(options).await;
    let (mut stream, _id) = server.connect().await;
    assert_eq!(stream.next().await.json()["type"], "heartbeat");
    server
        .control("heartbeats", json!({"enabled": false}))
        .await;
    // One beat may already be on the wire; after that, silence.
    let _ = stream.read(Duration::from_millis(60)).await;
    stream.expect_silent(Duration::from_millis(200)).await;
    assert_eq!(
        server.get_json("/api/test/state").await["heartbeats"],
        false
    );
    server.control("heartbeats", json!({"enabled": true})).await;
    assert_eq!(stream.next().await.json()["type"], "heartbeat");
}

#[tokio::test]
async fn replay_overlap_also_replays_events_at_or_before_last_seq() {
    let server = Server::start().await;
    server
        .control("emit", json!({"sessionId": "s", "count": 5}))
        .await;
    server.control("replay-overlap", json!({"count": 2})).await;
    let (mut stream, id) = server.connect().await;
    let reply = server
        .chat(
            "reconnect",
            &id,
            json!({"type": "reconnect", "sessions": [{"sessionId": "s", "lastSeq": 4}]}),
        )
        .await;
    assert_eq!(reply.json()["replayed"], 3);
    let mut seqs = Vec::new();
    for _ in 0..3 {
        seqs.push(stream.next().await.json()["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs, [3, 4, 5]);
}

#[tokio::test]
async fn emit_appends_events_with_increasing_seqs_and_given_type_and_fields() {
    let server = Server::start().await;
    let (mut stream, id) = server.connect().await;
    server
        .chat("watch", &id, json!({"type": "watch", "sessionId": "s"}))
        .await;
    let answer = server
        .control(
            "emit",
            json!({"sessionId": "s", "count": 2, "type": "tool_use", "fields": {"name": "grep"}}),
        )
        .await;
    assert_eq!(
        (answer["firstSeq"].as_u64(), answer["lastSeq"].as_u64()),
        (Some(1), Some(2))
    );
    for seq in 1..=2 {
        let event = stream.next().await.json();
        assert_eq!(
            event,
            json!({"type": "tool_use", "name": "grep", "sessionId": "s", "seq": seq, "prevSessionSeq": seq - 1})
        );
    }
}

#[tokio::test]
async fn emit_raw_writes_data_verbatim_to_known_streams() {
    let server = Server::start().await;
    let (mut stream, _id) = server.connect().await;
    let answer = server
        .control("emit-raw", json!({"data": "not json {"}))
        .await;
    assert_eq!(answer["streams"], 1);
    let event = stream.next().await;
    assert_eq!(event.data, "not json {");
    assert_eq!(event.id, None);
}

#[tokio::test]
async fn agent_can_be_switched_off_and_stop_ends_a_running_reply() {
    let server = Server::start().await;
    let (mut stream, id) = server.connect().await;
    server.control("agent", json!({"enabled": false})).await;
    server.send_ok(&id, "s", "m1", "quiet").await;
    stream.expect_silent(Duration::from_millis(150)).await;
    assert_eq!(
        server.get_json("/api/test/accepted?sessionId=s").await["accepted"],
        json!(["m1"])
    );

    server
        .control(
            "agent",
            json!({"enabled": true, "delayMs": 100, "deltas": 5}),
        )
        .await;
    server.send_ok(&id, "s", "m2", "long answer").await;
    assert_eq!(stream.next().await.json()["type"], "user_message");
    server
        .chat("stop", &id, json!({"type": "stop", "sessionId": "s"}))
        .await;
    stream.expect_silent(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn reset_clears_store_accepted_log_and_faults_but_keeps_open_streams() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    server.send_ok(&id, "s", "m1", "x").await;
    server.control("fail-next", json!({"count": 3})).await;
    server
        .control("heartbeats", json!({"enabled": false}))
        .await;
    server.control("reset", json!({})).await;

    assert_eq!(
        server.get_json("/api/test/accepted?sessionId=s").await["accepted"],
        json!([])
    );
    let log = server.get_json("/api/test/log").await;
    assert_eq!(log["posts"], json!([]));
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["faults"]["failNext"], json!(null));
    assert_eq!(state["heartbeats"], true);
    assert_eq!(state["storedEvents"], 0);
    assert_eq!(state["connections"], 1);
    let again = server.send_ok(&id, "s", "m1", "x").await;
    assert_eq!(again["duplicate"], false);
}

#[tokio::test]
async fn state_reports_connections_streams_and_heartbeats() {
    let server = Server::start().await;
    let (_a, a) = server.connect().await;
    let (_b, _) = server.connect().await;
    server.control("forget", json!({"connectionId": a})).await;
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["connections"], 1);
    assert_eq!(state["openStreams"], 2);
    assert_eq!(state["heartbeats"], true);
    assert_eq!(state["connectionIds"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn fail_next_on_events_refuses_the_next_streams_then_opens_them_again() {
    let server = Server::start().await;
    let (_stream, id) = server.connect().await;
    let armed = server
        .control(
            "fail-next",
            json!({"count": 2, "status": 503, "endpoint": "events"}),
        )
        .await;
    assert_eq!(
        armed,
        json!({"ok": true, "count": 2, "status": 503, "endpoint": "events"})
    );

    // POSTs are not what it fails.
    assert_eq!(server.send_ok_or(&id).await, StatusCode::OK);
    for _ in 0..2 {
        let refused = server.get("/api/chat/events").await;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(refused
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        assert_eq!(refused.json()["code"], "injected_failure");
        assert!(refused.error().contains("503"), "{}", refused.error());
    }
    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["faults"]["failNext"], json!(null));
    assert_eq!(state["streamsOpened"], 1, "the refused ones opened nothing");
    assert_eq!(state["openStreams"], 1);

    let (_again, fresh) = server.connect().await;
    assert_ne!(fresh, id);
}

#[tokio::test]
async fn fail_next_without_an_endpoint_never_fails_a_stream() {
    let server = Server::start().await;
    server.control("fail-next", json!({"count": 1})).await;

    let (_stream, id) = server.connect().await;

    let state = server.get_json("/api/test/state").await;
    assert_eq!(state["faults"]["failNext"]["remaining"], 1, "still armed");
    assert_eq!(
        server.send_ok_or(&id).await,
        StatusCode::INTERNAL_SERVER_ERROR,
        "spent on the next POST"
    );
}
