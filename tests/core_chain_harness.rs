//! Test rig for acknowledged application (docs/delivery-rules.md, rules 20 to 22): the
//! harness's `Rig` plus the shell's part for chained events, played by hand. It keeps
//! the events the core holds under their keys, hands each event the core lets through
//! to a fake app listener (which answers as the test tells it), reports the answer
//! back, and records what the app applied and which acknowledgements were posted.
//! Included by the chain scenario files with `#[path]`; built alone it holds no tests.
#![cfg(not(target_arch = "wasm32"))]
#![allow(dead_code)]

#[path = "core_harness.rs"]
pub mod harness;

use std::collections::{BTreeMap, BTreeSet};

use harness::Rig;
use sse_courier::core::{Action, Applied, ChainVerdict, Config, EventKey, PostId, PostOutcome};

/// One chained event: `(sessionId, seq, prevSessionSeq)`.
pub type Event = (&'static str, u64, u64);

pub struct ChainRig {
    pub rig: Rig,
    /// Events the core asked the shell to keep.
    pub kept: BTreeMap<EventKey, Event>,
    /// What the listener returns for an event, when not `Applied::Yes`.
    pub answers: BTreeMap<(&'static str, u64), Applied>,
    /// Events the app applied, in order.
    pub applied: Vec<(&'static str, u64)>,
    /// Events the listener was handed, in order (applied or not).
    pub handed: Vec<(&'static str, u64)>,
    /// Acknowledgement POSTs not answered yet: (post, session, seq).
    pub acks: Vec<(PostId, String, u64)>,
    /// Every acknowledgement posted: (session, seq).
    pub acked: Vec<(String, u64)>,
    /// Keys the core discarded.
    pub discarded: BTreeSet<EventKey>,
}

pub fn chained() -> Config {
    Config {
        applied_events: true,
        ..Config::default()
    }
}

impl ChainRig {
    pub fn connected(config: Config) -> Self {
        let mut rig = ChainRig::wrap(Rig::new(config));
        rig.rig.connect();
        let actions = rig.rig.welcome("conn-abc");
        rig.carry_out(actions);
        rig
    }

    pub fn wrap(rig: Rig) -> Self {
        ChainRig {
            rig,
            kept: BTreeMap::new(),
            answers: BTreeMap::new(),
            applied: Vec::new(),
            handed: Vec::new(),
            acks: Vec::new(),
            acked: Vec::new(),
            discarded: BTreeSet::new(),
        }
    }

    /// The listener will answer `answer` for this event (once).
    pub fn answer_with(&mut self, session: &'static str, seq: u64, answer: Applied) {
        self.answers.insert((session, seq), answer);
    }

    /// An event on the current stream; gives the verdict.
    pub fn event(&mut self, event: Event) -> ChainVerdict {
        self.event_sized(event, 100)
    }

    /// An event whose data is `bytes` long.
    pub fn event_sized(&mut self, event: Event, bytes: usize) -> ChainVerdict {
        let (session, seq, prev) = event;
        let stream = self.rig.stream();
        let now = self.rig.now;
        let verdict = self
            .rig
            .m
            .on_chained_event(now, stream, session, seq, prev, bytes);
        match verdict {
            ChainVerdict::Apply(key) => self.hand(key, event),
            ChainVerdict::Hold(key) => {
                self.kept.insert(key, event);
            }
            ChainVerdict::Duplicate | ChainVerdict::Ignored => {}
        }
        let actions = self.rig.drain();
        self.carry_out(actions);
        verdict
    }

    pub fn events(&mut self, events: &[Event]) {
        for event in events {
            self.event(*event);
        }
    }

    /// The listener gets `event`; its answer goes back to the core.
    fn hand(&mut self, key: EventKey, event: Event) {
        let (session, seq, _) = event;
        self.handed.push((session, seq));
        let answer = self.answers.remove(&(session, seq)).unwrap_or(Applied::Yes);
        if answer == Applied::Yes {
            self.applied.push((session, seq));
        }
        let now = self.rig.now;
        self.rig.m.on_applied(now, key, answer);
    }

    /// Plays the shell's part of `actions` and of what they lead to.
    pub fn carry_out(&mut self, actions: Vec<Action>) {
        let mut todo = actions;
        while !todo.is_empty() {
            for action in std::mem::take(&mut todo) {
                match action {
                    Action::Apply(key) => {
                        let event = self.kept.remove(&key).expect("Apply names a kept event");
                        self.hand(key, event);
                    }
                    Action::Discard(key) => {
                        assert!(
                            self.kept.remove(&key).is_some(),
                            "Discard names a kept event"
                        );
                        self.discarded.insert(key);
                    }
                    Action::PostApplied {
                        id,
                        session_id,
                        seq,
                        ..
                    } => {
                        self.acked.push((session_id.clone(), seq));
                        self.acks.push((id, session_id, seq));
                    }
                    _ => {}
                }
            }
            todo = self.rig.drain();
        }
    }

    /// Answers every acknowledgement in flight with `outcome`.
    pub fn answer_acks(&mut self, outcome: PostOutcome) -> Vec<Action> {
        let mut all = Vec::new();
        for (post, _, _) in std::mem::take(&mut self.acks) {
            let actions = self.rig.answer(post, outcome);
            all.extend(actions.iter().cloned());
            self.carry_out(actions);
        }
        all
    }

    pub fn advance(&mut self, ms: u64) -> Vec<Action> {
        let actions = self.rig.advance(ms);
        self.carry_out(actions.clone());
        actions
    }

    /// A fresh welcome on the current stream (after a resync opened one).
    pub fn welcome(&mut self, connection_id: &str) -> Vec<Action> {
        let actions = self.rig.welcome(connection_id);
        self.carry_out(actions.clone());
        actions
    }

    pub fn cursor(&self, session: &str) -> u64 {
        self.rig.m.last_seq(session)
    }

    pub fn resyncs(&self) -> u32 {
        self.rig.m.stats().resyncs
    }
}
