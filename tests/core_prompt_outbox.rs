//! Rule 16 (docs/delivery-rules.md): with `prompt_outbox`, the outbox keeps what the
//! user typed. A full outbox refuses new prompts instead of evicting; control messages
//! overflow without evicting prompts; `clear_pending_sends` keeps prompts and starts a
//! new draft scope; prompts of a draft with no session take the session of the draft's
//! first receipt that names one; a session a receipt names is tracked from seq 0 and
//! replayed.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_contract_harness.rs"]
mod contract;

use contract::harness::*;
use contract::*;
use sse_courier::core::{
    Action, Body, Config, DropReason, Endpoint, EndpointSet, Fate, Notice, PostOutcome,
    SendOutcome, SessionSeq, Warning,
};

fn outbox(bound: usize) -> Config {
    Config {
        prompt_outbox: true,
        max_pending_sends: bound,
        ..Config::default()
    }
}

/// Receipts, prompts without the stream and the outbox's rules.
fn contract() -> Config {
    Config {
        receipts: true,
        send_without_stream: true,
        ..outbox(100)
    }
}

fn connecting(config: Config) -> Rig {
    let mut rig = Rig::new(config);
    rig.connect();
    rig
}

#[test]
fn a_full_outbox_refuses_new_prompts_and_evicts_none() {
    let mut rig = connecting(outbox(2));
    prompt_id(&mut rig, "m1", None);
    prompt_id(&mut rig, "m2", None);

    let (outcome, refused) = send_prompt(&mut rig, "m3", None);

    assert_eq!(outcome, SendOutcome::Refused);
    assert_eq!(
        refused
            .iter()
            .filter(|a| **a == Action::Warn(Warning::OutboxFull))
            .count(),
        1
    );
    assert!(reports(&rig.log).is_empty(), "nothing evicted");
    assert_eq!(rig.m.pending_len(), 2);
}

#[test]
fn control_messages_overflow_without_evicting_prompts() {
    let mut rig = connecting(outbox(2));
    let first = prompt_id(&mut rig, "m1", None);
    let stop = rig.send_id(Endpoint::Stop);

    let second = prompt_id(&mut rig, "m2", None);

    assert_eq!(
        reports(&rig.log),
        [(stop, Fate::Dropped(DropReason::QueueOverflow))]
    );
    let flushed = rig.welcome("conn-abc");
    assert_eq!(posted_prompts(&flushed), [first, second]);
}

#[test]
fn a_prompt_requeued_into_a_full_queue_is_kept() {
    let mut rig = Rig::connected(outbox(1));
    let msg = prompt_id(&mut rig, "m1", None);
    rig.answer(prompt_post_of(&rig.log, msg), PostOutcome::Status(404));
    let stop = rig.send_id(Endpoint::Stop);

    assert_eq!(
        reports(&rig.log),
        [(stop, Fate::Dropped(DropReason::QueueOverflow))]
    );
    assert_eq!(posted_prompts(&rig.welcome("conn-def")), [msg]);
}

#[test]
fn clear_pending_sends_drops_control_messages_and_keeps_prompts() {
    let mut retryable = EndpointSet::default_retryable();
    retryable.insert(Endpoint::Watch);
    let mut rig = Rig::connected(Config {
        retryable,
        ..outbox(10)
    });
    let retrying_prompt = prompt_id(&mut rig, "m1", None);
    let retrying_watch = rig.send_id(Endpoint::Watch);
    for msg in [retrying_prompt, retrying_watch] {
        let post = posts(&rig.log)
            .iter()
            .find(|p| p.body == Body::Message(msg))
            .map(|p| p.id)
            .unwrap_or_else(|| prompt_post_of(&rig.log, msg));
        rig.answer(post, PostOutcome::Status(503));
    }
    rig.stream_error();
    let queued_prompt = prompt_id(&mut rig, "m2", None);
    let queued_stop = rig.send_id(Endpoint::Stop);

    rig.m.clear_pending_sends();
    let cleared = rig.drain();

    assert_eq!(
        reports(&cleared),
        [
            (queued_stop, Fate::Dropped(DropReason::Cleared)),
            (retrying_watch, Fate::Dropped(DropReason::Cleared)),
        ]
    );
    assert_eq!(rig.m.pending_len() + rig.m.retrying_len(), 2);
    rig.welcome("conn-def");
    rig.run_timers();
    assert_eq!(
        posted_prompts(&rig.log),
        [retrying_prompt, queued_prompt, retrying_prompt],
        "both prompts went out"
    );
}

