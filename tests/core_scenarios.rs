//! Scenario tests of the delivery core: one short given/when/then story each.
//! Sections: the seed PR and its review, the existing client's own tests
//! translated, then each delivery rule of docs/delivery-rules.md ("Rule N" below).
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_harness.rs"]
mod harness;

use harness::*;
use sse_courier::core::{
    Action, Backoff, Body, Config, DropReason, Endpoint, EndpointSet, EventVerdict, FailReason,
    Fate, MsgId, Notice, PostOutcome, SendOutcome, SessionSeq, Stats, Warning,
};

const NOT_FOUND: PostOutcome = PostOutcome::Status(404);
const OK: PostOutcome = PostOutcome::Accepted;

/// Connected, one session tracked, then `check_and_reconnect(true)`: the next
/// welcome needs a reconnect POST.
fn reconnecting_with_session() -> Rig {
    let mut rig = Rig::connected(Config::default());
    rig.m.track_seq("sess-1", 10);
    rig.check_and_reconnect(true);
    rig
}

fn session(id: &str, seq: u64) -> SessionSeq {
    SessionSeq {
        session_id: id.into(),
        last_seq: seq,
    }
}

// ─── The seed PR (#406) and its review ───────────────────────────────────────

#[test]
fn stale_404_requeues_and_reconnects_once() {
    let mut rig = Rig::connected(Config::default());
    let (outcome, sent) = rig.send(Endpoint::Send);
    let SendOutcome::Posted(msg) = outcome else {
        panic!("{outcome:?}")
    };

    let after_404 = rig.answer(post_of(&sent, msg), NOT_FOUND);

    assert_eq!(opened(&after_404).len(), 1, "one new stream");
    assert_eq!(notices(&after_404), [Notice::Close]);
    assert!(reports(&after_404).is_empty(), "not lost, not reported yet");
    assert_eq!(rig.m.pending_len(), 1);
    let flushed = rig.welcome("conn-def");
    let retry = posts(&flushed);
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].body, Body::Message(msg), "same id, so same body");
    assert_eq!(retry[0].connection_id, "conn-def");
    assert_eq!(
        reports(&rig.answer(retry[0].id, OK)),
        [(msg, Fate::Delivered)]
    );
}

#[test]
fn server_error_500_does_not_reconnect() {
    let mut rig = Rig::connected(Config::default());
    let msg = rig.send_id(Endpoint::Send);
    let post = post_of(&rig.log, msg);

    let after = rig.answer(post, PostOutcome::Status(500));

    assert!(opened(&after).is_empty() && closed(&after).is_empty());
    assert!(rig.m.is_connected());
    assert_eq!(rig.m.retrying_len(), 1, "retried later instead");
}

#[test]
fn network_error_does_not_reconnect() {
    let mut rig = Rig::connected(Config::default());
    let msg = rig.send_id(Endpoint::Send);

    let after = rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::NetworkError);

    assert!(opened(&after).is_empty() && closed(&after).is_empty());
    assert!(rig.m.is_connected());
    assert!(notices(&after).is_empty());
}

#[test]
fn lifecycle_messages_meeting_404_fail_and_are_never_requeued() {
    for endpoint in [
        Endpoint::Suspend,
        Endpoint::Close,
        Endpoint::Unwatch,
        Endpoint::Stop,
    ] {
        let mut everything = EndpointSet::default_retryable();
        everything.insert(endpoint);
        let mut rig = Rig::connected(Config {
            retryable: everything,
            ..Config::default()
        });
        let msg = rig.send_id(endpoint);

        let after = rig.answer(post_of(&rig.log.clone(), msg), NOT_FOUND);

        assert_eq!(
            reports(&after),
            [(msg, Fate::Failed(FailReason::StaleConnection))],
            "{endpoint:?}"
        );
        assert_eq!(rig.m.pending_len(), 0);
        assert!(
            posted_msgs(&rig.welcome("conn-def")).is_empty(),
            "{endpoint:?} replayed"
        );
    }
}

#[test]
fn stale_suspend_is_not_replayed_on_the_next_connection() {
    let mut rig = Rig::connected(Config::default());
    rig.m.track_seq("sess-1", 42);
    rig.m.send_suspend(rig.now);
    let suspend = post_to(&rig.drain(), Endpoint::Suspend);

    let after = rig.answer(suspend, NOT_FOUND);
    assert_eq!(opened(&after).len(), 1, "the connection is stale: rebuilt");
    let handshake = rig.welcome("conn-def");
    let connected = rig.answer(post_to(&handshake, Endpoint::Reconnect), OK);

    assert_eq!(endpoints(&handshake), [Endpoint::Reconnect]);
    assert!(posts(&connected).is_empty(), "nothing replayed");
    assert_eq!(rig.m.pending_len(), 0);
}

#[test]
fn requeue_after_404_respects_the_queue_bound() {
    let mut rig = Rig::connected(Config {
        max_pending_sends: 2,
        ..Config::default()
    });
    let first = rig.send_id(Endpoint::Send);
    let second = rig.send_id(Endpoint::Send);
    let sent = rig.log.clone();
    rig.stream_error();
    let third = rig.send_id(Endpoint::Send);

    rig.answer(post_of(&sent, first), NOT_FOUND);
    let after = rig.answer(post_of(&sent, second), NOT_FOUND);

    assert_eq!(rig.m.pending_len(), 2);
    assert_eq!(
        reports(&after),
        [(first, Fate::Dropped(DropReason::QueueOverflow))]
    );
    assert!(after.contains(&Action::Warn(Warning::MessageDropped(
        first,
        DropReason::QueueOverflow
    ))));
    assert_eq!(posted_msgs(&rig.welcome("conn-2")), [second, third]);
}

