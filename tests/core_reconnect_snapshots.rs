//! Rule 22 (docs/delivery-rules.md): a `session_reconnect_snapshot` offer holds its
//! session's chained events until the app acknowledges the snapshot and the server
//! answers `{ applied: true }`; then the cursor is the offer's. An offer not applied
//! within 30 s resyncs.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_chain_harness.rs"]
mod chain;

use chain::harness::opened;
use chain::*;
use sse_courier::core::{Action, ChainVerdict, PostId, OFFER_TIMEOUT_MS};

fn offered(c: &mut ChainRig, session: &str, cursor: u64, offer: Option<&str>) {
    let stream = c.rig.stream();
    assert!(c
        .rig
        .m
        .on_snapshot_offer(c.rig.now, stream, session, cursor, offer));
}

/// Acknowledges the snapshot; the POST it made, if any.
fn acknowledge(
    c: &mut ChainRig,
    session: &str,
    cursor: u64,
    offer: Option<&str>,
) -> Option<PostId> {
    let asked = c
        .rig
        .m
        .acknowledge_snapshot(c.rig.now, session, cursor, offer);
    let actions = c.rig.drain();
    let post = actions.iter().find_map(|a| match a {
        Action::PostSnapshotApplied {
            id,
            session_id,
            cursor: posted,
            offer_id,
            ..
        } => {
            assert_eq!((session_id.as_str(), *posted), (session, cursor));
            assert_eq!(offer_id.as_deref(), offer);
            Some(*id)
        }
        _ => None,
    });
    assert_eq!(
        asked,
        post.is_some() || asked,
        "true when it names the offer"
    );
    post
}

fn answer(c: &mut ChainRig, post: PostId, applied: bool) {
    c.rig.m.on_snapshot_answer(c.rig.now, post, applied);
    let actions = c.rig.drain();
    c.carry_out(actions);
}

#[test]
fn an_offer_holds_its_session_until_the_server_says_applied() {
    let mut c = ChainRig::connected(chained());
    offered(&mut c, "s", 5, Some("o1"));
    for event in [("s", 3, 2), ("s", 6, 5), ("s", 7, 6), ("s", 1, 0)] {
        assert!(matches!(c.event(event), ChainVerdict::Hold(_)), "{event:?}");
    }
    assert!(c.handed.is_empty());
    let post = acknowledge(&mut c, "s", 5, Some("o1")).expect("posted");
    assert!(c.handed.is_empty(), "not before the answer");
    answer(&mut c, post, true);
    assert_eq!(c.cursor("s"), 7, "the offer's 5, then what follows it");
    assert_eq!(
        c.applied,
        [("s", 6), ("s", 7)],
        "what the snapshot covers is dropped"
    );
    assert_eq!(c.discarded.len(), 2);
    assert_eq!(c.rig.m.stats().snapshots_applied, 1);
}

#[test]
fn an_answer_without_applied_keeps_the_offer_open_until_it_expires() {
    let mut c = ChainRig::connected(chained());
    offered(&mut c, "s", 5, None);
    c.event(("s", 6, 5));
    let post = acknowledge(&mut c, "s", 5, None).expect("posted");
    answer(&mut c, post, false);
    assert_eq!(c.cursor("s"), 0);
    assert!(c.handed.is_empty());
    let again = acknowledge(&mut c, "s", 5, None);
    assert!(again.is_some(), "the app may ask again");
    assert!(opened(&c.advance(OFFER_TIMEOUT_MS - 1)).is_empty());
    assert_eq!(opened(&c.advance(1)).len(), 1);
    assert_eq!(c.resyncs(), 1);
}

#[test]
fn a_refused_or_failed_snapshot_post_is_not_applied() {
    use sse_courier::core::PostOutcome;
    for outcome in [PostOutcome::Status(500), PostOutcome::NetworkError] {
        let mut c = ChainRig::connected(chained());
        offered(&mut c, "s", 5, None);
        let post = acknowledge(&mut c, "s", 5, None).expect("posted");
        c.rig.answer(post, outcome);
        assert_eq!(c.cursor("s"), 0);
        assert!(acknowledge(&mut c, "s", 5, None).is_some(), "open again");
    }
}

#[test]
fn an_acknowledgement_that_does_not_name_the_offer_is_refused() {
    let mut c = ChainRig::connected(chained());
    assert!(
        !c.rig.m.acknowledge_snapshot(c.rig.now, "s", 5, None),
        "none"
    );
    offered(&mut c, "s", 5, Some("o1"));
    assert!(!c.rig.m.acknowledge_snapshot(c.rig.now, "s", 4, Some("o1")));
    assert!(!c.rig.m.acknowledge_snapshot(c.rig.now, "s", 5, Some("o2")));
    assert!(!c.rig.m.acknowledge_snapshot(c.rig.now, "s", 5, None));
    assert!(!c.rig.m.acknowledge_snapshot(c.rig.now, "t", 5, Some("o1")));
    assert!(c.rig.drain().is_empty(), "nothing posted");
}

#[test]
fn asked_twice_the_snapshot_is_posted_once() {
    let mut c = ChainRig::connected(chained());
    offered(&mut c, "s", 5, None);
    assert!(acknowledge(&mut c, "s", 5, None).is_some());
    assert!(c.rig.m.acknowledge_snapshot(c.rig.now, "s", 5, None));
    assert!(c.rig.drain().is_empty());
}

#[test]
fn an_offer_holds_nothing_of_another_session() {
    let mut c = ChainRig::connected(chained());
    offered(&mut c, "s", 5, None);
    assert!(matches!(c.event(("t", 1, 0)), ChainVerdict::Apply(_)));
}

#[test]
fn an_offer_from_an_old_stream_is_ignored() {
    let mut c = ChainRig::connected(chained());
    let old = c.rig.stream();
    c.rig.check_and_reconnect(true);
    assert!(!c.rig.m.on_snapshot_offer(c.rig.now, old, "s", 5, None));
    assert!(matches!(c.event(("s", 1, 0)), ChainVerdict::Apply(_)));
}

#[test]
fn a_snapshot_behind_the_cursor_releases_what_it_held() {
    let mut c = ChainRig::connected(chained());
    c.events(&[("s", 1, 0), ("s", 2, 1), ("s", 3, 2)]);
    offered(&mut c, "s", 2, None);
    c.event(("s", 4, 3));
    let post = acknowledge(&mut c, "s", 2, None).expect("posted");
    answer(&mut c, post, true);
    assert_eq!(c.cursor("s"), 4, "never back, and 4 follows 3");
}

#[test]
fn a_new_offer_replaces_its_sessions_open_one_and_no_other() {
    let mut c = ChainRig::connected(chained());
    offered(&mut c, "s", 5, Some("o1"));
    offered(&mut c, "t", 3, Some("t1"));
    offered(&mut c, "s", 7, Some("o2"));
    assert!(
        !c.rig.m.acknowledge_snapshot(c.rig.now, "s", 5, Some("o1")),
        "replaced"
    );
    assert!(acknowledge(&mut c, "s", 7, Some("o2")).is_some());
    assert!(
        acknowledge(&mut c, "t", 3, Some("t1")).is_some(),
        "t's stays open"
    );
}
