//! Property tests of the existing client's current contract (docs/delivery-rules.md,
//! rules 14 to 18): random interleavings of prompts, control messages, answers (good
//! receipts, receipts of another prompt, HTML, 5xx, 429, network errors, timeouts,
//! and, in some runs, final refusals), stream trouble and timers, against a fake
//! shell and a de-duplicating fake server. Checked at every step: never two prompts
//! in flight, prompts posted in send order, a body never changed once posted, a
//! prompt delivered only by its own receipt and reported once, one reconnect POST at a
//! time per connection and `_open` only after the last; and at the end, with a
//! healthy server, every prompt accepted exactly once, in send order.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sse_courier::core::{
    Action, AnswerBody, Backoff, Body, Config, Endpoint, FailReason, Fate, Machine, MsgId, Notice,
    PostId, PostOutcome, Prompt, Receipt, SendOutcome,
};

/// How the fake server answers one POST.
#[derive(Clone, Copy, Debug)]
enum Answer {
    GoodReceipt,
    ReceiptOfAnother,
    Html,
    Status(u16),
    Network,
}

#[derive(Clone, Debug)]
enum Op {
    Prompt { in_session: bool },
    Control(Endpoint),
    Answer(usize, Answer),
    Welcome,
    StreamError { closed: bool },
    CheckAndReconnect,
    Advance(u64),
    ClearPending,
}

fn answer(finals: bool) -> impl Strategy<Value = Answer> {
    let final_weight = if finals { 1 } else { 0 };
    prop_oneof![
        4 => Just(Answer::GoodReceipt),
        1 => Just(Answer::ReceiptOfAnother),
        1 => Just(Answer::Html),
        1 => Just(Answer::Status(503)),
        1 => Just(Answer::Status(429)),
        1 => Just(Answer::Network),
        final_weight => Just(Answer::Status(404)),
        final_weight => Just(Answer::Status(400)),
    ]
}

fn op(finals: bool) -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => any::<bool>().prop_map(|in_session| Op::Prompt { in_session }),
        1 => prop_oneof![Just(Endpoint::Stop), Just(Endpoint::Watch)].prop_map(Op::Control),
        8 => (any::<usize>(), answer(finals)).prop_map(|(i, a)| Op::Answer(i, a)),
        2 => Just(Op::Welcome),
        1 => any::<bool>().prop_map(|closed| Op::StreamError { closed }),
        1 => Just(Op::CheckAndReconnect),
        3 => prop_oneof![Just(0u64), Just(100), Just(1_000), Just(20_000)].prop_map(Op::Advance),
        1 => Just(Op::ClearPending),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (1usize..6, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(bound, timeout, jitter, notices)| Config {
            max_pending_sends: bound,
            post_timeout_ms: timeout.then_some(15_000),
            backoff: Backoff {
                initial_ms: 100,
                max_ms: 2_000,
            },
            retry_jitter: jitter,
            notices,
            ..Config::current_contract()
        },
    )
}

/// A POST the fake server has not answered yet.
#[derive(Clone, Debug)]
struct Open {
    id: PostId,
    connection_id: Option<String>,
    prompt: Option<MsgId>,
    reconnect: bool,
}

struct World {
    m: Machine,
    now: u64,
    welcomes: u32,
    open: Vec<Open>,
    /// Every prompt taken in, with its `clientMsgId`.
    prompts: BTreeMap<MsgId, String>,
    /// Every message taken in (prompts and control messages).
    taken: BTreeSet<MsgId>,
    fates: BTreeMap<MsgId, Fate>,
    posted: BTreeSet<MsgId>,
    delivered_prompts: Vec<MsgId>,
    /// The `clientMsgId`s the server has accepted (it de-duplicates by them).
    server_accepted: BTreeSet<String>,
    /// The prompt whose answer is being handed over with a good receipt.
    good_receipt_for: Option<MsgId>,
    finals: bool,
}