#[test]
fn three_consecutive_stale_404s_drop_the_message_with_a_report() {
    let mut rig = Rig::connected(Config::default());
    let msg = rig.send_id(Endpoint::Send);
    let mut last_post = post_of(&rig.log, msg);
    for connection in ["conn-2", "conn-3"] {
        rig.answer(last_post, NOT_FOUND);
        last_post = post_of(&rig.welcome(connection), msg);
    }

    let third = rig.answer(last_post, NOT_FOUND);

    assert_eq!(
        reports(&third),
        [(msg, Fate::Dropped(DropReason::StaleRetriesExhausted))]
    );
    assert!(third.contains(&Action::Warn(Warning::MessageDropped(
        msg,
        DropReason::StaleRetriesExhausted
    ))));
    assert!(posted_msgs(&rig.welcome("conn-4")).is_empty(), "no loop");
    assert_eq!(rig.m.stats().stale_404s, 3);
}

#[test]
fn n_pending_sends_all_meeting_404_cause_exactly_one_reconnect() {
    let mut rig = Rig::new(Config::default());
    rig.connect();
    let msgs: Vec<MsgId> = (0..5).map(|_| rig.send_id(Endpoint::Send)).collect();
    let flushed = rig.welcome("conn-abc");
    assert_eq!(posted_msgs(&flushed), msgs);

    let mut after = Vec::new();
    for post in posts(&flushed) {
        after.extend(rig.answer(post.id, NOT_FOUND));
    }

    assert_eq!(opened(&after).len(), 1);
    assert_eq!(closed(&after).len(), 1);
    assert_eq!(posted_msgs(&rig.welcome("conn-def")), msgs, "in send order");
}

// ─── The existing client's tests, translated ─────────────────────────────────

#[test]
fn connect_opens_one_stream() {
    let mut rig = Rig::new(Config::default());
    let actions = rig.connect();
    assert_eq!(actions, [Action::OpenStream(rig.stream())]);
}

#[test]
fn welcome_connects_and_notifies_open() {
    let mut rig = Rig::new(Config::default());
    rig.connect();
    assert!(!rig.m.is_connected());

    let actions = rig.welcome("conn-abc");

    assert!(rig.m.is_connected());
    assert_eq!(rig.m.connection_id(), Some("conn-abc"));
    assert_eq!(notices(&actions), [Notice::Open]);
}

#[test]
fn disconnect_closes_the_stream_without_close_notice() {
    let mut rig = Rig::connected(Config::default());
    let stream = rig.stream();

    rig.m.disconnect(rig.now);

    assert_eq!(rig.drain(), [Action::CloseStream(stream)]);
    assert!(!rig.m.is_connected());
}

#[test]
fn session_events_are_dispatched_and_their_seq_tracked() {
    let mut rig = Rig::connected(Config::default());
    let stream = rig.stream();

    let verdict = rig.m.on_event(rig.now, stream, Some("sess-1"), Some(42));

    assert_eq!(verdict, EventVerdict::Dispatch);
    assert_eq!(rig.m.last_seq("sess-1"), 42);
}

#[test]
fn send_when_connected_posts_at_once_with_the_connection_id() {
    let mut rig = Rig::connected(Config::default());

    let (outcome, actions) = rig.send(Endpoint::Send);

    let SendOutcome::Posted(msg) = outcome else {
        panic!("{outcome:?}")
    };
    let seen = posts(&actions);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].endpoint, Endpoint::Send);
    assert_eq!(seen[0].connection_id, "conn-abc");
    assert_eq!(seen[0].body, Body::Message(msg));
}

#[test]
fn every_endpoint_is_posted_to_itself_when_connected() {
    let mut rig = Rig::connected(Config::default());
    let all = [
        Endpoint::Send,
        Endpoint::Stop,
        Endpoint::Interrupt,
        Endpoint::Permission,
        Endpoint::Mode,
        Endpoint::Watch,
        Endpoint::Unwatch,
        Endpoint::Switch,
        Endpoint::Suspend,
        Endpoint::Close,
        Endpoint::Reconnect,
    ];
    for endpoint in all {
        let (outcome, actions) = rig.send(endpoint);
        assert!(matches!(outcome, SendOutcome::Posted(_)));
        assert_eq!(endpoints(&actions), [endpoint]);
    }
}

#[test]
fn unknown_message_types_are_refused() {
    assert_eq!(Endpoint::from_message_type("unknown_garbage"), None);
}

#[test]
fn sends_before_welcome_are_queued_and_flushed_after() {
    let mut rig = Rig::new(Config::default());
    rig.connect();

    let (outcome, actions) = rig.send(Endpoint::Send);
    assert!(matches!(outcome, SendOutcome::Queued(_)));
    assert!(posts(&actions).is_empty());

    let flushed = rig.welcome("conn-abc");
    assert_eq!(endpoints(&flushed), [Endpoint::Send]);
    assert_eq!(
        flushed.last(),
        Some(&Action::Notify(Notice::Open)),
        "flush, then _open"
    );
}

#[test]
fn queue_past_its_bound_drops_the_oldest_with_a_report() {
    let mut rig = Rig::new(Config::default());
    rig.connect();
    let msgs: Vec<MsgId> = (0..101).map(|_| rig.send_id(Endpoint::Send)).collect();

    assert_eq!(
        reports(&rig.log),
        [(msgs[0], Fate::Dropped(DropReason::QueueOverflow))]
    );
    let flushed = rig.welcome("conn-abc");
    assert_eq!(posted_msgs(&flushed), msgs[1..]);
}

#[test]
fn clear_pending_sends_empties_the_queue_with_reports() {
    let mut rig = Rig::new(Config::default());
    rig.connect();
    let msg = rig.send_id(Endpoint::Send);

    rig.m.clear_pending_sends();

    assert_eq!(
        reports(&rig.drain()),
        [(msg, Fate::Dropped(DropReason::Cleared))]
    );
    assert!(posts(&rig.welcome("conn-abc")).is_empty());
}

