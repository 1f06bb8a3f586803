//! Rule 19 (docs/delivery-rules.md): the retry policy is expressible by the options:
//! the existing client's (no limit, min(1 s × 2ⁿ, 10 s) without jitter, 15 s timeout
//! on every POST, the reconnect POST included) as well as the default (5 retries,
//! jittered backoff, no timeout).
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_contract_harness.rs"]
mod contract;

use contract::harness::*;
use contract::*;
use sse_courier::core::{Action, Backoff, Config, Endpoint, Fate, PostOutcome};

/// The time from the failure to the next POST of `msg`, for `n` failures in a row.
fn retry_delays(rig: &mut Rig, msg: sse_courier::core::MsgId, n: usize) -> Vec<u64> {
    (0..n)
        .map(|_| {
            rig.answer(prompt_post_of(&rig.log, msg), PostOutcome::Status(503));
            let due = rig.m.poll_timeout().expect("a retry is armed");
            let delay = due - rig.now;
            assert_eq!(posted_prompts(&rig.advance(delay)), [msg]);
            delay
        })
        .collect()
}

#[test]
fn the_existing_clients_policy_waits_1_2_4_8_then_10_seconds_without_jitter() {
    let mut rig = Rig::connected(Config {
        post_timeout_ms: None,
        ..Config::current_contract()
    });
    let msg = prompt_id(&mut rig, "m1", None);

    let delays = retry_delays(&mut rig, msg, 7);

    assert_eq!(delays, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
}

fn last_post_of(actions: &[Action], msg: sse_courier::core::MsgId) -> sse_courier::core::PostId {
    let body = sse_courier::core::Body::Message(msg);
    let mine: Vec<SeenPost> = posts(actions)
        .into_iter()
        .filter(|p| p.body == body)
        .collect();
    mine.last().expect("posted").id
}

#[test]
fn the_default_policy_is_jittered_and_gives_up_after_five_retries() {
    let mut rig = Rig::connected(Config::default());
    let msg = rig.send_id(Endpoint::Send);
    let mut delays = Vec::new();
    for _ in 0..5 {
        rig.answer(last_post_of(&rig.log, msg), PostOutcome::Status(503));
        let delay = rig.m.poll_timeout().expect("a retry") - rig.now;
        delays.push(delay);
        rig.advance(delay);
    }
    let last = rig.answer(last_post_of(&rig.log, msg), PostOutcome::Status(503));

    assert!(matches!(reports(&last)[..], [(m, Fate::Failed(_))] if m == msg));
    let backoff = Backoff::default();
    for (n, delay) in delays.iter().enumerate() {
        let ceiling = backoff.ceiling(n as u32);
        assert!((ceiling / 2..=ceiling).contains(delay), "{delays:?}");
    }
}

#[test]
fn unlimited_retries_never_give_up() {
    let mut rig = Rig::connected(Config {
        backoff: Backoff {
            initial_ms: 1,
            max_ms: 1,
        },
        ..Config::current_contract()
    });
    let msg = prompt_id(&mut rig, "m1", None);
    for _ in 0..300 {
        rig.answer(prompt_post_of(&rig.log, msg), PostOutcome::NetworkError);
        rig.advance(1);
    }

    assert!(reports(&rig.log).is_empty());
    let settled = answer_prompt(&mut rig, msg, receipt("m1", None));
    assert_eq!(reports(&settled), [(msg, Fate::Delivered)]);
}

#[test]
fn every_post_times_out_after_15_seconds_the_reconnect_post_included() {
    let mut rig = Rig::new(Config::current_contract());
    rig.m.track_seq("s1", 1);
    rig.connect();
    prompt_id(&mut rig, "m1", None);
    assert_eq!(rig.m.poll_timeout(), Some(rig.now + 15_000), "the prompt's");
    rig.advance(5_000);
    let welcomed = rig.welcome("conn-abc");
    post_to(&welcomed, Endpoint::Reconnect);
    rig.advance(10_000);

    let timed_out = rig.advance(5_000);

    let aborted = timed_out
        .iter()
        .filter(|a| matches!(a, Action::AbortPost(_)))
        .count();
    assert_eq!(aborted, 1, "the reconnect POST, 15 s after it went");
    assert_eq!(rig.m.stats().post_timeouts, 2);
    assert_eq!(rig.m.stats().reconnect_post_failures, 1);
}

#[test]
fn without_jitter_repeated_reconnect_failures_wait_the_ceilings_too() {
    let mut rig = Rig::new(Config {
        retry_jitter: false,
        backoff: Backoff {
            initial_ms: 1_000,
            max_ms: 10_000,
        },
        ..Config::default()
    });
    rig.connect();
    let mut waits = Vec::new();
    for _ in 0..4 {
        let stream = rig.stream();
        rig.m.on_stream_error(rig.now, stream, true);
        rig.drain();
        let wait = rig.m.poll_timeout().expect("a reconnect") - rig.now;
        waits.push(wait);
        rig.advance(wait);
    }

    assert_eq!(
        waits,
        [500, 2_000, 4_000, 8_000],
        "reconnectDelayMs, then the backoff"
    );
}
