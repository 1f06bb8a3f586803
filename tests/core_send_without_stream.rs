//! Rule 15 (docs/delivery-rules.md): with `send_without_stream`, prompts go out at
//! once, one at a time and in send order, whether or not a welcome has arrived, with
//! `X-Connection-ID` only while one is known; a 404 on a prompt is final; 429, 5xx,
//! network errors and timeouts are retried with the same body. Control messages still
//! wait for the stream.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_contract_harness.rs"]
mod contract;

use contract::harness::*;
use contract::*;
use sse_courier::core::{Config, Endpoint, FailReason, Fate, PostOutcome, SendOutcome};

fn without_stream() -> Config {
    Config {
        send_without_stream: true,
        ..Config::default()
    }
}

/// `connect()` called, no welcome yet.
fn connecting(config: Config) -> Rig {
    let mut rig = Rig::new(config);
    rig.connect();
    rig
}

#[test]
fn a_prompt_sent_before_the_welcome_goes_out_at_once_without_a_connection_id() {
    let mut rig = connecting(without_stream());

    let (outcome, sent) = send_prompt(&mut rig, "m1", None);

    let SendOutcome::Posted(msg) = outcome else {
        panic!("{outcome:?}")
    };
    let posted = prompt_posts(&sent);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].connection_id, None, "no X-Connection-ID");
    assert!(!posted[0].read_receipt, "receipts are their own option");
    let delivered = rig.answer(posted[0].id, PostOutcome::Accepted);
    assert_eq!(reports(&delivered), [(msg, Fate::Delivered)]);
    assert!(
        prompt_posts(&rig.welcome("conn-abc")).is_empty(),
        "sent once"
    );
}

#[test]
fn prompts_go_one_at_a_time_in_send_order() {
    let mut rig = connecting(without_stream());
    let first = prompt_id(&mut rig, "m1", None);
    let (second_outcome, _) = send_prompt(&mut rig, "m2", None);
    let SendOutcome::Queued(second) = second_outcome else {
        panic!("{second_outcome:?}")
    };
    let third = prompt_id(&mut rig, "m3", None);
    assert_eq!(posted_prompts(&rig.log), [first]);

    let after_first = rig.answer(prompt_post_of(&rig.log, first), PostOutcome::Accepted);
    assert_eq!(posted_prompts(&after_first), [second], "the next, alone");
    let after_second = rig.answer(prompt_post_of(&rig.log, second), PostOutcome::Accepted);
    assert_eq!(posted_prompts(&after_second), [third]);
}

#[test]
fn a_prompt_waits_while_an_earlier_one_waits_on_its_retry() {
    let mut rig = connecting(without_stream());
    let first = prompt_id(&mut rig, "m1", None);
    rig.answer(prompt_post_of(&rig.log, first), PostOutcome::Status(503));

    let (outcome, sent) = send_prompt(&mut rig, "m2", None);

    assert!(matches!(outcome, SendOutcome::Queued(_)), "{outcome:?}");
    assert!(prompt_posts(&sent).is_empty());
    let retried = rig.run_timers();
    assert_eq!(posted_prompts(&retried), [first], "the retry goes first");
}

#[test]
fn control_messages_still_wait_for_the_stream() {
    let mut rig = connecting(without_stream());
    let (outcome, sent) = rig.send(Endpoint::Stop);
    assert!(matches!(outcome, SendOutcome::Queued(_)), "{outcome:?}");
    assert!(posts(&sent).is_empty());

    let welcomed = rig.welcome("conn-abc");

    let flushed = posts(&welcomed);
    assert_eq!(flushed.len(), 1);
    assert_eq!(flushed[0].endpoint, Endpoint::Stop);
    assert_eq!(flushed[0].connection_id, "conn-abc");
}

#[test]
fn the_connection_id_goes_with_a_prompt_only_while_a_welcome_is_current() {
    let mut rig = Rig::connected(without_stream());
    let first = prompt_id(&mut rig, "m1", None);
    let posted = prompt_posts(&rig.log);
    assert_eq!(posted[0].connection_id.as_deref(), Some("conn-abc"));
    rig.answer(posted[0].id, PostOutcome::Accepted);

    rig.stream_error();
    let (_, sent) = send_prompt(&mut rig, "m2", None);

    assert_eq!(
        prompt_posts(&sent)[0].connection_id,
        None,
        "a stale id is not sent"
    );
    assert_ne!(prompt_posts(&sent)[0].msg, first);
}