#[test]
fn stream_error_notifies_close_and_the_next_welcome_recovers() {
    let mut rig = Rig::connected(Config::default());

    let actions = rig.stream_error();

    assert_eq!(notices(&actions), [Notice::Close]);
    assert!(
        closed(&actions).is_empty(),
        "left to the browser's own retry"
    );
    assert!(!rig.m.is_connected());
    rig.welcome("conn-abc");
    assert!(rig.m.is_connected());
}

#[test]
fn second_welcome_with_tracked_sessions_posts_reconnect() {
    let mut rig = reconnecting_with_session();

    let actions = rig.welcome("conn-def");

    let seen = posts(&actions);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].endpoint, Endpoint::Reconnect);
    assert_eq!(seen[0].connection_id, "conn-def");
    assert_eq!(seen[0].body, Body::Reconnect(vec![session("sess-1", 10)]));
}

#[test]
fn connected_only_after_the_reconnect_post_succeeds() {
    let mut rig = reconnecting_with_session();
    let handshake = rig.welcome("conn-def");
    assert!(!rig.m.is_connected());
    assert!(notices(&handshake).is_empty());

    let answered = rig.answer(post_to(&handshake, Endpoint::Reconnect), OK);

    assert!(rig.m.is_connected());
    assert_eq!(notices(&answered), [Notice::Open]);
}

#[test]
fn reconnect_answer_after_disconnect_is_ignored() {
    let mut rig = reconnecting_with_session();
    let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);
    rig.m.disconnect(rig.now);
    rig.drain();

    let actions = rig.answer(reconnect, OK);

    assert!(!rig.m.is_connected());
    assert!(actions.is_empty());
}

#[test]
fn reconnect_answer_after_a_newer_welcome_is_ignored() {
    let mut rig = reconnecting_with_session();
    let first = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);
    let second = post_to(&rig.welcome("conn-ghi"), Endpoint::Reconnect);

    rig.answer(first, OK);
    assert!(!rig.m.is_connected());
    assert_eq!(rig.m.connection_id(), Some("conn-ghi"));

    let actions = rig.answer(second, OK);
    assert!(rig.m.is_connected());
    assert_eq!(notices(&actions), [Notice::Open]);
}

#[test]
fn queued_sends_flush_only_after_the_reconnect_post_completes() {
    let mut rig = reconnecting_with_session();
    rig.send_id(Endpoint::Send);

    let handshake = rig.welcome("conn-def");
    assert_eq!(endpoints(&handshake), [Endpoint::Reconnect]);

    let answered = rig.answer(post_to(&handshake, Endpoint::Reconnect), OK);
    assert_eq!(endpoints(&answered), [Endpoint::Send]);
}

#[test]
fn failed_reconnect_post_stays_disconnected() {
    for failure in [PostOutcome::Status(500), PostOutcome::NetworkError] {
        let mut rig = reconnecting_with_session();
        let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);

        let actions = rig.answer(reconnect, failure);
        rig.run_timers();

        assert!(!rig.m.is_connected(), "{failure:?}");
        assert!(!notices(&actions).contains(&Notice::Open));
        assert!(actions.contains(&Action::Warn(Warning::ReconnectPostFailed(failure))));
    }
}

#[test]
fn failed_reconnect_post_reopens_the_stream_after_exactly_the_reconnect_delay() {
    let mut rig = reconnecting_with_session();
    let stream = rig.stream();
    let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);

    let failed = rig.answer(reconnect, PostOutcome::Status(500));
    assert_eq!(closed(&failed), [stream]);
    assert_eq!(rig.m.poll_timeout(), Some(rig.now + 500));

    assert!(opened(&rig.advance(499)).is_empty());
    assert_eq!(opened(&rig.advance(1)).len(), 1);
}

#[test]
fn recovers_when_the_welcome_after_a_failed_reconnect_succeeds() {
    let mut rig = reconnecting_with_session();
    let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);
    rig.answer(reconnect, PostOutcome::Status(500));
    rig.run_timers();

    let second = post_to(&rig.welcome("conn-ghi"), Endpoint::Reconnect);
    let actions = rig.answer(second, OK);

    assert!(rig.m.is_connected());
    assert_eq!(notices(&actions), [Notice::Open]);
}

#[test]
fn events_are_dispatched_while_the_reconnect_post_is_in_flight() {
    let mut rig = reconnecting_with_session();
    rig.welcome("conn-def");
    assert!(!rig.m.is_connected());

    let stream = rig.stream();
    let verdict = rig.m.on_event(rig.now, stream, Some("sess-1"), Some(11));

    assert_eq!(verdict, EventVerdict::Dispatch);
}

#[test]
fn queued_sends_survive_a_failed_reconnect_post() {
    let mut rig = reconnecting_with_session();
    let msg = rig.send_id(Endpoint::Send);
    let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);

    let failed = rig.answer(reconnect, PostOutcome::Status(500));
    rig.run_timers();
    assert!(posts(&failed).is_empty());
    assert!(reports(&rig.log).is_empty());

    let second = post_to(&rig.welcome("conn-ghi"), Endpoint::Reconnect);
    assert_eq!(posted_msgs(&rig.answer(second, OK)), [msg]);
}

#[test]
fn reconnect_answer_after_check_and_reconnect_is_ignored() {
    let mut rig = reconnecting_with_session();
    let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);
    rig.check_and_reconnect(true);

    rig.answer(reconnect, OK);

    assert!(!rig.m.is_connected());
    assert_eq!(rig.m.stats().late_answers, 1);
}

#[test]
fn check_and_reconnect_before_any_welcome_emits_no_close() {
    let mut rig = Rig::new(Config::default());
    rig.connect();

    let actions = rig.check_and_reconnect(true);

    assert!(notices(&actions).is_empty());
    assert_eq!(opened(&actions).len(), 1);
}

