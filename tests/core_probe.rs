//! Rule 23 (docs/delivery-rules.md): with `foreground_probe`, a page back in the
//! foreground on a connection that looks connected probes it: `POST /probe {nonce}`,
//! whose echo must come down the stream within a second. The echo keeps the stream
//! (and replays the tracked sessions); no echo, or a failed probe POST, rebuilds it.
//! Anything that ends the connection cancels the probe; sends never wait for it; a
//! page restored from the back/forward cache rebuilds at once.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_harness.rs"]
mod harness;

use harness::*;
use sse_courier::core::{
    Action, Body, Config, Endpoint, Notice, PostId, PostOutcome, ProbeOutcome, SendOutcome,
    StreamId, Warning, PROBE_DEADLINE_MS,
};

fn probing() -> Config {
    Config {
        foreground_probe: true,
        ..Config::default()
    }
}

/// The probe POSTs among `actions`: (post, connection id, nonce).
fn probes(actions: &[Action]) -> Vec<(PostId, String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::PostProbe {
                id,
                connection_id,
                nonce,
            } => Some((*id, connection_id.clone(), nonce.clone())),
            _ => None,
        })
        .collect()
}

/// Connected (`conn-abc`), then shown: the one probe it posts.
fn shown(config: Config) -> (Rig, PostId, String) {
    let mut rig = Rig::connected(config);
    rig.m.on_visibility(rig.now, true);
    let actions = rig.drain();
    let [(post, _, nonce)] = probes(&actions).try_into().expect("one probe");
    (rig, post, nonce)
}

fn echo(rig: &mut Rig, nonce: &str) -> Vec<Action> {
    let stream = rig.stream();
    rig.m.on_probe_echo(rig.now, stream, nonce);
    rig.drain()
}

fn rebuilt(actions: &[Action]) -> bool {
    !closed(actions).is_empty() && !opened(actions).is_empty()
}

fn warned_probe_failed(actions: &[Action]) -> bool {
    actions.contains(&Action::Warn(Warning::ProbeFailed))
}

#[test]
fn off_by_default_shown_while_connected_only_notifies_foreground() {
    let mut rig = Rig::connected(Config::default());
    rig.m.on_visibility(rig.now, true);
    assert_eq!(rig.drain(), [Action::Notify(Notice::Foreground)]);
    assert!(!rig.m.takes_probe_echoes(), "the listener hears `_probe`");
    rig.m.on_page_show(rig.now, true);
    assert_eq!(rig.drain(), [], "a connected bfcache restore is left alone");
}

#[test]
fn shown_while_connected_posts_a_probe_on_the_connection_then_notifies_foreground() {
    let mut rig = Rig::connected(probing());
    rig.m.on_visibility(rig.now, true);
    let actions = rig.drain();
    let found = probes(&actions);
    assert_eq!(found.len(), 1, "{actions:?}");
    let (post, connection_id, nonce) = &found[0];
    assert_eq!(connection_id, "conn-abc");
    assert_eq!(nonce.len(), 16);
    assert!(nonce.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        actions,
        [
            Action::PostProbe {
                id: *post,
                connection_id: connection_id.clone(),
                nonce: nonce.clone(),
            },
            Action::Notify(Notice::Foreground),
        ]
    );
    assert!(rig.m.takes_probe_echoes());
    assert!(rig.m.probe_pending());
    assert_eq!(rig.m.stats().probes_sent, 1);
    assert_eq!(rig.m.poll_timeout(), Some(rig.now + PROBE_DEADLINE_MS));
    assert_eq!(rig.m.in_flight_len(), 0, "a probe is not a message");
}

#[test]
fn the_echo_in_time_keeps_the_stream_and_says_how_long_it_took() {
    let (mut rig, post, nonce) = shown(probing());
    rig.answer(post, PostOutcome::Accepted);
    rig.now += PROBE_DEADLINE_MS - 1;
    let actions = echo(&mut rig, &nonce);
    assert_eq!(actions, [], "no rebuild, nothing to replay");
    assert_eq!(
        rig.m.last_probe(),
        Some(ProbeOutcome::Echoed {
            round_trip_ms: PROBE_DEADLINE_MS - 1
        })
    );
    assert!(!rig.m.probe_pending());
    assert_eq!(rig.m.poll_timeout(), None, "no deadline left");
    assert!(rig.m.is_connected());
    assert_eq!(rig.m.stats().probes_failed, 0);
    assert_eq!(rig.m.stats().reconnects, 0);
}

#[test]
fn the_echo_may_come_before_the_probes_answer_which_then_changes_nothing() {
    let (mut rig, post, nonce) = shown(probing());
    echo(&mut rig, &nonce);
    assert_eq!(rig.answer(post, PostOutcome::Status(500)), []);
    assert_eq!(
        rig.m.last_probe(),
        Some(ProbeOutcome::Echoed { round_trip_ms: 0 })
    );
}

