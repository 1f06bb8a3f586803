//! Property tests of the delivery core: random interleavings of sends, answers,
//! stream trouble, lifecycle calls and timer firings, played against a small fake
//! shell and server, checking the delivery invariants of docs/delivery-rules.md.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use proptest::prelude::*;
use sse_courier::core::{
    Action, Backoff, Body, Config, DropReason, Endpoint, EndpointSet, FailReason, Fate, Machine,
    MsgId, PostId, PostOutcome, SendOutcome,
};

#[derive(Clone, Debug)]
enum Op {
    Send(Endpoint),
    Answer(usize, PostOutcome),
    StreamError { closed: bool },
    Welcome,
    Event(u8, u64),
    CheckAndReconnect(bool),
    Disconnect,
    Connect,
    Advance(u64),
    TrackSeq(u8, u64),
    SendSuspend,
    Visible(bool),
    Online,
    ClearPending,
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    prop_oneof![
        4 => Just(Endpoint::Send),
        1 => Just(Endpoint::Watch),
        1 => Just(Endpoint::Stop),
        1 => Just(Endpoint::Suspend),
        1 => Just(Endpoint::Mode),
    ]
}

fn outcome() -> impl Strategy<Value = PostOutcome> {
    prop_oneof![
        4 => Just(PostOutcome::Accepted),
        3 => Just(PostOutcome::Status(404)),
        1 => Just(PostOutcome::Status(500)),
        1 => Just(PostOutcome::Status(429)),
        1 => Just(PostOutcome::Status(400)),
        1 => Just(PostOutcome::NetworkError),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => endpoint().prop_map(Op::Send),
        8 => (any::<usize>(), outcome()).prop_map(|(i, o)| Op::Answer(i, o)),
        1 => any::<bool>().prop_map(|closed| Op::StreamError { closed }),
        3 => Just(Op::Welcome),
        1 => (0u8..3, 0u64..6).prop_map(|(s, q)| Op::Event(s, q)),
        1 => any::<bool>().prop_map(Op::CheckAndReconnect),
        1 => Just(Op::Disconnect),
        1 => Just(Op::Connect),
        3 => prop_oneof![Just(0u64), Just(100), Just(600), Just(5_000), Just(60_000)]
            .prop_map(Op::Advance),
        1 => (0u8..3, 0u64..6).prop_map(|(s, q)| Op::TrackSeq(s, q)),
        1 => Just(Op::SendSuspend),
        1 => any::<bool>().prop_map(Op::Visible),
        1 => Just(Op::Online),
        1 => Just(Op::ClearPending),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        1usize..5,
        1u32..4,
        0u32..3,
        any::<bool>(),
        prop::option::of(Just(30_000u64)),
        prop::option::of(Just(10_000u64)),
        any::<bool>(),
    )
        .prop_map(
            |(bound, stale, retries, ordered, stale_after, timeout, watch)| {
                let mut retryable = EndpointSet::default_retryable();
                if watch {
                    retryable.insert(Endpoint::Watch);
                    // Ignored: lifecycle endpoints are never retried.
                    retryable.insert(Endpoint::Stop);
                }
                Config {
                    retryable,
                    max_pending_sends: bound,
                    max_stale_retries: stale,
                    max_send_retries: retries,
                    stale_after_ms: stale_after,
                    post_timeout_ms: timeout,
                    backoff: Backoff {
                        initial_ms: 100,
                        max_ms: 2_000,
                    },
                    ordered_sends: ordered,
                    ..Config::default()
                }
            },
        )
}

/// A POST the fake server has not answered yet.
#[derive(Clone, Debug)]
struct Open {
    id: PostId,
    connection_id: String,
    msg: Option<MsgId>,
}

/// The fake shell and server, and what they have seen so far.
struct World {
    m: Machine,
    config: Config,
    now: u64,
    welcomes: u32,
    open: Vec<Open>,
    accepted: BTreeMap<MsgId, Endpoint>,
    fates: BTreeMap<MsgId, Fate>,
    delivered: Vec<MsgId>,
    /// 404 answers, and transient failures (5xx, 429, network, timeout), per message.
    stale_hits: BTreeMap<MsgId, u32>,
    transient_hits: BTreeMap<MsgId, u32>,
    /// Answers to POSTs of a connection that rebuilt the stream, per connection id.
    reconnects_by_connection: BTreeMap<String, u32>,
}