#[test]
fn repeated_reconnect_failures_back_off_then_recover() {
    let mut rig = reconnecting_with_session();
    let mut delays = Vec::new();
    for connection in ["conn-def", "conn-ghi", "conn-jkl"] {
        let reconnect = post_to(&rig.welcome(connection), Endpoint::Reconnect);
        rig.answer(reconnect, PostOutcome::Status(500));
        delays.push(rig.m.poll_timeout().map(|t| t - rig.now));
        rig.run_timers();
    }
    assert_eq!(
        delays[0],
        Some(500),
        "the first delay is the existing client's"
    );
    assert!(delays[1].is_some_and(|d| (500..=1000).contains(&d)));
    assert!(delays[2].is_some_and(|d| (1000..=2000).contains(&d)));

    let reconnect = post_to(&rig.welcome("conn-mno"), Endpoint::Reconnect);
    assert_eq!(notices(&rig.answer(reconnect, OK)), [Notice::Open]);
}

#[test]
fn welcome_with_no_tracked_sessions_connects_without_reconnect_post() {
    let mut rig = Rig::connected(Config::default());
    rig.m.track_seq("sess-1", 10);
    rig.m.clear_session("sess-1");
    rig.check_and_reconnect(true);

    let actions = rig.welcome("conn-def");

    assert!(posts(&actions).is_empty());
    assert!(rig.m.is_connected());
    assert_eq!(notices(&actions), [Notice::Open]);
}

#[test]
fn first_welcome_never_posts_reconnect() {
    let mut rig = Rig::new(Config::default());
    rig.connect();
    rig.m.track_seq("sess-1", 5);

    let actions = rig.welcome("conn-abc");

    assert!(!endpoints(&actions).contains(&Endpoint::Reconnect));
    assert!(rig.m.is_connected());
}

#[test]
fn check_and_reconnect_without_force_is_a_no_op_when_connected() {
    let mut rig = Rig::connected(Config::default());
    assert!(rig.check_and_reconnect(false).is_empty());
}

#[test]
fn session_tracking_round_trips() {
    let mut rig = Rig::new(Config::default());
    rig.m.track_seq("sess-1", 5);
    rig.m.track_seq("sess-2", 2);
    assert_eq!(rig.m.last_seq("sess-1"), 5);
    assert_eq!(rig.m.last_seq("nonexistent"), 0);
    assert_eq!(
        rig.m.tracked_sessions().collect::<Vec<_>>(),
        ["sess-1", "sess-2"]
    );

    rig.m.clear_session("sess-1");
    assert_eq!(rig.m.last_seq("sess-1"), 0);
}

#[test]
fn send_suspend_posts_tracked_sessions_when_connected() {
    let mut rig = Rig::connected(Config::default());
    rig.m.track_seq("sess-1", 42);

    rig.m.send_suspend(rig.now);

    let seen = posts(&rig.drain());
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].endpoint, Endpoint::Suspend);
    assert_eq!(seen[0].body, Body::Suspend(vec![session("sess-1", 42)]));
}

#[test]
fn send_suspend_does_nothing_without_tracked_sessions() {
    let mut rig = Rig::connected(Config::default());
    rig.m.send_suspend(rig.now);
    assert!(rig.drain().is_empty());
}

#[test]
fn send_suspend_when_down_falls_back_to_a_beacon_for_the_last_connection() {
    let mut rig = Rig::connected(Config::default());
    rig.m.track_seq("sess-1", 7);
    rig.stream_error();

    rig.m.send_suspend(rig.now);

    assert_eq!(
        rig.drain(),
        [Action::Beacon {
            connection_id: "conn-abc".into(),
            sessions: vec![session("sess-1", 7)],
        }]
    );
}

#[test]
fn send_suspend_before_any_welcome_sends_nothing() {
    let mut rig = Rig::new(Config::default());
    rig.connect();
    rig.m.track_seq("sess-1", 7);
    rig.m.send_suspend(rig.now);
    assert!(rig.drain().is_empty());
}

#[test]
fn send_is_refused_before_connect_and_after_disconnect() {
    let mut rig = Rig::new(Config::default());
    assert_eq!(rig.send(Endpoint::Send).0, SendOutcome::Refused);
    rig.connect();
    rig.m.disconnect(rig.now);
    assert_eq!(rig.send(Endpoint::Send).0, SendOutcome::Refused);
}

#[test]
fn send_is_queued_while_a_reconnect_is_scheduled() {
    let mut rig = reconnecting_with_session();
    let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);
    rig.answer(reconnect, PostOutcome::Status(500));
    assert_eq!(rig.m.current_stream(), None);

    assert!(matches!(rig.send(Endpoint::Send).0, SendOutcome::Queued(_)));
}

// ─── Rule 6: transient failures are retried, not reconnected ─────────────────

fn fast_retries(max_send_retries: u32) -> Config {
    Config {
        max_send_retries,
        backoff: Backoff {
            initial_ms: 100,
            max_ms: 1_000,
        },
        ..Config::default()
    }
}

#[test]
fn retryable_send_is_retried_with_growing_backoff_then_reported_failed() {
    let mut rig = Rig::connected(fast_retries(3));
    let msg = rig.send_id(Endpoint::Send);
    let mut post = post_of(&rig.log, msg);
    let mut delays = Vec::new();
    for _ in 0..3 {
        rig.answer(post, PostOutcome::Status(503));
        let delay = rig.m.poll_timeout().map(|t| t - rig.now);
        delays.push(delay.unwrap_or(0));
        post = post_of(&rig.run_timers(), msg);
    }

    let last = rig.answer(post, PostOutcome::Status(503));

    assert_eq!(
        reports(&last),
        [(msg, Fate::Failed(FailReason::ServerError(503)))]
    );
    assert!((50..=100).contains(&delays[0]), "{delays:?}");
    assert!((100..=200).contains(&delays[1]), "{delays:?}");
    assert!((200..=400).contains(&delays[2]), "{delays:?}");
    assert_eq!(rig.m.stats().streams_opened, 1, "never reconnected");
}