#[test]
fn after_the_echo_the_sessions_suspended_on_hide_are_replayed_on_the_same_connection() {
    let mut rig = Rig::connected(probing());
    rig.m.track_seq("s1", 4);
    rig.m.on_visibility(rig.now, false);
    let hidden = rig.drain();
    assert_eq!(endpoints(&hidden), [Endpoint::Suspend]);
    rig.m.on_visibility(rig.now, true);
    let [(_, _, nonce)] = probes(&rig.drain()).try_into().expect("one probe");
    let actions = echo(&mut rig, &nonce);
    let replay = posts(&actions);
    assert_eq!(replay.len(), 1, "{actions:?}");
    assert_eq!(replay[0].endpoint, Endpoint::Reconnect);
    assert_eq!(replay[0].connection_id, "conn-abc");
    assert!(matches!(&replay[0].body, Body::Reconnect(s) if s.len() == 1 && s[0].last_seq == 4));
    assert!(opened(&actions).is_empty(), "the stream is kept");
    let replayed = rig.answer(replay[0].id, PostOutcome::Accepted);
    assert_eq!(notices(&replayed), [], "the app saw nothing change");
}

#[test]
fn no_echo_within_the_deadline_rebuilds_the_stream() {
    let (mut rig, post, _) = shown(probing());
    rig.answer(post, PostOutcome::Accepted);
    let before = rig.stream();
    assert_eq!(rig.advance(PROBE_DEADLINE_MS - 1), [], "not yet");
    let actions = rig.advance(1);
    assert!(warned_probe_failed(&actions), "{actions:?}");
    assert_eq!(notices(&actions), [Notice::Close]);
    assert_eq!(closed(&actions), [before]);
    assert_eq!(opened(&actions).len(), 1);
    assert_eq!(rig.m.last_probe(), Some(ProbeOutcome::NoEcho));
    assert_eq!(rig.m.stats().probes_failed, 1);
    assert_eq!(rig.m.stats().reconnects, 1);
    assert!(!rig.m.probe_pending());
}

#[test]
fn an_echo_at_the_deadline_is_too_late() {
    let (mut rig, _, nonce) = shown(probing());
    rig.now += PROBE_DEADLINE_MS;
    assert_eq!(echo(&mut rig, &nonce), []);
    assert!(rig.m.probe_pending(), "the timer fails it");
    assert!(rebuilt(&rig.advance(0)));
    assert_eq!(rig.m.last_probe(), Some(ProbeOutcome::NoEcho));
}

#[test]
fn a_refused_or_failed_probe_post_rebuilds_at_once() {
    for outcome in [
        PostOutcome::Status(404),
        PostOutcome::Status(500),
        PostOutcome::Status(302),
        PostOutcome::NetworkError,
    ] {
        let (mut rig, post, _) = shown(probing());
        let actions = rig.answer(post, outcome);
        assert!(rebuilt(&actions), "{outcome:?}: {actions:?}");
        assert!(warned_probe_failed(&actions));
        assert_eq!(rig.m.last_probe(), Some(ProbeOutcome::PostFailed(outcome)));
        assert_eq!(rig.m.stats().probes_failed, 1);
        assert_eq!(rig.m.stats().reconnects, 1, "one rebuild, {outcome:?}");
    }
}

#[test]
fn a_probe_post_that_times_out_rebuilds() {
    let (mut rig, post, _) = shown(Config {
        post_timeout_ms: Some(300),
        ..probing()
    });
    let actions = rig.advance(300);
    assert!(actions.contains(&Action::AbortPost(post)));
    assert!(rebuilt(&actions));
    assert_eq!(
        rig.m.last_probe(),
        Some(ProbeOutcome::PostFailed(PostOutcome::TimedOut))
    );
}

#[test]
fn an_echo_of_another_nonce_or_of_an_old_stream_proves_nothing() {
    let (mut rig, _, nonce) = shown(probing());
    assert_eq!(echo(&mut rig, "0000000000000000"), []);
    let old = StreamId(rig.stream().0 + 7);
    rig.m.on_probe_echo(rig.now, old, &nonce);
    assert_eq!(rig.drain(), []);
    assert!(rig.m.probe_pending());
    assert!(rebuilt(&rig.advance(PROBE_DEADLINE_MS)));
}