impl World {
    fn new(config: Config, seed: u64) -> Self {
        let mut world = World {
            m: Machine::new(config.clone(), seed),
            config,
            now: 0,
            welcomes: 0,
            open: Vec::new(),
            accepted: BTreeMap::new(),
            fates: BTreeMap::new(),
            delivered: Vec::new(),
            stale_hits: BTreeMap::new(),
            transient_hits: BTreeMap::new(),
            reconnects_by_connection: BTreeMap::new(),
        };
        world.m.connect(0);
        world
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = self.now;
        match op {
            Op::Send(endpoint) => match self.m.send(now, *endpoint) {
                SendOutcome::Posted(id) | SendOutcome::Queued(id) => {
                    prop_assert!(!self.accepted.contains_key(&id), "id reused");
                    prop_assert!(self.accepted.keys().all(|k| *k < id), "ids must increase");
                    self.accepted.insert(id, *endpoint);
                }
                SendOutcome::Refused => {}
            },
            Op::Answer(index, outcome) => {
                if self.open.is_empty() {
                    return Ok(());
                }
                let post = self.open.remove(index % self.open.len());
                let was_current = self.m.connection_id() == Some(post.connection_id.as_str());
                if let Some(msg) = post.msg {
                    let hits = match outcome {
                        PostOutcome::Status(404) => &mut self.stale_hits,
                        PostOutcome::Status(429 | 500..=599) | PostOutcome::NetworkError => {
                            &mut self.transient_hits
                        }
                        _ => &mut BTreeMap::new(),
                    };
                    *hits.entry(msg).or_default() += 1;
                }
                self.m.on_post_answer(now, post.id, *outcome);
                let actions = self.settle_actions()?;
                let rebuilt = actions.iter().any(|a| matches!(a, Action::OpenStream(_)));
                if rebuilt {
                    let count = self
                        .reconnects_by_connection
                        .entry(post.connection_id.clone())
                        .or_default();
                    *count += 1;
                    prop_assert!(*count <= 1, "two reconnects for {}", post.connection_id);
                }
                if !was_current {
                    let state_changed = actions.iter().any(|a| {
                        matches!(
                            a,
                            Action::OpenStream(_) | Action::CloseStream(_) | Action::Notify(_)
                        )
                    });
                    prop_assert!(!state_changed, "late answer changed state: {actions:?}");
                }
                if *outcome == PostOutcome::Accepted {
                    if let Some(msg) = post.msg {
                        prop_assert_eq!(self.fates.get(&msg), Some(&Fate::Delivered));
                    }
                }
                return Ok(());
            }
            Op::StreamError { closed } => {
                if let Some(stream) = self.m.current_stream() {
                    self.m.on_stream_error(now, stream, *closed);
                }
            }
            Op::Welcome => {
                if let Some(stream) = self.m.current_stream() {
                    self.welcomes += 1;
                    let id = format!("c{}", self.welcomes);
                    self.m.on_welcome(now, stream, &id);
                }
            }
            Op::Event(session, seq) => {
                if let Some(stream) = self.m.current_stream() {
                    let id = format!("s{session}");
                    self.m.on_event(now, stream, Some(&id), Some(*seq));
                }
            }
            Op::CheckAndReconnect(force) => self.m.check_and_reconnect(now, *force),
            Op::Disconnect => self.m.disconnect(now),
            Op::Connect => self.m.connect(now),
            Op::Advance(ms) => {
                self.now += ms;
                if self.m.poll_timeout().is_some_and(|t| t <= self.now) {
                    self.m.on_timeout(self.now);
                }
            }
            Op::TrackSeq(session, seq) => self.m.track_seq(&format!("s{session}"), *seq),
            Op::SendSuspend => self.m.send_suspend(now),
            Op::Visible(visible) => self.m.on_visibility(now, *visible),
            Op::Online => self.m.on_online(now),
            Op::ClearPending => self.m.clear_pending_sends(),
        }
        self.settle_actions().map(|_| ())
    }

    /// Drains the machine as the shell would, checking each action and the
    /// bookkeeping invariants.
    fn settle_actions(&mut self) -> Result<Vec<Action>, TestCaseError> {
        let actions: Vec<Action> = std::iter::from_fn(|| self.m.poll_action()).collect();
        let mut last_posted: Option<MsgId> = None;
        for action in &actions {
            match action {
                Action::Post {
                    id,
                    connection_id,
                    body,
                    ..
                } => {
                    prop_assert_eq!(Some(connection_id.as_str()), self.m.connection_id());
                    let msg = match body {
                        Body::Message(msg) => Some(*msg),
                        _ => None,
                    };
                    if let Some(msg) = msg {
                        prop_assert!(self.accepted.contains_key(&msg), "unknown {msg:?}");
                        prop_assert!(!self.fates.contains_key(&msg), "posted after its report");
                        prop_assert!(
                            self.open.iter().all(|o| o.msg != Some(msg)),
                            "{msg:?} posted twice at once"
                        );
                        if let Some(previous) = last_posted {
                            prop_assert!(previous < msg, "flushed out of send order");
                        }
                        last_posted = Some(msg);
                    }
                    self.open.push(Open {
                        id: *id,
                        connection_id: connection_id.clone(),
                        msg,
                    });
                }
                Action::AbortPost(id) => {
                    if let Some(msg) = self.open.iter().find(|o| o.id == *id).and_then(|o| o.msg) {
                        *self.transient_hits.entry(msg).or_default() += 1;
                    }
                    let before = self.open.len();
                    self.open.retain(|o| o.id != *id);
                    prop_assert_eq!(before, self.open.len() + 1, "abort of an unknown POST");
                }
                Action::Report { msg, fate } => {
                    prop_assert!(self.accepted.contains_key(msg), "report of unknown {msg:?}");
                    prop_assert!(
                        self.fates.insert(*msg, *fate).is_none(),
                        "{msg:?} reported twice"
                    );
                    if *fate == Fate::Delivered {
                        self.delivered.push(*msg);
                    }
                    self.check_fate_earned(*msg, *fate)?;
                }
                _ => {}
            }
        }
        self.check_books()?;
        Ok(actions)
    }