#[test]
fn retried_send_that_succeeds_is_delivered_once() {
    let mut rig = Rig::connected(fast_retries(5));
    let msg = rig.send_id(Endpoint::Send);
    rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::NetworkError);

    let retry = post_of(&rig.run_timers(), msg);
    let done = rig.answer(retry, OK);

    assert_eq!(reports(&rig.log), [(msg, Fate::Delivered)]);
    assert_eq!(reports(&done), [(msg, Fate::Delivered)]);
}

#[test]
fn too_many_requests_counts_as_transient() {
    let mut rig = Rig::connected(fast_retries(5));
    let msg = rig.send_id(Endpoint::Send);
    rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::Status(429));
    assert_eq!(rig.m.retrying_len(), 1);
}

#[test]
fn non_retryable_message_fails_at_once_on_server_error() {
    let mut rig = Rig::connected(Config::default());
    let msg = rig.send_id(Endpoint::Watch);

    let after = rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::Status(500));

    assert_eq!(
        reports(&after),
        [(msg, Fate::Failed(FailReason::ServerError(500)))]
    );
    assert_eq!(rig.m.poll_timeout(), None);
}

#[test]
fn other_4xx_is_rejected_without_retry() {
    let mut rig = Rig::connected(Config::default());
    let msg = rig.send_id(Endpoint::Send);

    let after = rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::Status(400));

    assert_eq!(
        reports(&after),
        [(msg, Fate::Failed(FailReason::Rejected(400)))]
    );
    assert_eq!(rig.m.retrying_len(), 0);
}

#[test]
fn retry_that_comes_due_while_down_waits_in_the_queue() {
    let mut rig = Rig::connected(fast_retries(5));
    let msg = rig.send_id(Endpoint::Send);
    rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::Status(502));
    rig.stream_error();

    let due = rig.run_timers();

    assert!(posts(&due).is_empty());
    assert_eq!(rig.m.pending_len(), 1);
    assert_eq!(posted_msgs(&rig.welcome("conn-abc")), [msg]);
}

#[test]
fn zero_send_retries_fails_a_retryable_send_on_first_transient_error() {
    let mut rig = Rig::connected(fast_retries(0));
    let msg = rig.send_id(Endpoint::Send);

    let after = rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::NetworkError);

    assert_eq!(reports(&after), [(msg, Fate::Failed(FailReason::Network))]);
}

// ─── Rule 7: late answers never change connection state ──────────────────────

#[test]
fn late_message_answer_still_settles_its_fate_without_state_change() {
    let mut rig = Rig::connected(Config::default());
    let msg = rig.send_id(Endpoint::Send);
    let post = post_of(&rig.log, msg);
    rig.check_and_reconnect(true);
    rig.welcome("conn-def");

    let after = rig.answer(post, OK);

    assert_eq!(
        after,
        [Action::Report {
            msg,
            fate: Fate::Delivered
        }]
    );
    assert!(rig.m.is_connected());
}

#[test]
fn late_404_after_a_newer_welcome_reposts_on_the_current_connection_without_reconnect() {
    let mut rig = Rig::connected(Config::default());
    let msg = rig.send_id(Endpoint::Send);
    let post = post_of(&rig.log, msg);
    rig.check_and_reconnect(true);
    rig.welcome("conn-def");

    let after = rig.answer(post, NOT_FOUND);

    assert!(opened(&after).is_empty() && notices(&after).is_empty());
    let again = posts(&after);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].connection_id, "conn-def");
    assert_eq!(again[0].body, Body::Message(msg));
}

#[test]
fn late_404_after_a_stream_error_requeues_without_a_second_reconnect() {
    let mut rig = Rig::connected(Config::default());
    let msg = rig.send_id(Endpoint::Send);
    let post = post_of(&rig.log, msg);
    rig.stream_error();

    let after = rig.answer(post, NOT_FOUND);

    assert!(opened(&after).is_empty());
    assert_eq!(rig.m.pending_len(), 1);
    assert_eq!(posted_msgs(&rig.welcome("conn-def")), [msg]);
}

#[test]
fn reconnect_answer_after_a_stream_error_is_ignored() {
    let mut rig = reconnecting_with_session();
    let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);
    rig.stream_error();

    let after = rig.answer(reconnect, OK);

    assert!(after.is_empty());
    assert!(!rig.m.is_connected());
}

#[test]
fn an_answer_to_an_unknown_post_changes_nothing() {
    let mut rig = Rig::connected(Config::default());
    let after = rig.answer(sse_courier::core::PostId(999), NOT_FOUND);
    assert!(after.is_empty());
    assert!(rig.m.is_connected());
}

// ─── Rule 8: replays are de-duplicated ───────────────────────────────────────

#[test]
fn replayed_event_not_newer_than_tracked_seq_is_a_duplicate() {
    let mut rig = Rig::connected(Config::default());
    let stream = rig.stream();
    rig.m.on_event(rig.now, stream, Some("sess-1"), Some(5));

    let same = rig.m.on_event(rig.now, stream, Some("sess-1"), Some(5));
    let older = rig.m.on_event(rig.now, stream, Some("sess-1"), Some(3));
    let newer = rig.m.on_event(rig.now, stream, Some("sess-1"), Some(6));

    assert_eq!(
        [same, older, newer],
        [
            EventVerdict::Duplicate,
            EventVerdict::Duplicate,
            EventVerdict::Dispatch
        ]
    );
    assert_eq!(rig.m.last_seq("sess-1"), 6);
    assert_eq!(rig.m.stats().duplicates_skipped, 2);
}

#[test]
fn replay_after_reconnect_skips_what_was_already_seen() {
    let mut rig = reconnecting_with_session();
    rig.welcome("conn-def");
    let stream = rig.stream();

    let replayed = rig.m.on_event(rig.now, stream, Some("sess-1"), Some(10));
    let missed = rig.m.on_event(rig.now, stream, Some("sess-1"), Some(11));

    assert_eq!(
        [replayed, missed],
        [EventVerdict::Duplicate, EventVerdict::Dispatch]
    );
}