#[test]
fn a_rebuild_a_stream_error_or_disconnect_cancels_the_probe_and_its_late_echo_and_answer_change_nothing(
) {
    let endings: [fn(&mut Rig); 3] = [
        |rig| drop(rig.check_and_reconnect(true)),
        |rig| drop(rig.stream_error()),
        |rig| {
            rig.m.disconnect(rig.now);
            rig.drain();
        },
    ];
    for end in endings {
        let (mut rig, post, nonce) = shown(probing());
        let stream = rig.stream();
        end(&mut rig);
        assert_eq!(rig.m.last_probe(), Some(ProbeOutcome::Cancelled));
        assert!(!rig.m.probe_pending());
        let reconnects = rig.m.stats().reconnects;
        rig.m.on_probe_echo(rig.now, stream, &nonce);
        assert_eq!(rig.answer(post, PostOutcome::Status(500)), []);
        assert_eq!(rig.advance(PROBE_DEADLINE_MS * 5), []);
        assert_eq!(rig.m.stats().reconnects, reconnects, "nothing rebuilt");
        assert_eq!(rig.m.stats().probes_failed, 0);
        assert_eq!(rig.m.last_probe(), Some(ProbeOutcome::Cancelled));
    }
}

#[test]
fn shown_again_while_a_probe_is_in_flight_posts_no_second_one() {
    let (mut rig, _, _) = shown(probing());
    rig.now += 400;
    rig.m.on_visibility(rig.now, true);
    let actions = rig.drain();
    assert_eq!(actions, [Action::Notify(Notice::Foreground)]);
    assert_eq!(rig.m.stats().probes_sent, 1);
    assert_eq!(
        rig.m.poll_timeout(),
        Some(rig.now - 400 + PROBE_DEADLINE_MS),
        "the first deadline stands"
    );
}

#[test]
fn shown_while_down_rebuilds_as_before_and_probes_nothing() {
    let mut rig = Rig::connected(probing());
    rig.stream_error();
    rig.m.on_visibility(rig.now, true);
    let actions = rig.drain();
    assert!(probes(&actions).is_empty());
    assert_eq!(opened(&actions).len(), 1);
    assert_eq!(notices(&actions), [Notice::Foreground]);
    assert_eq!(rig.m.stats().probes_sent, 0);
}

#[test]
fn a_new_probe_follows_each_return_to_the_foreground_with_a_new_nonce() {
    let (mut rig, _, first) = shown(probing());
    echo(&mut rig, &first);
    rig.m.on_visibility(rig.now, true);
    let [(_, _, second)] = probes(&rig.drain()).try_into().expect("one probe");
    assert_ne!(first, second);
    assert_eq!(
        echo(&mut rig, &first),
        [],
        "the first echo again proves nothing"
    );
    assert!(rig.m.probe_pending());
    echo(&mut rig, &second);
    assert!(!rig.m.probe_pending());
    assert_eq!(rig.m.stats().probes_sent, 2);
}

#[test]
fn sends_never_wait_for_the_probe() {
    let (mut rig, _, _) = shown(probing());
    let (outcome, actions) = rig.send(Endpoint::Send);
    assert!(matches!(outcome, SendOutcome::Posted(_)), "{outcome:?}");
    assert_eq!(posted_msgs(&actions).len(), 1);
}

#[test]
fn an_echo_is_a_sign_of_life_for_the_stale_stream_watchdog() {
    let mut rig = Rig::connected(Config {
        stale_after_ms: Some(5_000),
        ..probing()
    });
    let started = rig.now;
    rig.now += 4_000;
    assert_eq!(echo(&mut rig, "no probe in flight"), []);
    assert_eq!(rig.m.poll_timeout(), Some(started + 9_000));
}

#[test]
fn a_page_restored_from_the_bfcache_rebuilds_even_a_connected_stream() {
    let mut rig = Rig::connected(probing());
    rig.m.on_page_show(rig.now, false);
    assert_eq!(rig.drain(), [], "a page loaded anew is left alone");
    let before = rig.stream();
    rig.m.on_page_show(rig.now, true);
    let actions = rig.drain();
    assert_eq!(closed(&actions), [before]);
    assert_eq!(opened(&actions).len(), 1);
    assert_eq!(notices(&actions), [Notice::Close]);
    assert_eq!(rig.m.stats().reconnects, 1);
}

#[test]
fn a_restore_while_a_probe_is_in_flight_cancels_it() {
    let (mut rig, _, nonce) = shown(probing());
    let stream = rig.stream();
    rig.m.on_page_show(rig.now, true);
    rig.drain();
    assert_eq!(rig.m.last_probe(), Some(ProbeOutcome::Cancelled));
    rig.m.on_probe_echo(rig.now, stream, &nonce);
    assert_eq!(rig.drain(), []);
}

#[test]
fn the_current_contract_turns_the_probe_on() {
    assert!(Config::current_contract().foreground_probe);
    assert!(!Config::default().foreground_probe);
}

