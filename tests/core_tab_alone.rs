//! A tab that does not share (`Tab::alone`: the `shareAcrossTabs` option off, or a
//! page without Web Locks) is the machine alone: fed the same inputs through the
//! `Driver` trait, it hands out the machine's own actions, in the same order, at the
//! same deadlines, and never a channel or lock action.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sse_courier::core::{
    Action, Config, Driver, Endpoint, Machine, PostId, PostOutcome, StreamId, Tab, TabAction,
    TabConfig, TabId,
};

#[derive(Clone, Debug)]
enum Op {
    Connect,
    Disconnect,
    Send(Endpoint),
    Welcome,
    Event(u64),
    StreamError { closed: bool },
    Answer(PostOutcome),
    Advance(u64),
    Visible(bool),
    TrackSeq(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Connect),
        1 => Just(Op::Disconnect),
        4 => prop_oneof![Just(Endpoint::Send), Just(Endpoint::Stop)].prop_map(Op::Send),
        3 => Just(Op::Welcome),
        2 => (0u64..8).prop_map(Op::Event),
        1 => any::<bool>().prop_map(|closed| Op::StreamError { closed }),
        4 => prop_oneof![
            Just(PostOutcome::Accepted),
            Just(PostOutcome::Status(404)),
            Just(PostOutcome::Status(503)),
            Just(PostOutcome::NetworkError),
        ]
        .prop_map(Op::Answer),
        2 => (1u64..5_000).prop_map(Op::Advance),
        1 => any::<bool>().prop_map(Op::Visible),
        1 => (0u64..8).prop_map(Op::TrackSeq),
    ]
}

/// One driver fed by a fake shell that remembers its open stream and the POSTs in
/// flight, and records every action, read as the machine's by `as_machine_action`.
struct Run<D: Driver> {
    driver: D,
    as_machine_action: fn(D::Action) -> Option<Action>,
    now: u64,
    stream: Option<StreamId>,
    posts: Vec<PostId>,
    actions: Vec<Action>,
}

impl<D: Driver> Run<D> {
    fn new(driver: D, as_machine_action: fn(D::Action) -> Option<Action>) -> Self {
        Run {
            driver,
            as_machine_action,
            now: 1_000,
            stream: None,
            posts: Vec::new(),
            actions: Vec::new(),
        }
    }

    fn apply(&mut self, op: &Op) {
        let now = self.now;
        match op {
            Op::Connect => self.driver.input(now, |m| m.connect(now)),
            Op::Disconnect => self.driver.input(now, |m| m.disconnect(now)),
            Op::Send(endpoint) => {
                self.driver.input(now, |m| m.send(now, *endpoint));
            }
            Op::Welcome => {
                if let Some(stream) = self.stream {
                    self.driver.on_welcome(now, stream, "c1");
                }
            }
            Op::Event(seq) => {
                if let Some(stream) = self.stream {
                    self.driver.on_event(now, stream, Some("s1"), Some(*seq));
                }
            }
            Op::StreamError { closed } => {
                if let Some(stream) = self.stream {
                    self.driver.on_stream_error(now, stream, *closed);
                }
            }
            Op::Answer(outcome) => {
                if !self.posts.is_empty() {
                    let post = self.posts.remove(0);
                    self.driver.on_post_answer(now, post, *outcome);
                }
            }
            Op::Advance(ms) => {
                self.now += ms;
                if self.driver.poll_timeout().is_some_and(|t| t <= self.now) {
                    self.driver.on_timeout(self.now);
                }
            }
            Op::Visible(visible) => self.driver.input(now, |m| m.on_visibility(now, *visible)),
            Op::TrackSeq(seq) => self.driver.input(now, |m| m.track_seq("s1", *seq)),
        }
        while let Some(action) = self.driver.poll_action() {
            let action = (self.as_machine_action)(action)
                .expect("a tab alone hands out only the machine's actions");
            match &action {
                Action::OpenStream(stream) => self.stream = Some(*stream),
                Action::Post { id, .. } => self.posts.push(*id),
                _ => {}
            }
            self.actions.push(action);
        }
    }
}

/// The driver's deadline as the shell reads it: through the trait (a `Machine`'s own
/// method of the same name would hide the trait's).
fn deadline(driver: &impl Driver) -> Option<u64> {
    driver.poll_timeout()
}

fn machine_action(action: TabAction) -> Option<Action> {
    match action {
        TabAction::Core(action) => Some(action),
        _ => None,
    }
}

fn config() -> Config {
    Config {
        stale_after_ms: Some(30_000),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_tab_alone_acts_as_its_machine(ops in proptest::collection::vec(op(), 1..80)) {
        let mut bare = Run::new(Machine::new(config(), 7), Some);
        let tab = Tab::alone(Machine::new(config(), 7), TabConfig::new(TabId(1)));
        let mut alone = Run::new(tab, machine_action);
        for op in &ops {
            bare.apply(op);
            alone.apply(op);
            prop_assert_eq!(&alone.actions, &bare.actions);
            prop_assert_eq!(deadline(&alone.driver), deadline(&bare.driver));
            prop_assert_eq!(alone.driver.machine().stats(), bare.driver.machine().stats());
        }
    }
}