#[test]
fn events_without_session_or_seq_are_always_dispatched() {
    let mut rig = Rig::connected(Config::default());
    let stream = rig.stream();
    for (session, seq) in [(None, None), (Some("sess-1"), None), (None, Some(1))] {
        assert_eq!(
            rig.m.on_event(rig.now, stream, session, seq),
            EventVerdict::Dispatch
        );
        assert_eq!(
            rig.m.on_event(rig.now, stream, session, seq),
            EventVerdict::Dispatch
        );
    }
}

#[test]
fn events_and_welcomes_from_a_replaced_stream_are_ignored() {
    let mut rig = Rig::connected(Config::default());
    let old = rig.stream();
    rig.check_and_reconnect(true);

    assert_eq!(
        rig.m.on_event(rig.now, old, Some("s"), Some(1)),
        EventVerdict::Ignored
    );
    rig.m.on_welcome(rig.now, old, "conn-old");
    assert!(rig.drain().is_empty());
    assert_eq!(rig.m.connection_id(), Some("conn-abc"));
    assert_eq!(rig.m.last_seq("s"), 0);
}

// ─── Rule 9: browser lifecycle and the stale-stream watchdog ─────────────────

#[test]
fn becoming_visible_while_down_reconnects_then_notifies_foreground() {
    let mut rig = Rig::connected(Config::default());
    rig.stream_error();

    rig.m.on_visibility(rig.now, true);

    let actions = rig.drain();
    assert_eq!(opened(&actions).len(), 1);
    assert_eq!(actions.last(), Some(&Action::Notify(Notice::Foreground)));
}

#[test]
fn becoming_visible_while_connected_only_notifies_foreground() {
    let mut rig = Rig::connected(Config::default());
    rig.m.on_visibility(rig.now, true);
    assert_eq!(rig.drain(), [Action::Notify(Notice::Foreground)]);
}

#[test]
fn hidden_and_pagehide_send_suspend() {
    let mut rig = Rig::connected(Config::default());
    rig.m.track_seq("sess-1", 1);

    rig.m.on_visibility(rig.now, false);
    rig.m.on_page_hide(rig.now);

    assert_eq!(
        endpoints(&rig.drain()),
        [Endpoint::Suspend, Endpoint::Suspend]
    );
}

#[test]
fn only_a_suspend_sent_as_the_page_goes_away_outlives_the_page() {
    let mut rig = Rig::connected(Config::default());
    rig.m.track_seq("sess-1", 1);
    rig.m.send(rig.now, Endpoint::Send);

    rig.m.send_suspend(rig.now);
    rig.m.on_visibility(rig.now, false);
    rig.m.on_page_hide(rig.now);

    let keepalive: Vec<(Endpoint, bool)> = posts(&rig.drain())
        .iter()
        .map(|post| (post.endpoint, post.keepalive))
        .collect();
    assert_eq!(
        keepalive,
        [
            (Endpoint::Send, false),
            (Endpoint::Suspend, false),
            (Endpoint::Suspend, true),
            (Endpoint::Suspend, true),
        ]
    );
}

#[test]
fn pageshow_from_bfcache_reconnects_if_down() {
    let mut rig = Rig::connected(Config::default());
    rig.stream_error();

    rig.m.on_page_show(rig.now, false);
    assert!(rig.drain().is_empty());
    rig.m.on_page_show(rig.now, true);
    assert_eq!(opened(&rig.drain()).len(), 1);
}

#[test]
fn online_reopens_a_scheduled_reconnect_at_once() {
    let mut rig = reconnecting_with_session();
    let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);
    rig.answer(reconnect, PostOutcome::NetworkError);

    rig.m.on_online(rig.now);

    assert_eq!(opened(&rig.drain()).len(), 1);
    assert_eq!(
        rig.m.poll_timeout(),
        None,
        "the delayed reopen is cancelled"
    );
}

#[test]
fn online_while_connected_does_nothing() {
    let mut rig = Rig::connected(Config::default());
    rig.m.on_online(rig.now);
    assert!(rig.drain().is_empty());
}

#[test]
fn online_while_the_browser_retries_an_erroring_stream_rebuilds_it_at_once() {
    let mut rig = Rig::connected(Config::default());
    let erroring = rig.stream();
    rig.stream_error();

    rig.m.on_online(rig.now);

    let actions = rig.drain();
    assert_eq!(closed(&actions), [erroring]);
    assert_eq!(opened(&actions).len(), 1);
    assert!(notices(&actions).is_empty(), "_close was already sent");
}

#[test]
fn check_and_reconnect_while_a_reconnect_is_scheduled_waits_for_it() {
    let mut rig = Rig::connected(Config::default());
    let stream = rig.stream();
    rig.m.on_stream_error(rig.now, stream, true);
    rig.drain();

    rig.check_and_reconnect(true);
    rig.m.on_visibility(rig.now, true);

    assert!(opened(&rig.drain()).is_empty(), "no second way back");
    assert_eq!(opened(&rig.advance(500)).len(), 1);
}

#[test]
fn stream_closed_by_the_browser_is_reopened_by_the_core_after_the_delay() {
    let mut rig = Rig::connected(Config::default());
    let stream = rig.stream();

    rig.m.on_stream_error(rig.now, stream, true);

    let actions = rig.drain();
    assert_eq!(notices(&actions), [Notice::Close]);
    assert_eq!(closed(&actions), [stream]);
    assert!(matches!(rig.send(Endpoint::Send).0, SendOutcome::Queued(_)));
    assert_eq!(opened(&rig.advance(500)).len(), 1);
}

