//! Rule 18 (docs/delivery-rules.md): with `replay_every_welcome`, the first welcome
//! too is followed by the reconnect POST when sessions are tracked. Replay requests are
//! serialised: one reconnect POST at a time per connection; a request while one is in
//! flight marks it dirty and one more follows; `_open` comes after the last.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_contract_harness.rs"]
mod contract;

use contract::harness::*;
use contract::*;
use sse_courier::core::{Action, Body, Config, Endpoint, Notice, PostOutcome, Warning};

fn replaying() -> Config {
    Config {
        replay_every_welcome: true,
        ..Config::default()
    }
}

/// Every part of the contract, the retry policy left as default.
fn contract() -> Config {
    Config {
        receipts: true,
        send_without_stream: true,
        prompt_outbox: true,
        ..replaying()
    }
}

fn reconnect_sessions(actions: &[Action]) -> Vec<Vec<(String, u64)>> {
    posts(actions)
        .into_iter()
        .filter_map(|p| match p.body {
            Body::Reconnect(sessions) => Some(
                sessions
                    .into_iter()
                    .map(|s| (s.session_id, s.last_seq))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[test]
fn by_default_the_first_welcome_connects_at_once_even_with_sessions() {
    let mut rig = Rig::new(Config::default());
    rig.m.track_seq("s1", 5);
    rig.connect();

    let welcomed = rig.welcome("conn-abc");

    assert!(posts(&welcomed).is_empty(), "the existing client's habit");
    assert_eq!(notices(&welcomed), [Notice::Open]);
}

#[test]
fn the_first_welcome_is_followed_by_the_reconnect_post_when_asked() {
    let mut rig = Rig::new(replaying());
    rig.m.track_seq("s1", 5);
    rig.connect();

    let welcomed = rig.welcome("conn-abc");

    assert_eq!(reconnect_sessions(&welcomed), [vec![("s1".to_string(), 5)]]);
    assert!(notices(&welcomed).is_empty() && !rig.m.is_connected());
    let answered = rig.answer(
        post_to(&welcomed, Endpoint::Reconnect),
        PostOutcome::Accepted,
    );
    assert_eq!(notices(&answered), [Notice::Open]);
}

#[test]
fn without_sessions_the_first_welcome_connects_at_once() {
    let mut rig = Rig::new(replaying());
    rig.connect();
    assert_eq!(notices(&rig.welcome("conn-abc")), [Notice::Open]);
}

#[test]
fn requests_during_the_handshake_cause_one_more_reconnect_post_then_open() {
    let mut rig = Rig::new(contract());
    rig.m.track_seq("s1", 3);
    rig.connect();
    let first = prompt_id(&mut rig, "m1", None);
    let second = prompt_id(&mut rig, "m2", Some("s3"));
    let welcomed = rig.welcome("conn-abc");
    let handshake = post_to(&welcomed, Endpoint::Reconnect);

    let named = answer_prompt(&mut rig, first, receipt("m1", Some("s2")));
    let named_again = answer_prompt(&mut rig, second, receipt("m2", Some("s3")));
    assert!(
        posts(&named).is_empty() && posts(&named_again).is_empty(),
        "one at a time"
    );

    let after_first = rig.answer(handshake, PostOutcome::Accepted);
    assert_eq!(
        reconnect_sessions(&after_first),
        [vec![
            ("s1".to_string(), 3),
            ("s2".to_string(), 0),
            ("s3".to_string(), 0)
        ]],
        "one more, for both requests"
    );
    assert!(notices(&after_first).is_empty() && !rig.m.is_connected());
    let last = post_to(&after_first, Endpoint::Reconnect);
    let opened_now = rig.answer(last, PostOutcome::Accepted);
    assert_eq!(notices(&opened_now), [Notice::Open], "after the last");
    assert!(posts(&opened_now).is_empty());
}

#[test]
fn a_request_while_connected_posts_at_once_and_opens_nothing() {
    let mut rig = Rig::connected(contract());
    let msg = prompt_id(&mut rig, "m1", None);

    let named = answer_prompt(&mut rig, msg, receipt("m1", Some("s2")));

    let replay = post_to(&named, Endpoint::Reconnect);
    let answered = rig.answer(replay, PostOutcome::Accepted);
    assert!(notices(&answered).is_empty() && posts(&answered).is_empty());
    assert!(rig.m.is_connected());
}

#[test]
fn a_request_while_a_replay_is_in_flight_on_an_open_connection_waits_for_it() {
    let mut rig = Rig::connected(contract());
    let first = prompt_id(&mut rig, "m1", None);
    let second = prompt_id(&mut rig, "m2", Some("s3"));
    let named = answer_prompt(&mut rig, first, receipt("m1", Some("s2")));
    let replay = post_to(&named, Endpoint::Reconnect);
    assert_eq!(posted_prompts(&named), [second]);

    let named_again = answer_prompt(&mut rig, second, receipt("m2", Some("s3")));

    assert!(posts(&named_again).is_empty(), "dirty, not a second POST");
    let after = rig.answer(replay, PostOutcome::Accepted);
    assert_eq!(
        reconnect_sessions(&after),
        [vec![("s2".to_string(), 0), ("s3".to_string(), 0)]]
    );
    assert!(notices(&after).is_empty());
    let last = rig.answer(post_to(&after, Endpoint::Reconnect), PostOutcome::Accepted);
    assert!(last.is_empty(), "{last:?}");
}

#[test]
fn a_failed_replay_rebuilds_the_stream_later() {
    let mut rig = Rig::connected(contract());
    let msg = prompt_id(&mut rig, "m1", None);
    let replay = post_to(
        &answer_prompt(&mut rig, msg, receipt("m1", Some("s2"))),
        Endpoint::Reconnect,
    );

    let failed = rig.answer(replay, PostOutcome::Status(503));

    assert!(failed.contains(&Action::Warn(Warning::ReconnectPostFailed(
        PostOutcome::Status(503)
    ))));
    assert_eq!(closed(&failed).len(), 1);
    let reopened = rig.run_timers();
    assert_eq!(opened(&reopened).len(), 1);
    let welcomed = rig.welcome("conn-def");
    assert_eq!(
        reconnect_sessions(&welcomed),
        [vec![("s2".to_string(), 0)]],
        "the new stream replays it"
    );
}

#[test]
fn a_replay_answered_after_its_connection_ended_changes_nothing() {
    let mut rig = Rig::connected(contract());
    let msg = prompt_id(&mut rig, "m1", None);
    let replay = post_to(
        &answer_prompt(&mut rig, msg, receipt("m1", Some("s2"))),
        Endpoint::Reconnect,
    );
    rig.check_and_reconnect(true);
    let welcomed = rig.welcome("conn-def");
    let current = post_to(&welcomed, Endpoint::Reconnect);

    let late = rig.answer(replay, PostOutcome::Accepted);

    assert!(late.is_empty(), "{late:?}");
    assert!(!rig.m.is_connected());
    assert_eq!(
        notices(&rig.answer(current, PostOutcome::Accepted)),
        [Notice::Open]
    );
}