#[test]
fn a_404_on_a_prompt_is_final_and_rebuilds_nothing() {
    let mut rig = Rig::connected(without_stream());
    let msg = prompt_id(&mut rig, "m1", None);

    let after = rig.answer(prompt_post_of(&rig.log, msg), PostOutcome::Status(404));

    assert_eq!(
        reports(&after),
        [(msg, Fate::Failed(FailReason::Rejected(404)))]
    );
    assert!(opened(&after).is_empty() && closed(&after).is_empty());
    assert!(rig.m.is_connected());
}

#[test]
fn transient_failures_are_retried_with_the_same_body() {
    let failures = [
        PostOutcome::Status(500),
        PostOutcome::Status(429),
        PostOutcome::NetworkError,
    ];
    let mut rig = Rig::connected(Config {
        post_timeout_ms: Some(15_000),
        ..without_stream()
    });
    let msg = prompt_id(&mut rig, "m1", None);
    for failure in failures {
        rig.answer(prompt_post_of(&rig.log, msg), failure);
        let retried = fire_next_timer(&mut rig);
        assert_eq!(posted_prompts(&retried), [msg], "after {failure:?}");
        assert!(
            opened(&retried).is_empty(),
            "{failure:?} reconnects nothing"
        );
    }
    fire_next_timer(&mut rig);
    assert_eq!(rig.m.stats().post_timeouts, 1);
    let retried = fire_next_timer(&mut rig);

    assert_eq!(posted_prompts(&retried), [msg], "after the timeout");
    assert_eq!(
        posted_prompts(&rig.log),
        [msg; 5],
        "one message, so one body"
    );
    let settled = rig.answer(prompt_post_of(&rig.log, msg), PostOutcome::Accepted);
    assert_eq!(reports(&settled), [(msg, Fate::Delivered)]);
    assert_eq!(opened(&rig.log).len(), 1, "the first stream only");
}

/// Jumps to the next deadline and fires it.
fn fire_next_timer(rig: &mut Rig) -> Vec<sse_courier::core::Action> {
    let at = rig.m.poll_timeout().expect("a timer");
    rig.advance(at - rig.now)
}

#[test]
fn prompts_are_refused_before_connect_and_wait_after_disconnect() {
    let mut rig = Rig::new(without_stream());
    assert_eq!(send_prompt(&mut rig, "m0", None).0, SendOutcome::Refused);
    rig.connect();
    let msg = prompt_id(&mut rig, "m1", None);
    rig.answer(prompt_post_of(&rig.log, msg), PostOutcome::Status(500));

    rig.m.disconnect(rig.now);
    assert_eq!(rig.m.poll_timeout(), None, "no timer outlives disconnect()");
    assert_eq!(send_prompt(&mut rig, "m2", None).0, SendOutcome::Refused);
    let reopened = rig.connect();

    assert_eq!(
        posted_prompts(&reopened),
        [msg],
        "at once, before any welcome"
    );
}

#[test]
fn with_the_outbox_restoring_prompts_wait_for_the_first_restore() {
    let config = without_stream();
    let persist = sse_courier::core::PersistConfig::new("owner-1");
    let mut rig = Rig::new(config.clone());
    rig.m = sse_courier::core::Machine::with_persist(config, persist, 1);
    rig.connect();

    let (outcome, sent) = send_prompt(&mut rig, "m1", None);

    assert!(matches!(outcome, SendOutcome::Queued(_)), "{outcome:?}");
    assert!(prompt_posts(&sent).is_empty());
    rig.m.restore(rig.now, &[], &[]);
    assert_eq!(prompt_posts(&rig.drain()).len(), 1);
    assert!(rig.m.persists(Endpoint::Send), "prompts are stored too");
    assert_eq!(rig.m.persisted_len(), 1);
}