#[test]
fn silent_stream_is_rebuilt_after_stale_after_ms() {
    let mut rig = Rig::connected(Config {
        stale_after_ms: Some(45_000),
        ..Config::default()
    });
    let stream = rig.stream();
    rig.advance(30_000);
    rig.m.on_malformed_event(rig.now, stream);
    rig.advance(30_000);
    rig.m.on_event(rig.now, stream, None, None);
    assert!(
        opened(&rig.advance(44_999)).is_empty(),
        "activity postpones it"
    );

    let rebuilt = rig.advance(1);

    assert_eq!(closed(&rebuilt), [stream]);
    assert_eq!(opened(&rebuilt).len(), 1);
    assert_eq!(notices(&rebuilt), [Notice::Close]);
    assert!(rebuilt.contains(&Action::Warn(Warning::StaleStream)));
    assert_eq!(rig.m.stats().malformed_events, 1);
}

#[test]
fn no_timer_is_armed_by_default_once_connected() {
    let mut rig = Rig::connected(Config::default());
    rig.send_id(Endpoint::Send);
    assert_eq!(rig.m.poll_timeout(), None);
}

// ─── POST timeouts (opt-in) ──────────────────────────────────────────────────

#[test]
fn post_unanswered_past_its_timeout_is_aborted_and_retried() {
    let mut rig = Rig::connected(Config {
        post_timeout_ms: Some(10_000),
        ..fast_retries(5)
    });
    let msg = rig.send_id(Endpoint::Send);
    let post = post_of(&rig.log, msg);

    let timed_out = rig.advance(10_000);

    assert_eq!(timed_out, [Action::AbortPost(post)]);
    assert_eq!(rig.m.retrying_len(), 1);
    assert!(
        rig.answer(post, OK).is_empty(),
        "the aborted POST's answer is ignored"
    );
    assert_eq!(
        posted_msgs(&rig.advance(100)),
        [msg],
        "retried after its backoff"
    );
}

#[test]
fn timed_out_reconnect_post_schedules_a_reconnect() {
    let mut rig = Rig::connected(Config {
        post_timeout_ms: Some(5_000),
        ..Config::default()
    });
    rig.m.track_seq("sess-1", 1);
    rig.check_and_reconnect(true);
    let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);

    let after = rig.advance(5_000);

    assert_eq!(after[0], Action::AbortPost(reconnect));
    assert!(after.contains(&Action::Warn(Warning::ReconnectPostFailed(
        PostOutcome::TimedOut
    ))));
    assert_eq!(opened(&rig.advance(500)).len(), 1);
}

// ─── Ordered sends (opt-in) ──────────────────────────────────────────────────

fn ordered() -> Config {
    Config {
        ordered_sends: true,
        ..fast_retries(5)
    }
}

#[test]
fn ordered_sends_keep_one_send_in_flight_and_post_the_next_on_delivery() {
    let mut rig = Rig::connected(ordered());
    let (first, _) = rig.send(Endpoint::Send);
    let (second, _) = rig.send(Endpoint::Send);
    let (stop, stop_actions) = rig.send(Endpoint::Stop);
    let (SendOutcome::Posted(first), SendOutcome::Queued(second)) = (first, second) else {
        panic!("{first:?} {second:?}")
    };
    assert!(
        matches!(stop, SendOutcome::Posted(_)),
        "lifecycle messages never wait"
    );
    assert_eq!(endpoints(&stop_actions), [Endpoint::Stop]);

    let after = rig.answer(post_of(&rig.log.clone(), first), OK);

    assert_eq!(posted_msgs(&after), [second]);
}

#[test]
fn ordered_sends_are_delivered_in_send_order_across_404_and_retries() {
    let mut rig = Rig::connected(ordered());
    let msgs: Vec<MsgId> = (0..3).map(|_| rig.send_id(Endpoint::Send)).collect();
    rig.answer(post_of(&rig.log.clone(), msgs[0]), NOT_FOUND);
    let flushed = rig.welcome("conn-def");
    assert_eq!(posted_msgs(&flushed), [msgs[0]]);
    rig.answer(post_of(&flushed, msgs[0]), PostOutcome::Status(503));
    let retried = rig.run_timers();
    assert_eq!(posted_msgs(&retried), [msgs[0]], "the others still wait");

    let mut post = post_of(&retried, msgs[0]);
    let mut delivered = Vec::new();
    for _ in 0..3 {
        let after = rig.answer(post, OK);
        delivered.extend(reports(&after).into_iter().map(|(m, _)| m));
        if let Some(next) = posts(&after).first() {
            post = next.id;
        }
    }
    assert_eq!(delivered, msgs);
}

// ─── Rule 10 and bookkeeping ─────────────────────────────────────────────────

#[test]
fn clear_pending_sends_also_drops_messages_waiting_on_a_retry() {
    let mut rig = Rig::connected(fast_retries(5));
    let msg = rig.send_id(Endpoint::Send);
    rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::Status(500));

    rig.m.clear_pending_sends();

    assert_eq!(
        reports(&rig.drain()),
        [(msg, Fate::Dropped(DropReason::Cleared))]
    );
    assert_eq!(rig.m.poll_timeout(), None);
}

#[test]
fn disconnect_keeps_the_queue_for_the_next_connect() {
    let mut rig = Rig::new(Config::default());
    rig.connect();
    let msg = rig.send_id(Endpoint::Send);
    rig.m.disconnect(rig.now);

    rig.connect();

    assert_eq!(posted_msgs(&rig.welcome("conn-abc")), [msg]);
}

#[test]
fn disconnect_moves_messages_waiting_on_a_retry_into_the_queue() {
    let mut rig = Rig::connected(fast_retries(5));
    let msg = rig.send_id(Endpoint::Send);
    rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::Status(500));

    rig.m.disconnect(rig.now);

    assert_eq!((rig.m.pending_len(), rig.m.retrying_len()), (1, 0));
    assert_eq!(rig.m.poll_timeout(), None);
}

#[test]
fn reconnect_after_disconnect_posts_reconnect_when_sessions_are_tracked() {
    let mut rig = Rig::connected(Config::default());
    rig.m.track_seq("sess-1", 3);
    rig.m.disconnect(rig.now);
    rig.connect();

    let actions = rig.welcome("conn-def");

    assert_eq!(endpoints(&actions), [Endpoint::Reconnect]);
}

