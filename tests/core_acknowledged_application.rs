//! Rule 20 (docs/delivery-rules.md): with `applied_events`, an event that carries
//! `prevSessionSeq` counts as seen only when the app's listener returns `true` for it;
//! then the session's cursor moves and an acknowledgement is posted, one at a time per
//! session and in order. A listener that returns nothing holds the event; a duplicate
//! at or below the cursor is acknowledged again and not dispatched; a failed or
//! timed-out acknowledgement forces a reconnect.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_chain_harness.rs"]
mod chain;

use chain::harness::{opened, posts};
use chain::*;
use sse_courier::core::{Applied, Body, ChainVerdict, PostOutcome, SessionSeq, ACK_TIMEOUT_MS};

#[test]
fn an_applied_event_moves_the_cursor_and_is_acknowledged() {
    let mut c = ChainRig::connected(chained());
    assert!(matches!(c.event(("s", 1, 0)), ChainVerdict::Apply(_)));
    assert_eq!(c.applied, [("s", 1)]);
    assert_eq!(c.cursor("s"), 1);
    assert_eq!(c.acked, [("s".to_string(), 1)]);
    assert_eq!(c.rig.m.stats().acks_posted, 1);
}

#[test]
fn an_event_the_listener_did_not_apply_leaves_the_cursor_and_owes_nothing() {
    let mut c = ChainRig::connected(chained());
    c.answer_with("s", 1, Applied::NotYet);
    c.event(("s", 1, 0));
    assert_eq!(c.handed, [("s", 1)]);
    assert_eq!(c.cursor("s"), 0);
    assert!(c.acked.is_empty());
    assert!(
        matches!(c.event(("s", 2, 1)), ChainVerdict::Hold(_)),
        "what follows waits for it"
    );
    assert_eq!(c.resyncs(), 0, "holding is not refusing");
}

#[test]
fn a_duplicate_at_or_below_the_cursor_is_acknowledged_again_and_not_dispatched() {
    let mut c = ChainRig::connected(chained());
    c.events(&[("s", 1, 0), ("s", 2, 1)]);
    c.answer_acks(PostOutcome::Accepted);
    c.answer_acks(PostOutcome::Accepted);
    assert_eq!(c.event(("s", 1, 0)), ChainVerdict::Duplicate);
    assert_eq!(c.event(("s", 2, 1)), ChainVerdict::Duplicate);
    assert_eq!(c.handed.len(), 2, "neither handed again");
    assert_eq!(c.rig.m.stats().duplicates_skipped, 2);
    c.answer_acks(PostOutcome::Accepted);
    let acked: Vec<u64> = c.acked.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(acked, [1, 2, 1, 2], "each acknowledged again, in order");
}

#[test]
fn acknowledgements_of_a_session_go_one_at_a_time_and_in_order() {
    let mut c = ChainRig::connected(chained());
    c.events(&[("s", 1, 0), ("s", 2, 1), ("s", 3, 2), ("t", 1, 0)]);
    let in_flight: Vec<(String, u64)> = c.acks.iter().map(|a| (a.1.clone(), a.2)).collect();
    assert_eq!(
        in_flight,
        [("s".to_string(), 1), ("t".to_string(), 1)],
        "one per session; another session does not wait"
    );
    c.answer_acks(PostOutcome::Accepted);
    assert_eq!(c.acks.len(), 1);
    assert_eq!(c.acks[0].2, 3, "those owed meanwhile fold into the highest");
    c.answer_acks(PostOutcome::Accepted);
    assert!(c.acks.is_empty());
}

#[test]
fn a_failed_acknowledgement_forces_a_reconnect() {
    for outcome in [
        PostOutcome::Status(500),
        PostOutcome::Status(404),
        PostOutcome::NetworkError,
    ] {
        let mut c = ChainRig::connected(chained());
        c.event(("s", 1, 0));
        let actions = c.answer_acks(outcome);
        assert_eq!(opened(&actions).len(), 1, "{outcome:?} rebuilds the stream");
        assert_eq!(c.rig.m.stats().ack_failures, 1);
        assert_eq!(c.cursor("s"), 1, "what was applied stays applied");
    }
}

#[test]
fn an_acknowledgement_unanswered_for_ten_seconds_forces_a_reconnect() {
    let mut c = ChainRig::connected(chained());
    c.event(("s", 1, 0));
    assert!(opened(&c.advance(ACK_TIMEOUT_MS - 1)).is_empty());
    let actions = c.advance(1);
    assert_eq!(opened(&actions).len(), 1);
    assert_eq!(c.rig.m.stats().ack_failures, 1);
}

#[test]
fn a_late_acknowledgement_failure_does_not_rebuild_the_new_connection() {
    let mut c = ChainRig::connected(chained());
    c.event(("s", 1, 0));
    c.rig.check_and_reconnect(true);
    c.welcome("conn-2");
    let actions = c.answer_acks(PostOutcome::Status(500));
    assert!(opened(&actions).is_empty());
    assert_eq!(c.rig.m.stats().ack_failures, 0);
}

#[test]
fn acknowledgements_wait_for_a_welcomed_connection() {
    let mut c = ChainRig::connected(chained());
    c.rig.stream_error();
    c.rig.m.commit_transcript_cursor(c.rig.now, "s", 4);
    let actions = c.rig.drain();
    c.carry_out(actions);
    assert!(c.acked.is_empty(), "no connection to post on");
    let reconnect = posts(&c.welcome("conn-2"))[0].id;
    assert!(
        c.acked.is_empty(),
        "nor while the reconnect POST names the cursor"
    );
    let actions = c.rig.answer(reconnect, PostOutcome::Accepted);
    c.carry_out(actions);
    assert_eq!(c.acked, [("s".to_string(), 4)]);
}

#[test]
fn the_reconnect_post_names_the_applied_cursor() {
    let mut c = ChainRig::connected(chained());
    c.answer_with("s", 3, Applied::NotYet);
    c.events(&[("s", 1, 0), ("s", 2, 1), ("s", 3, 2)]);
    c.rig.check_and_reconnect(true);
    let actions = c.welcome("conn-2");
    let reconnect = posts(&actions);
    assert_eq!(
        reconnect[0].body,
        Body::Reconnect(vec![SessionSeq {
            session_id: "s".into(),
            last_seq: 2
        }])
    );
}

#[test]
fn committing_a_transcript_cursor_moves_it_forward_only_and_releases_what_follows() {
    let mut c = ChainRig::connected(chained());
    c.events(&[("s", 6, 5), ("s", 7, 6)]);
    assert!(c.applied.is_empty(), "5 was never seen");
    c.rig.m.commit_transcript_cursor(c.rig.now, "s", 5);
    let actions = c.rig.drain();
    c.carry_out(actions);
    assert_eq!(c.applied, [("s", 6), ("s", 7)]);
    assert_eq!(c.cursor("s"), 7);
    c.rig.m.commit_transcript_cursor(c.rig.now, "s", 3);
    assert_eq!(c.cursor("s"), 7, "never back");
    assert!(
        c.acked.contains(&("s".to_string(), 5)),
        "the server is told"
    );
}

#[test]
fn committing_the_cursor_it_already_has_changes_nothing() {
    let mut c = ChainRig::connected(chained());
    c.event(("s", 1, 0));
    c.answer_acks(PostOutcome::Accepted);
    c.rig.m.commit_transcript_cursor(c.rig.now, "s", 1);
    assert!(c.rig.drain().is_empty(), "nothing posted again");
    assert_eq!(c.acked.len(), 1);
}
