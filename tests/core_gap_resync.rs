//! Rule 21 (docs/delivery-rules.md): with `applied_events`, an event whose
//! `prevSessionSeq` is ahead of its session's cursor is held until the gap fills. A gap
//! still open after 15 s, more than 256 events or 2 MiB held, or a listener that
//! refuses an event (returns `false` or throws) forces a resync: the stream is rebuilt
//! and its reconnect POST asks for every session's events after its cursor.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_chain_harness.rs"]
mod chain;

use chain::harness::{closed, opened, posts};
use chain::*;
use sse_courier::core::{
    Applied, Body, ChainVerdict, Notice, PostOutcome, GAP_TIMEOUT_MS, MAX_HELD_BYTES,
    MAX_HELD_EVENTS,
};

#[test]
fn events_behind_a_gap_are_held_and_applied_in_chain_order_when_it_fills() {
    let mut c = ChainRig::connected(chained());
    c.event(("s", 1, 0));
    assert!(matches!(c.event(("s", 4, 3)), ChainVerdict::Hold(_)));
    assert!(matches!(c.event(("s", 3, 2)), ChainVerdict::Hold(_)));
    assert_eq!(c.rig.m.held_len(), 2);
    assert!(matches!(c.event(("s", 2, 1)), ChainVerdict::Apply(_)));
    assert_eq!(c.applied, [("s", 1), ("s", 2), ("s", 3), ("s", 4)]);
    assert_eq!(c.cursor("s"), 4);
    assert_eq!(c.rig.m.held_len(), 0);
    assert_eq!(c.resyncs(), 0);
}

#[test]
fn a_gap_in_one_session_holds_nothing_of_another() {
    let mut c = ChainRig::connected(chained());
    c.event(("a", 5, 4));
    assert!(matches!(c.event(("b", 1, 0)), ChainVerdict::Apply(_)));
    assert_eq!(c.applied, [("b", 1)]);
}

#[test]
fn a_session_seen_for_the_first_time_starts_at_cursor_zero() {
    let mut c = ChainRig::connected(chained());
    assert!(matches!(c.event(("s", 7, 6)), ChainVerdict::Hold(_)));
    c.rig.m.track_seq("t", 6);
    assert!(
        matches!(c.event(("t", 7, 6)), ChainVerdict::Apply(_)),
        "known"
    );
}

#[test]
fn a_gap_still_open_after_fifteen_seconds_resyncs_from_the_cursor() {
    let mut c = ChainRig::connected(chained());
    c.event(("s", 1, 0));
    c.answer_acks(PostOutcome::Accepted);
    c.event(("s", 3, 2));
    let early = c.advance(GAP_TIMEOUT_MS - 1);
    assert!(opened(&early).is_empty(), "not yet");
    let actions = c.advance(1);
    assert_eq!(closed(&actions).len(), 1);
    assert_eq!(opened(&actions).len(), 1);
    assert!(actions.contains(&sse_courier::core::Action::Notify(Notice::Close)));
    assert_eq!(c.resyncs(), 1);
    assert!(c.kept.is_empty(), "the held event was discarded");
    let reconnect = posts(&c.welcome("conn-2"));
    assert!(matches!(&reconnect[0].body, Body::Reconnect(s) if s[0].last_seq == 1));
}

#[test]
fn a_gap_that_fills_in_time_arms_no_resync() {
    let mut c = ChainRig::connected(chained());
    c.event(("s", 2, 1));
    c.advance(GAP_TIMEOUT_MS - 1);
    c.event(("s", 1, 0));
    assert_eq!(
        c.rig.m.poll_timeout(),
        Some(c.rig.now + 10_000),
        "only the ack's"
    );
    c.advance(GAP_TIMEOUT_MS);
    assert_eq!(c.resyncs(), 0);
}

#[test]
fn more_events_held_than_the_bound_resync() {
    let mut c = ChainRig::connected(chained());
    for seq in 0..MAX_HELD_EVENTS as u64 {
        assert!(matches!(
            c.event(("s", 10 + seq, 9 + seq)),
            ChainVerdict::Hold(_)
        ));
    }
    assert_eq!(c.resyncs(), 0);
    assert_eq!(c.event(("s", 999, 998)), ChainVerdict::Ignored);
    assert_eq!(c.resyncs(), 1);
    assert!(c.kept.is_empty());
}

#[test]
fn more_bytes_held_than_the_bound_resync() {
    let mut c = ChainRig::connected(chained());
    let half = MAX_HELD_BYTES / 2;
    assert!(matches!(
        c.event_sized(("s", 5, 4), half),
        ChainVerdict::Hold(_)
    ));
    assert!(matches!(
        c.event_sized(("s", 6, 5), half),
        ChainVerdict::Hold(_)
    ));
    assert_eq!(c.event_sized(("s", 7, 6), 1), ChainVerdict::Ignored);
    assert_eq!(c.resyncs(), 1);
}

#[test]
fn a_refused_event_resyncs_and_comes_again() {
    let mut c = ChainRig::connected(chained());
    c.event(("s", 1, 0));
    c.answer_with("s", 2, Applied::Refused);
    c.event(("s", 2, 1));
    assert_eq!(c.cursor("s"), 1, "not applied");
    assert_eq!(c.resyncs(), 1);
    c.welcome("conn-2");
    c.events(&[("s", 2, 1), ("s", 3, 2)]);
    assert_eq!(c.applied, [("s", 1), ("s", 2), ("s", 3)]);
    assert_eq!(c.handed, [("s", 1), ("s", 2), ("s", 2), ("s", 3)]);
}

#[test]
fn a_held_event_that_comes_twice_is_held_once() {
    let mut c = ChainRig::connected(chained());
    c.event(("s", 3, 2));
    assert_eq!(c.event(("s", 3, 2)), ChainVerdict::Duplicate);
    assert_eq!(c.rig.m.held_len(), 1);
}

#[test]
fn a_stream_closed_for_any_reason_discards_what_it_held() {
    let mut c = ChainRig::connected(chained());
    c.event(("s", 3, 2));
    c.rig.m.disconnect(c.rig.now);
    let actions = c.rig.drain();
    c.carry_out(actions);
    assert!(c.kept.is_empty());
    assert_eq!(c.rig.m.poll_timeout(), None, "no resync timer outlives it");
}