#[test]
fn transient_failure_answered_after_disconnect_waits_in_the_queue_without_a_timer() {
    let mut rig = Rig::connected(fast_retries(5));
    let msg = rig.send_id(Endpoint::Send);
    rig.m.disconnect(rig.now);

    rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::Status(503));

    assert_eq!(rig.m.poll_timeout(), None);
    assert_eq!(rig.m.pending_len(), 1);
    rig.connect();
    assert_eq!(posted_msgs(&rig.welcome("conn-def")), [msg]);
}

#[test]
fn an_unvalidated_zero_config_neither_panics_nor_spins() {
    let mut rig = Rig::connected(Config {
        reconnect_delay_ms: 0,
        max_pending_sends: 0,
        max_stale_retries: 0,
        stale_after_ms: Some(0),
        post_timeout_ms: Some(0),
        backoff: Backoff {
            initial_ms: 0,
            max_ms: 0,
        },
        ..Config::default()
    });
    let msg = rig.send_id(Endpoint::Send);

    for _ in 0..10 {
        rig.advance(1);
    }

    assert!(
        reports(&rig.log).iter().any(|(m, _)| *m == msg),
        "settled, not stuck"
    );
}

// ─── Counts: pending, in flight, stats ───────────────────────────────────────

#[test]
fn a_message_waiting_on_its_retry_counts_as_in_flight_not_pending() {
    let mut rig = Rig::connected(fast_retries(5));
    let msg = rig.send_id(Endpoint::Send);
    assert_eq!((rig.m.pending_len(), rig.m.in_flight_len()), (0, 1));

    rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::Status(503));

    assert_eq!(rig.m.retrying_len(), 1);
    assert_eq!(
        (rig.m.pending_len(), rig.m.in_flight_len()),
        (0, 1),
        "posted once, not back in the send queue"
    );
    let retry = post_of(&rig.run_timers(), msg);
    assert_eq!((rig.m.pending_len(), rig.m.in_flight_len()), (0, 1));
    rig.answer(retry, OK);
    assert_eq!((rig.m.pending_len(), rig.m.in_flight_len()), (0, 0));
}

#[test]
fn a_message_waiting_on_its_retry_becomes_pending_on_disconnect() {
    let mut rig = Rig::connected(fast_retries(5));
    let msg = rig.send_id(Endpoint::Send);
    rig.answer(post_of(&rig.log.clone(), msg), PostOutcome::NetworkError);

    rig.m.disconnect(rig.now);

    assert_eq!((rig.m.pending_len(), rig.m.in_flight_len()), (1, 0));
}

#[test]
fn stats_count_streams_reconnects_and_reconnect_posts() {
    let mut rig = reconnecting_with_session();
    let reconnect = post_to(&rig.welcome("conn-def"), Endpoint::Reconnect);
    rig.answer(reconnect, PostOutcome::Status(503));
    rig.advance(500);
    rig.stream_error();
    rig.m.on_online(rig.now);
    let reconnect = post_to(&rig.welcome("conn-ghi"), Endpoint::Reconnect);
    rig.answer(reconnect, NOT_FOUND);

    rig.m.on_online(rig.now);

    assert_eq!(
        rig.m.stats(),
        &Stats {
            streams_opened: 5,
            reconnects: 4,
            reconnect_posts: 2,
            reconnect_post_failures: 2,
            stale_404s: 1,
            ..Stats::default()
        },
        "forced rebuild, reconnect timer, online twice; two handshakes refused"
    );
}

#[test]
fn stats_count_duplicates_malformed_events_timeouts_and_the_watchdog() {
    let mut rig = Rig::connected(Config {
        stale_after_ms: Some(10_000),
        post_timeout_ms: Some(1_000),
        ..fast_retries(5)
    });
    let stream = rig.stream();
    rig.m.on_event(rig.now, stream, Some("s"), Some(2));
    rig.m.on_event(rig.now, stream, Some("s"), Some(2));
    rig.m.on_malformed_event(rig.now, stream);
    let msg = rig.send_id(Endpoint::Send);
    rig.advance(1_000);
    let retry = post_of(&rig.advance(100), msg);
    rig.answer(retry, OK);

    rig.advance(10_000);

    assert_eq!(
        rig.m.stats(),
        &Stats {
            streams_opened: 2,
            reconnects: 1,
            duplicates_skipped: 1,
            malformed_events: 1,
            post_timeouts: 1,
            send_retries: 1,
            stale_streams: 1,
            delivered: 1,
            ..Stats::default()
        }
    );
}

#[test]
fn stats_count_every_fate_and_every_late_answer() {
    let mut rig = Rig::connected(fast_retries(0));
    let delivered = rig.send_id(Endpoint::Send);
    let failed = rig.send_id(Endpoint::Send);
    let late = rig.send_id(Endpoint::Mode);
    rig.answer(post_of(&rig.log.clone(), delivered), OK);
    rig.answer(post_of(&rig.log.clone(), failed), PostOutcome::Status(500));
    rig.check_and_reconnect(true);
    rig.answer(post_of(&rig.log.clone(), late), OK);
    let dropped = rig.send_id(Endpoint::Send);
    rig.m.clear_pending_sends();
    rig.drain();

    assert_eq!(
        reports(&rig.log),
        [
            (delivered, Fate::Delivered),
            (failed, Fate::Failed(FailReason::ServerError(500))),
            (late, Fate::Delivered),
            (dropped, Fate::Dropped(DropReason::Cleared)),
        ]
    );
    assert_eq!(
        rig.m.stats(),
        &Stats {
            streams_opened: 2,
            reconnects: 1,
            late_answers: 1,
            delivered: 2,
            dropped: 1,
            failed: 1,
            ..Stats::default()
        }
    );
}