#[test]
fn orphan_prompts_of_a_draft_take_the_first_receipts_session() {
    let mut rig = connecting(contract());
    let first = prompt_id(&mut rig, "m1", None);
    let second = prompt_id(&mut rig, "m2", None);
    let named = prompt_id(&mut rig, "m3", Some("elsewhere"));
    let third = prompt_id(&mut rig, "m4", None);

    let settled = answer_prompt(&mut rig, first, receipt("m1", Some("s-new")));

    assert_eq!(
        adoptions(&settled),
        [(vec![second, third], "s-new".to_string())]
    );
    let adopted_at = position(&settled, |a| matches!(a, Action::AdoptSession { .. }));
    let posted_at = position(&settled, |a| matches!(a, Action::PostPrompt { .. }));
    assert!(adopted_at < posted_at, "rewritten before it is posted");
    assert_eq!(posted_prompts(&settled), [second]);
    let second_settled = answer_prompt(&mut rig, second, receipt("m2", Some("other")));
    assert!(
        adoptions(&second_settled).is_empty(),
        "the first receipt wins"
    );
    assert_eq!(posted_prompts(&second_settled), [named]);
    let (outcome, later) = send_prompt(&mut rig, "m5", None);
    let SendOutcome::Queued(later_msg) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        adoptions(&later),
        [(vec![later_msg], "s-new".to_string())],
        "a later orphan of the draft takes it at once"
    );
}

#[test]
fn a_new_draft_starts_at_clear_pending_sends() {
    let mut rig = connecting(contract());
    let first = prompt_id(&mut rig, "m1", None);
    rig.m.clear_pending_sends();
    prompt_id(&mut rig, "m2", None);

    let settled = answer_prompt(&mut rig, first, receipt("m1", Some("s-new")));

    assert!(adoptions(&settled).is_empty());
}

#[test]
fn a_prompt_already_posted_keeps_its_body() {
    let mut rig = Rig::connected(Config {
        receipts: true,
        ..outbox(10)
    });
    let first = prompt_id(&mut rig, "m1", None);
    let second = prompt_id(&mut rig, "m2", None);
    assert_eq!(
        posted_prompts(&rig.log),
        [first, second],
        "both on the wire"
    );
    answer_prompt(&mut rig, second, body("<html>"));

    let settled = answer_prompt(&mut rig, first, receipt("m1", Some("s-new")));

    assert!(
        adoptions(&settled).is_empty(),
        "its resend must be the same body"
    );
}

#[test]
fn a_session_a_receipt_names_is_tracked_from_zero_and_replayed() {
    let mut rig = Rig::connected(contract());
    rig.m.track_seq("known", 7);
    let msg = prompt_id(&mut rig, "m1", Some("known"));
    let known = answer_prompt(&mut rig, msg, receipt("m1", Some("known")));
    assert!(
        posts(&known).is_empty(),
        "a tracked session needs no replay"
    );
    let msg = prompt_id(&mut rig, "m2", None);

    let settled = answer_prompt(&mut rig, msg, receipt("m2", Some("s-new")));

    assert_eq!(rig.m.last_seq("s-new"), 0);
    assert_eq!(
        rig.m.tracked_sessions().collect::<Vec<_>>(),
        ["known", "s-new"]
    );
    let replay = posts(&settled);
    assert_eq!(replay.len(), 1);
    assert_eq!(replay[0].endpoint, Endpoint::Reconnect);
    assert_eq!(replay[0].connection_id, "conn-abc");
    let sessions = vec![
        SessionSeq {
            session_id: "known".into(),
            last_seq: 7,
        },
        SessionSeq {
            session_id: "s-new".into(),
            last_seq: 0,
        },
    ];
    assert_eq!(replay[0].body, Body::Reconnect(sessions));
    let answered = rig.answer(replay[0].id, PostOutcome::Accepted);
    assert!(notices(&answered).is_empty(), "already open");
    assert!(rig.m.is_connected());
}

#[test]
fn a_session_named_before_the_stream_opened_is_replayed_after_the_first_welcome() {
    let mut rig = connecting(contract());
    let msg = prompt_id(&mut rig, "m1", None);
    let settled = answer_prompt(&mut rig, msg, receipt("m1", Some("s-new")));
    assert!(posts(&settled).is_empty(), "no connection to ask on yet");

    let welcomed = rig.welcome("conn-abc");

    let replay = post_to(&welcomed, Endpoint::Reconnect);
    assert!(!rig.m.is_connected(), "handshaking");
    let answered = rig.answer(replay, PostOutcome::Accepted);
    assert_eq!(notices(&answered), [Notice::Open]);
}

#[test]
fn without_the_outbox_rules_a_receipts_session_is_not_tracked() {
    let mut rig = Rig::connected(Config {
        receipts: true,
        ..Config::default()
    });
    let msg = prompt_id(&mut rig, "m1", None);
    prompt_id(&mut rig, "m2", None);

    let settled = answer_prompt(&mut rig, msg, receipt("m1", Some("s-new")));

    assert_eq!(rig.m.tracked_sessions().count(), 0);
    assert!(posts(&settled).is_empty() && adoptions(&settled).is_empty());
}