    fn check_books(&self) -> Result<(), TestCaseError> {
        prop_assert!(self.m.pending_len() <= self.config.max_pending_sends);
        let unsettled = self.accepted.len() - self.fates.len();
        let held = self.m.pending_len() + self.m.in_flight_len();
        prop_assert_eq!(unsettled, held, "a message vanished or was counted twice");
        let posted = self.open.iter().filter(|o| o.msg.is_some()).count();
        prop_assert_eq!(
            self.m.in_flight_len(),
            posted + self.m.retrying_len(),
            "in flight: awaiting an answer or a retry"
        );
        if self.config.ordered_sends {
            let retryable_open = self
                .open
                .iter()
                .filter_map(|o| o.msg)
                .filter(|m| self.is_retryable(m))
                .count();
            prop_assert!(retryable_open <= 1, "two ordered sends in flight");
        }
        Ok(())
    }

    /// A drop or failure only after exactly the allowed number of attempts.
    fn check_fate_earned(&self, msg: MsgId, fate: Fate) -> Result<(), TestCaseError> {
        let stale = self.stale_hits.get(&msg).copied().unwrap_or(0);
        let transient = self.transient_hits.get(&msg).copied().unwrap_or(0);
        let allowed = if self.is_retryable(&msg) {
            self.config.max_send_retries + 1
        } else {
            1
        };
        match fate {
            Fate::Dropped(DropReason::StaleRetriesExhausted) => {
                prop_assert!(self.is_retryable(&msg));
                prop_assert_eq!(stale, self.config.max_stale_retries);
            }
            Fate::Failed(FailReason::StaleConnection) => {
                prop_assert!(!self.is_retryable(&msg));
                prop_assert_eq!(stale, 1);
            }
            Fate::Failed(
                FailReason::ServerError(_) | FailReason::Network | FailReason::TimedOut,
            ) => {
                prop_assert_eq!(transient, allowed, "failed after the wrong number of tries");
            }
            _ => {}
        }
        Ok(())
    }

    fn is_retryable(&self, msg: &MsgId) -> bool {
        self.accepted
            .get(msg)
            .is_some_and(|e| self.config.retryable.contains(*e) && !e.is_lifecycle())
    }

    /// Drives to quiescence with a healthy server: everything accepted must end up
    /// reported.
    fn heal(&mut self) -> Result<(), TestCaseError> {
        self.m.connect(self.now);
        self.settle_actions()?;
        for _ in 0..200 {
            if !self.open.is_empty() {
                let post = self.open.remove(0);
                self.m
                    .on_post_answer(self.now, post.id, PostOutcome::Accepted);
            } else if let (Some(stream), false) = (self.m.current_stream(), self.m.is_connected()) {
                self.welcomes += 1;
                let id = format!("c{}", self.welcomes);
                self.m.on_welcome(self.now, stream, &id);
            } else if self.m.retrying_len() > 0 || self.m.current_stream().is_none() {
                if let Some(at) = self.m.poll_timeout() {
                    self.now = self.now.max(at);
                    self.m.on_timeout(self.now);
                }
            } else {
                break;
            }
            self.settle_actions()?;
        }
        prop_assert_eq!(
            self.fates.len(),
            self.accepted.len(),
            "messages left unreported"
        );
        Ok(())
    }

    fn check_ordered_delivery(&self) -> Result<(), TestCaseError> {
        if self.config.ordered_sends {
            let retryable: Vec<MsgId> = self
                .delivered
                .iter()
                .copied()
                .filter(|m| self.is_retryable(m))
                .collect();
            prop_assert!(
                retryable.windows(2).all(|w| w[0] < w[1]),
                "ordered sends delivered out of order: {retryable:?}"
            );
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_message_is_lost_duplicated_or_misrouted(
        config in config(),
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let mut world = World::new(config, seed);
        world.settle_actions()?;
        for op in &ops {
            world.apply(op)?;
        }
        world.check_ordered_delivery()?;
        world.heal()?;
        world.check_ordered_delivery()?;
    }
}