impl World {
    fn new(config: Config, finals: bool) -> Self {
        let mut m = Machine::new(config, 7);
        m.connect(0);
        World {
            m,
            now: 0,
            welcomes: 0,
            open: Vec::new(),
            prompts: BTreeMap::new(),
            taken: BTreeSet::new(),
            fates: BTreeMap::new(),
            posted: BTreeSet::new(),
            delivered_prompts: Vec::new(),
            server_accepted: BTreeSet::new(),
            good_receipt_for: None,
            finals,
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = self.now;
        match op {
            Op::Prompt { in_session } => {
                let id = format!("p{}", self.prompts.len() + self.taken.len());
                let prompt = Prompt {
                    client_msg_id: Some(&id),
                    session_id: in_session.then_some("s-chat"),
                };
                if let SendOutcome::Posted(msg) | SendOutcome::Queued(msg) =
                    self.m.send_prompt(now, prompt)
                {
                    self.taken.insert(msg);
                    self.prompts.insert(msg, id);
                }
            }
            Op::Control(endpoint) => {
                if let SendOutcome::Posted(msg) | SendOutcome::Queued(msg) =
                    self.m.send(now, *endpoint)
                {
                    self.taken.insert(msg);
                }
            }
            Op::Answer(index, answer) => {
                if self.open.is_empty() {
                    return Ok(());
                }
                let post = self.open.remove(index % self.open.len());
                self.answer(post, *answer);
            }
            Op::Welcome => {
                if let Some(stream) = self.m.current_stream() {
                    self.welcomes += 1;
                    self.m
                        .on_welcome(now, stream, &format!("c{}", self.welcomes));
                }
            }
            Op::StreamError { closed } => {
                if let Some(stream) = self.m.current_stream() {
                    self.m.on_stream_error(now, stream, *closed);
                }
            }
            Op::CheckAndReconnect => self.m.check_and_reconnect(now, true),
            Op::Advance(ms) => {
                self.now += ms;
                if self.m.poll_timeout().is_some_and(|t| t <= self.now) {
                    self.m.on_timeout(self.now);
                }
            }
            Op::ClearPending => self.m.clear_pending_sends(),
        }
        self.settle_actions()
    }

    /// The fake server: a prompt's `clientMsgId` is accepted (once) whatever the
    /// client then hears, unless the answer is a refusal or never left.
    fn answer(&mut self, post: Open, answer: Answer) {
        let now = self.now;
        let Some(msg) = post.prompt else {
            let outcome = match answer {
                Answer::Status(code) => PostOutcome::Status(code),
                Answer::Network => PostOutcome::NetworkError,
                _ => PostOutcome::Accepted,
            };
            self.m.on_post_answer(now, post.id, outcome);
            return;
        };
        let id = self.prompts[&msg].clone();
        if !matches!(answer, Answer::Status(400 | 404) | Answer::Network) {
            self.server_accepted.insert(id.clone());
        }
        let body = |client_msg_id: &str| {
            AnswerBody::Receipt(Receipt {
                client_msg_id: client_msg_id.into(),
                session_id: Some("s-chat".into()),
            })
        };
        match answer {
            Answer::GoodReceipt => {
                self.good_receipt_for = Some(msg);
                self.m.on_post_receipt(now, post.id, body(&id));
            }
            Answer::ReceiptOfAnother => self.m.on_post_receipt(now, post.id, body("other")),
            Answer::Html => self
                .m
                .on_post_receipt(now, post.id, AnswerBody::NotAReceipt),
            Answer::Status(code) => self
                .m
                .on_post_answer(now, post.id, PostOutcome::Status(code)),
            Answer::Network => self
                .m
                .on_post_answer(now, post.id, PostOutcome::NetworkError),
        }
    }

    fn settle_actions(&mut self) -> Result<(), TestCaseError> {
        let good_receipt_for = self.good_receipt_for.take();
        let actions: Vec<Action> = std::iter::from_fn(|| self.m.poll_action()).collect();
        for action in &actions {
            match action {
                Action::PostPrompt {
                    id,
                    msg,
                    connection_id,
                    ..
                } => {
                    prop_assert!(self.prompts.contains_key(msg), "unknown prompt posted");
                    prop_assert!(!self.fates.contains_key(msg), "posted after its report");
                    let in_flight = self.open.iter().filter(|o| o.prompt.is_some()).count();
                    prop_assert_eq!(in_flight, 0, "two prompts in flight");
                    let earlier_unsettled = self
                        .prompts
                        .keys()
                        .any(|p| p < msg && !self.fates.contains_key(p));
                    prop_assert!(!earlier_unsettled, "{msg:?} posted out of send order");
                    if let Some(id) = connection_id {
                        prop_assert_eq!(Some(id.as_str()), self.m.connection_id());
                    }
                    self.posted.insert(*msg);
                    self.open.push(Open {
                        id: *id,
                        connection_id: connection_id.clone(),
                        prompt: Some(*msg),
                        reconnect: false,
                    });
                }
                Action::Post {
                    id,
                    connection_id,
                    body,
                    ..
                } => {
                    let reconnect = matches!(body, Body::Reconnect(_));
                    if reconnect {
                        let same = self
                            .open
                            .iter()
                            .filter(|o| o.reconnect)
                            .filter(|o| o.connection_id.as_deref() == Some(connection_id))
                            .count();
                        prop_assert_eq!(same, 0, "two reconnect POSTs on one connection");
                    }
                    self.open.push(Open {
                        id: *id,
                        connection_id: Some(connection_id.clone()),
                        prompt: None,
                        reconnect,
                    });
                }
                Action::AbortPost(id) => self.open.retain(|o| o.id != *id),
                Action::AdoptSession { msgs, .. } => {
                    for msg in msgs {
                        prop_assert!(!self.posted.contains(msg), "{msg:?} rewritten once posted");
                    }
                }
                Action::Notify(Notice::Open) => {
                    let current = self.m.connection_id();
                    let handshake_open = self
                        .open
                        .iter()
                        .any(|o| o.reconnect && o.connection_id.as_deref() == current);
                    prop_assert!(!handshake_open, "_open before the last reconnect POST");
                }
                Action::Report { msg, fate } => {
                    prop_assert!(self.taken.contains(msg), "report of unknown {msg:?}");
                    prop_assert!(self.fates.insert(*msg, *fate).is_none(), "reported twice");
                    if self.prompts.contains_key(msg) {
                        self.check_prompt_fate(*msg, *fate, good_receipt_for)?;
                    }
                }
                _ => {}
            }
        }
        let unsettled = self.taken.len() - self.fates.len();
        prop_assert_eq!(unsettled, self.m.pending_len() + self.m.in_flight_len());
        Ok(())
    }

    fn check_prompt_fate(
        &mut self,
        msg: MsgId,
        fate: Fate,
        good_receipt_for: Option<MsgId>,
    ) -> Result<(), TestCaseError> {
        match fate {
            Fate::Delivered => {
                prop_assert_eq!(good_receipt_for, Some(msg), "delivered without its receipt");
                if let Some(last) = self.delivered_prompts.last() {
                    prop_assert!(*last < msg, "prompts delivered out of order");
                }
                self.delivered_prompts.push(msg);
            }
            Fate::Failed(FailReason::Rejected(400 | 404)) if self.finals => {}
            other => prop_assert!(false, "a prompt ended {other:?}"),
        }
        Ok(())
    }

    /// A healthy server from now on: every answer good, every stream welcomed.
    fn heal(&mut self) -> Result<(), TestCaseError> {
        self.m.connect(self.now);
        self.settle_actions()?;
        for _ in 0..500 {
            if !self.open.is_empty() {
                let post = self.open.remove(0);
                self.answer(post, Answer::GoodReceipt);
            } else if let (Some(stream), false) = (self.m.current_stream(), self.m.is_connected()) {
                self.welcomes += 1;
                self.m
                    .on_welcome(self.now, stream, &format!("c{}", self.welcomes));
            } else if let Some(at) = self.m.poll_timeout() {
                self.now = self.now.max(at);
                self.m.on_timeout(self.now);
            } else {
                break;
            }
            self.settle_actions()?;
        }
        prop_assert_eq!(self.fates.len(), self.taken.len(), "left unreported");
        let accepted: Vec<&String> = self
            .delivered_prompts
            .iter()
            .map(|m| &self.prompts[m])
            .collect();
        for id in &accepted {
            prop_assert!(
                self.server_accepted.contains(*id),
                "{id} reported, never accepted"
            );
        }
        if !self.finals {
            prop_assert_eq!(accepted.len(), self.prompts.len(), "a prompt not accepted");
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_prompt_is_accepted_exactly_once_in_order_by_its_own_receipt(
        config in config(),
        ops in prop::collection::vec(op(false), 1..80),
    ) {
        let mut world = World::new(config, false);
        world.settle_actions()?;
        for op in &ops {
            world.apply(op)?;
        }
        world.heal()?;
    }

    #[test]
    fn with_final_refusals_every_prompt_still_ends_exactly_once(
        config in config(),
        ops in prop::collection::vec(op(true), 1..80),
    ) {
        let mut world = World::new(config, true);
        world.settle_actions()?;
        for op in &ops {
            world.apply(op)?;
        }
        world.heal()?;
    }
}
