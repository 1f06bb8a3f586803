//! The property of rules 20 to 22 (docs/delivery-rules.md): under random drops,
//! duplicates, reorders and listener refusals, every chained event is applied exactly
//! once and in chain order, or a resync is asked for; and once the faults stop, the
//! resyncs bring every event in.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_chain_harness.rs"]
mod chain;

use chain::harness::posts;
use chain::*;
use proptest::prelude::*;
use sse_courier::core::{Applied, Body, PostOutcome, GAP_TIMEOUT_MS};

const SESSIONS: [&str; 2] = ["a", "b"];

/// What the server does to one event it sends.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Deliver,
    Drop,
    Twice,
    /// Swapped with the event after it.
    Late,
    /// The listener refuses it (`false` or a throw).
    Refused,
    /// The listener returns nothing; the gap timer brings it back.
    NotYet,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        6 => Just(Fault::Deliver),
        1 => Just(Fault::Drop),
        1 => Just(Fault::Twice),
        1 => Just(Fault::Late),
        1 => Just(Fault::Refused),
        1 => Just(Fault::NotYet),
    ]
}

/// Session `s`'s chain: seqs grow by 1 or 2 (another session's events may sit in
/// between on the server), each event naming the one before.
fn chains(steps: &[Vec<u64>]) -> Vec<Vec<Event>> {
    SESSIONS
        .iter()
        .zip(steps)
        .map(|(session, steps)| {
            let mut prev = 0;
            steps
                .iter()
                .map(|step| {
                    let seq = prev + step;
                    let event = (*session, seq, prev);
                    prev = seq;
                    event
                })
                .collect()
        })
        .collect()
}

/// The server's replay after `cursor`, interleaving the sessions.
fn replay(chains: &[Vec<Event>], cursors: &[u64]) -> Vec<Event> {
    let mut out = Vec::new();
    let longest = chains.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for (chain, cursor) in chains.iter().zip(cursors) {
            if let Some(event) = chain.get(i).filter(|e| e.1 > *cursor) {
                out.push(*event);
            }
        }
    }
    out
}

fn send_with_faults(
    c: &mut ChainRig,
    events: Vec<Event>,
    faults: &mut impl Iterator<Item = Fault>,
) {
    // A resync closes the stream: the rest of this replay is never seen.
    let resyncs = c.resyncs();
    let mut i = 0;
    while i < events.len() && c.resyncs() == resyncs {
        let event = events[i];
        match faults.next().unwrap_or(Fault::Deliver) {
            Fault::Deliver => {
                c.event(event);
            }
            Fault::Drop => {}
            Fault::Twice => {
                c.event(event);
                c.event(event);
            }
            Fault::Late if i + 1 < events.len() => {
                c.event(events[i + 1]);
                c.event(event);
                i += 1;
            }
            Fault::Late => {
                c.event(event);
            }
            Fault::Refused => {
                c.answer_with(event.0, event.1, Applied::Refused);
                c.event(event);
            }
            Fault::NotYet => {
                c.answer_with(event.0, event.1, Applied::NotYet);
                c.event(event);
            }
        }
        i += 1;
    }
    // An answer meant for an event that was held and never handed is forgotten.
    c.answers.clear();
}

/// Welcomes the current stream and answers its reconnect POST; the cursors it named.
fn rewelcome(c: &mut ChainRig, round: usize) -> Vec<u64> {
    let actions = c.welcome(&format!("conn-{round}"));
    let mut cursors = vec![0; SESSIONS.len()];
    for post in posts(&actions) {
        if let Body::Reconnect(sessions) = &post.body {
            for s in sessions {
                let at = SESSIONS.iter().position(|n| *n == s.session_id).unwrap();
                cursors[at] = s.last_seq;
            }
            let answered = c.rig.answer(post.id, PostOutcome::Accepted);
            c.carry_out(answered);
        }
    }
    cursors
}

fn assert_chain_order(c: &ChainRig, chains: &[Vec<Event>]) {
    for (session, chain) in SESSIONS.iter().zip(chains) {
        let applied: Vec<u64> = c
            .applied
            .iter()
            .filter(|(s, _)| s == session)
            .map(|(_, seq)| *seq)
            .collect();
        let expected: Vec<u64> = chain.iter().map(|e| e.1).take(applied.len()).collect();
        assert_eq!(applied, expected, "{session}: once each, in chain order");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_event_is_applied_once_in_chain_order_or_a_resync_is_asked_for(
        steps in proptest::collection::vec(proptest::collection::vec(1u64..3, 1..12), 2),
        faults in proptest::collection::vec(fault(), 0..60),
        rounds in 1usize..5,
    ) {
        let chains = chains(&steps);
        let mut c = ChainRig::connected(chained());
        let mut faults = faults.into_iter();
        let mut cursors = vec![0; SESSIONS.len()];
        for round in 0..rounds {
            let resyncs = c.resyncs();
            send_with_faults(&mut c, replay(&chains, &cursors), &mut faults);
            c.answer_acks(PostOutcome::Accepted);
            assert_chain_order(&c, &chains);
            let complete = SESSIONS
                .iter()
                .zip(&chains)
                .all(|(s, chain)| c.cursor(s) == chain.last().map_or(0, |e| e.1));
            // Not complete: a resync was asked for, or is armed for a held gap.
            if !complete && c.resyncs() == resyncs {
                c.advance(GAP_TIMEOUT_MS);
                c.answer_acks(PostOutcome::Accepted);
                let held_or_handed_back = c.rig.m.held_len() > 0;
                prop_assert!(
                    c.resyncs() > resyncs || !held_or_handed_back,
                    "an incomplete chain resyncs"
                );
            }
            if c.resyncs() == resyncs {
                // Nothing held and nothing asked for: the events left were dropped or
                // not applied without a gap after them. The app's next reconnect asks.
                c.rig.check_and_reconnect(true);
            }
            cursors = rewelcome(&mut c, round);
        }
        // The faults stop: each round's replay brings what is left.
        for round in rounds..rounds + 2 {
            send_with_faults(&mut c, replay(&chains, &cursors), &mut std::iter::empty());
            c.answer_acks(PostOutcome::Accepted);
            c.rig.check_and_reconnect(true);
            cursors = rewelcome(&mut c, round);
        }
        assert_chain_order(&c, &chains);
        for (session, chain) in SESSIONS.iter().zip(&chains) {
            prop_assert_eq!(c.cursor(session), chain.last().map_or(0, |e| e.1));
        }
    }
}