mod properties {
    //! Random interleavings of the page's comings and goings, echoes (right, wrong,
    //! late), probe answers, stream trouble and time: whatever happens, a probe lives
    //! only on a connected connection with its deadline armed, each probe posted ends
    //! once (echoed, failed or cancelled), and each failure rebuilds the stream.
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Visible,
        Hidden,
        EchoRight,
        EchoWrong,
        Answer(PostOutcome),
        Advance(u64),
        StreamError,
        Rebuild,
        Disconnect,
        Connect,
        Welcome,
        RestoredFromBfcache,
        Track,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Visible),
            1 => Just(Op::Hidden),
            3 => Just(Op::EchoRight),
            1 => Just(Op::EchoWrong),
            1 => prop_oneof![
                Just(PostOutcome::Accepted),
                Just(PostOutcome::Status(404)),
                Just(PostOutcome::Status(503)),
                Just(PostOutcome::NetworkError),
            ]
            .prop_map(Op::Answer),
            3 => (0u64..1_500).prop_map(Op::Advance),
            1 => Just(Op::StreamError),
            1 => Just(Op::Rebuild),
            1 => Just(Op::Disconnect),
            1 => Just(Op::Connect),
            2 => Just(Op::Welcome),
            1 => Just(Op::RestoredFromBfcache),
            1 => Just(Op::Track),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn a_probe_lives_on_a_connected_connection_ends_once_and_each_failure_rebuilds(
            ops in proptest::collection::vec(op(), 1..60),
        ) {
            let mut rig = Rig::connected(probing());
            // The probe in flight as the test saw it posted: post, nonce, deadline.
            let mut flight: Option<(PostId, String, u64)> = None;
            let mut posted = 0u32;
            let mut ended = 0u32;
            for op in ops {
                let failed_before = rig.m.stats().probes_failed;
                let actions = match op {
                    Op::Visible => {
                        rig.m.on_visibility(rig.now, true);
                        rig.drain()
                    }
                    Op::Hidden => {
                        rig.m.on_visibility(rig.now, false);
                        rig.drain()
                    }
                    Op::EchoRight | Op::EchoWrong => match (rig.m.current_stream(), &flight) {
                        (Some(stream), Some((_, nonce, _))) => {
                            let nonce = if matches!(op, Op::EchoRight) { nonce.clone() } else { "x".into() };
                            rig.m.on_probe_echo(rig.now, stream, &nonce);
                            rig.drain()
                        }
                        _ => Vec::new(),
                    },
                    Op::Answer(outcome) => match &flight {
                        Some((post, _, _)) => {
                            let post = *post;
                            rig.answer(post, outcome)
                        }
                        None => Vec::new(),
                    },
                    Op::Advance(ms) => rig.advance(ms),
                    Op::StreamError => match rig.m.current_stream() {
                        Some(_) => rig.stream_error(),
                        None => Vec::new(),
                    },
                    Op::Rebuild => rig.check_and_reconnect(true),
                    Op::Disconnect => {
                        rig.m.disconnect(rig.now);
                        rig.drain()
                    }
                    Op::Connect => rig.connect(),
                    Op::Welcome => match rig.m.current_stream() {
                        Some(_) => {
                            let id = format!("conn-{}", rig.now);
                            let mut actions = rig.welcome(&id);
                            // The replay, if one was asked for, is answered at once.
                            while let Some(post) = posts(&actions)
                                .into_iter()
                                .find(|p| p.endpoint == Endpoint::Reconnect)
                            {
                                actions = rig.answer(post.id, PostOutcome::Accepted);
                            }
                            actions
                        }
                        None => Vec::new(),
                    },
                    Op::RestoredFromBfcache => {
                        rig.m.on_page_show(rig.now, true);
                        rig.drain()
                    }
                    Op::Track => {
                        rig.m.track_seq("s", rig.now);
                        Vec::new()
                    }
                };
                let was_pending = flight.is_some();
                if was_pending && !rig.m.probe_pending() {
                    ended += 1;
                    flight = None;
                }
                for (post, _, nonce) in probes(&actions) {
                    prop_assert!(flight.is_none(), "a second probe in flight: {actions:?}");
                    posted += 1;
                    flight = Some((post, nonce, rig.now + PROBE_DEADLINE_MS));
                }
                if rig.m.stats().probes_failed > failed_before {
                    prop_assert_eq!(rig.m.stats().probes_failed, failed_before + 1);
                    prop_assert!(rebuilt(&actions), "a failed probe rebuilds: {:?}", actions);
                    prop_assert!(warned_probe_failed(&actions));
                }
                prop_assert_eq!(rig.m.probe_pending(), flight.is_some());
                if let Some((_, _, deadline)) = &flight {
                    prop_assert!(rig.m.is_connected(), "a probe on a connection that is not connected");
                    prop_assert!(rig.m.poll_timeout().is_some_and(|t| t <= *deadline));
                }
                prop_assert_eq!(rig.m.stats().probes_sent, posted);
            }
            prop_assert_eq!(posted, ended + u32::from(flight.is_some()), "each probe ends once");
        }
    }
}
