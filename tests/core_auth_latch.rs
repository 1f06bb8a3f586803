//! Rule 24 (docs/delivery-rules.md): with `auth_latch`, an `auth_expired` event of the
//! current stream, or a 401 from the check the core asks for after a stream error,
//! latches: the stream closes, nothing reconnects, queued control messages are
//! dropped, queued prompts fail, posted ones are uncertain (each reported, and told
//! when notices are on), and the listener hears `_auth_lost`. While latched `send`
//! is refused and nothing opens; `restore_authentication` unlatches and rebuilds.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_contract_harness.rs"]
mod contract;

use contract::harness::*;
use contract::*;
use sse_courier::core::{
    Action, Config, DropReason, Endpoint, EndpointSet, FailReason, Fate, Notice, PostId,
    PostOutcome, PromptNotice, SendOutcome, Warning,
};

fn latch_on() -> Config {
    Config {
        auth_latch: true,
        ..Config::default()
    }
}

/// The whole contract (prompts without the stream, receipts, notices) with the latch.
fn strict() -> Config {
    Config::current_contract()
}

fn expire(rig: &mut Rig) -> Vec<Action> {
    let stream = rig.stream();
    rig.m.on_auth_expired(rig.now, stream);
    rig.drain()
}

fn checks(actions: &[Action]) -> Vec<PostId> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::CheckAuth(check) => Some(*check),
            _ => None,
        })
        .collect()
}

fn check_answer(rig: &mut Rig, check: PostId, outcome: PostOutcome) -> Vec<Action> {
    rig.m.on_auth_check(rig.now, check, outcome);
    rig.drain()
}

/// Nothing that reaches the network: no stream, no POST, no beacon.
fn quiet(actions: &[Action]) -> bool {
    !actions.iter().any(|a| {
        matches!(
            a,
            Action::OpenStream(_)
                | Action::Post { .. }
                | Action::PostPrompt { .. }
                | Action::Beacon { .. }
                | Action::CheckAuth(_)
        )
    })
}

#[test]
fn auth_expired_settles_every_prompt_and_tells_the_listener_last() {
    let mut rig = Rig::connected(strict());
    let in_flight = prompt_id(&mut rig, "m1", Some("s1"));
    let queued = prompt_id(&mut rig, "m2", Some("s1"));
    let stream = rig.stream();

    let after = expire(&mut rig);

    assert_eq!(closed(&after), [stream]);
    assert_eq!(notices(&after), [Notice::Close, Notice::AuthLost]);
    assert_eq!(
        reports(&after),
        [
            (queued, Fate::Failed(FailReason::AuthLost)),
            (in_flight, Fate::Uncertain)
        ]
    );
    let failed = PromptNotice::Failed(Fate::Failed(FailReason::AuthLost));
    assert_eq!(
        prompt_notices(&after),
        [(queued, failed), (in_flight, PromptNotice::Uncertain)]
    );
    assert!(after.contains(&Action::Warn(Warning::AuthLost)));
    assert_eq!(after.last(), Some(&Action::Notify(Notice::AuthLost)));
    assert!(rig.m.auth_latched());
    assert_eq!((rig.m.pending_len(), rig.m.in_flight_len()), (0, 0));
    assert_eq!(
        rig.m.poll_timeout(),
        None,
        "no reconnect, no retry, no timeout"
    );
    let stats = rig.m.stats();
    assert_eq!(
        (stats.uncertain, stats.failed, stats.auth_losses),
        (1, 1, 1)
    );
}

#[test]
fn queued_and_retrying_control_messages_are_dropped_and_are_no_errors() {
    let mut retryable = EndpointSet::default_retryable();
    retryable.insert(Endpoint::Watch);
    let mut rig = Rig::connected(Config {
        retryable,
        ..strict()
    });
    let watch = rig.send_id(Endpoint::Watch);
    let stop = rig.send_id(Endpoint::Stop);
    rig.answer(post_of(&rig.log.clone(), watch), PostOutcome::Status(503));
    assert_eq!(rig.m.retrying_len(), 1);
    rig.stream_error();
    let queued = rig.send_id(Endpoint::Mode);

    let after = expire(&mut rig);

    let dropped = Fate::Dropped(DropReason::AuthLost);
    assert_eq!(
        reports(&after),
        [(queued, dropped), (watch, dropped), (stop, Fate::Uncertain)]
    );
    assert!(control_failures(&after).is_empty());
    assert_eq!(rig.m.stats().dropped, 2);
}

#[test]
fn a_prompt_waiting_on_its_retry_fails() {
    let mut rig = Rig::connected(strict());
    let msg = prompt_id(&mut rig, "m1", None);
    rig.answer(prompt_post_of(&rig.log, msg), PostOutcome::Status(503));
    assert_eq!(rig.m.retrying_len(), 1);

    let after = expire(&mut rig);

    assert_eq!(reports(&after), [(msg, Fate::Failed(FailReason::AuthLost))]);
}

#[test]
fn an_answer_to_an_uncertain_post_changes_nothing() {
    let mut rig = Rig::connected(strict());
    let msg = prompt_id(&mut rig, "m1", None);
    let post = prompt_post_of(&rig.log, msg);
    expire(&mut rig);
    let stats = rig.m.stats().clone();

    let late = answer_body(&mut rig, post, receipt("m1", None));
    let timed_out = rig.run_timers();

    assert!(
        late.is_empty() && timed_out.is_empty(),
        "{late:?} {timed_out:?}"
    );
    assert_eq!(rig.m.stats(), &stats);
}

#[test]
fn while_latched_nothing_is_sent_and_nothing_opens() {
    let mut rig = Rig::connected(strict());
    rig.m.track_seq("s1", 4);
    expire(&mut rig);

    let (prompt, _) = send_prompt(&mut rig, "m1", None);
    let (control, _) = rig.send(Endpoint::Stop);
    assert_eq!(
        (prompt, control),
        (SendOutcome::Refused, SendOutcome::Refused)
    );
    let mut actions = rig.connect();
    actions.extend(rig.check_and_reconnect(true));
    for visible in [true, false] {
        rig.m.on_visibility(rig.now, visible);
    }
    rig.m.on_page_show(rig.now, true);
    rig.m.on_online(rig.now);
    rig.m.send_suspend(rig.now);
    rig.m.on_page_hide(rig.now);
    actions.extend(rig.drain());
    actions.extend(rig.run_timers());

    assert!(quiet(&actions), "{actions:?}");
    assert_eq!(rig.m.current_stream(), None);
    assert!(!rig.m.is_connected());
}

#[test]
fn restoring_rebuilds_the_stream_and_delivery_goes_on() {
    let mut rig = Rig::connected(strict());
    expire(&mut rig);
    rig.connect();

    rig.m.restore_authentication(rig.now);
    let opened_now = opened(&rig.drain());

    assert_eq!(opened_now.len(), 1);
    assert!(!rig.m.auth_latched());
    let welcomed = rig.welcome("conn-new");
    assert_eq!(notices(&welcomed), [Notice::Open]);
    let msg = prompt_id(&mut rig, "m1", None);
    let settled = answer_prompt(&mut rig, msg, receipt("m1", None));
    assert_eq!(reports(&settled), [(msg, Fate::Delivered)]);
}

#[test]
fn a_stream_error_asks_for_a_check_and_a_401_latches_cancelling_the_reconnect() {
    let mut rig = Rig::connected(strict());
    let stream = rig.stream();
    rig.m.on_stream_error(rig.now, stream, true);
    let errored = rig.drain();
    let [check] = checks(&errored)[..] else {
        panic!("{errored:?}")
    };
    assert!(rig.m.poll_timeout().is_some(), "the reconnect is scheduled");

    let after = check_answer(&mut rig, check, PostOutcome::Status(401));

    assert_eq!(notices(&after), [Notice::AuthLost]);
    assert!(rig.m.auth_latched());
    assert_eq!(rig.m.poll_timeout(), None, "the reconnect is cancelled");
    assert!(quiet(&rig.run_timers()));
}

#[test]
fn any_other_check_answer_lets_the_reconnect_go_on() {
    for outcome in [
        PostOutcome::Accepted,
        PostOutcome::Status(403),
        PostOutcome::Status(500),
        PostOutcome::NetworkError,
    ] {
        let mut rig = Rig::connected(latch_on());
        let stream = rig.stream();
        rig.m.on_stream_error(rig.now, stream, true);
        let check = checks(&rig.drain())[0];

        let after = check_answer(&mut rig, check, outcome);

        assert!(after.is_empty(), "{outcome:?}: {after:?}");
        assert!(!rig.m.auth_latched());
        assert_eq!(opened(&rig.run_timers()).len(), 1, "{outcome:?}");
    }
}

#[test]
fn an_erroring_stream_the_browser_retries_is_checked_too() {
    let mut rig = Rig::connected(latch_on());
    let errored = rig.stream_error();
    let check = checks(&errored)[0];

    let after = check_answer(&mut rig, check, PostOutcome::Status(401));

    assert_eq!(notices(&after), [Notice::AuthLost]);
    assert_eq!(rig.m.current_stream(), None);
}

#[test]
fn a_check_answered_after_a_restore_or_never_asked_changes_nothing() {
    let mut rig = Rig::connected(latch_on());
    let first = checks(&rig.stream_error())[0];
    rig.m.invalidate_authentication(rig.now);
    rig.m.restore_authentication(rig.now);
    rig.drain();
    rig.welcome("conn-new");

    let stale = check_answer(&mut rig, first, PostOutcome::Status(401));
    let unknown = check_answer(&mut rig, PostId(999), PostOutcome::Status(401));

    assert!(stale.is_empty() && unknown.is_empty());
    assert!(!rig.m.auth_latched());
    assert!(rig.m.is_connected());

    // Restored without a loss between (new credentials): the check asked before
    // answers for the old ones.
    let before = checks(&rig.stream_error())[0];
    rig.m.restore_authentication(rig.now);
    rig.drain();
    assert!(check_answer(&mut rig, before, PostOutcome::Status(401)).is_empty());
    assert!(!rig.m.auth_latched());
}

#[test]
fn a_check_is_answered_once() {
    let mut rig = Rig::connected(latch_on());
    let check = checks(&rig.stream_error())[0];
    check_answer(&mut rig, check, PostOutcome::Accepted);

    let again = check_answer(&mut rig, check, PostOutcome::Status(401));

    assert!(again.is_empty());
    assert!(!rig.m.auth_latched());
}

#[test]
fn auth_expired_of_an_old_stream_is_ignored() {
    let mut rig = Rig::connected(latch_on());
    let old = rig.stream();
    rig.check_and_reconnect(true);

    rig.m.on_auth_expired(rig.now, old);

    assert!(rig.drain().is_empty());
    assert!(!rig.m.auth_latched());
}

#[test]
fn blocked_before_connecting_nothing_opens_until_restored() {
    let mut rig = Rig::new(strict());
    rig.m.block_authentication(rig.now);
    let blocked = rig.drain();
    assert!(notices(&blocked).is_empty(), "the app knows: no _auth_lost");
    assert!(!blocked.contains(&Action::Warn(Warning::AuthLost)));

    let connected = rig.connect();
    assert!(quiet(&connected), "{connected:?}");
    let (refused, _) = send_prompt(&mut rig, "m1", None);
    assert_eq!(refused, SendOutcome::Refused);

    rig.m.restore_authentication(rig.now);
    assert_eq!(opened(&rig.drain()).len(), 1);
    assert_eq!(rig.m.stats().auth_losses, 1);
}

#[test]
fn restored_without_a_connect_nothing_opens() {
    let mut rig = Rig::new(latch_on());
    rig.m.block_authentication(rig.now);
    rig.m.restore_authentication(rig.now);
    assert!(rig.drain().is_empty());
    assert_eq!(opened(&rig.connect()).len(), 1, "connect works again");
}

#[test]
fn disconnected_while_latched_restoring_does_not_reopen() {
    let mut rig = Rig::connected(latch_on());
    rig.m.invalidate_authentication(rig.now);
    rig.drain();
    rig.m.disconnect(rig.now);
    rig.m.restore_authentication(rig.now);
    assert!(rig.drain().is_empty());
}

#[test]
fn invalidating_tells_the_listener_and_again_changes_nothing() {
    let mut rig = Rig::connected(latch_on());

    rig.m.invalidate_authentication(rig.now);
    let first = rig.drain();
    rig.m.invalidate_authentication(rig.now);
    rig.m.block_authentication(rig.now);
    let again = rig.drain();

    assert_eq!(notices(&first), [Notice::Close, Notice::AuthLost]);
    assert!(again.is_empty());
    assert_eq!(rig.m.stats().auth_losses, 1);
}

#[test]
fn restoring_while_not_latched_forces_a_rebuild() {
    let mut rig = Rig::connected(latch_on());
    let old = rig.stream();

    rig.m.restore_authentication(rig.now);
    let after = rig.drain();

    assert_eq!(closed(&after), [old]);
    assert_eq!(notices(&after), [Notice::Close]);
    assert_eq!(opened(&after).len(), 1);
}

#[test]
fn restoring_while_a_reconnect_is_scheduled_reopens_now() {
    let mut rig = Rig::connected(latch_on());
    let stream = rig.stream();
    rig.m.on_stream_error(rig.now, stream, true);
    rig.drain();

    rig.m.restore_authentication(rig.now);

    assert_eq!(opened(&rig.drain()).len(), 1);
}

#[test]
fn with_the_latch_disconnect_forgets_the_connection_id() {
    let mut rig = Rig::connected(latch_on());
    rig.m.disconnect(rig.now);
    assert_eq!(rig.m.connection_id(), None);

    let mut rig = Rig::connected(Config::default());
    rig.m.disconnect(rig.now);
    assert_eq!(
        rig.m.connection_id(),
        Some("conn-abc"),
        "unchanged by default"
    );
}

#[test]
fn with_the_latch_off_nothing_of_it_happens() {
    let mut rig = Rig::connected(Config::default());
    let msg = rig.send_id(Endpoint::Send);
    let mut actions = expire(&mut rig);
    rig.m.block_authentication(rig.now);
    rig.m.invalidate_authentication(rig.now);
    actions.extend(rig.drain());
    assert!(actions.is_empty(), "{actions:?}");
    assert!(!rig.m.auth_latched());
    assert_eq!(rig.m.in_flight_len(), 1, "{msg:?} still in flight");

    let old = rig.stream();
    let errored = rig.stream_error();
    assert!(checks(&errored).is_empty(), "no check by default");
    rig.m.restore_authentication(rig.now);
    assert!(rig.drain().is_empty(), "no rebuild by default");
    assert_eq!(rig.stream(), old);
}

#[test]
fn the_latch_is_on_in_the_current_contract_and_off_by_default() {
    assert!(Config::current_contract().auth_latch);
    assert!(!Config::default().auth_latch);
    let machine = sse_courier::core::Machine::new(latch_on(), 1);
    assert!(machine.auth_latch_on());
    assert!(!sse_courier::core::Machine::new(Config::default(), 1).auth_latch_on());
}

#[test]
fn with_the_persisted_outbox_a_settled_prompts_record_is_removed_before_its_report() {
    use sse_courier::core::{Machine, OutboxAction, PersistConfig, Prompt};
    let persist = PersistConfig {
        max_age_ms: 60_000,
        ..PersistConfig::new("page-1")
    };
    let mut m = Machine::with_persist(strict(), persist, 1);
    m.restore(0, &[], &[]);
    m.connect(0);
    let stream = m.current_stream().expect("a stream");
    m.on_welcome(0, stream, "conn-abc");
    for key in ["m1", "m2"] {
        let prompt = Prompt {
            client_msg_id: Some(key),
            session_id: Some("s1"),
        };
        m.send_prompt(0, prompt);
    }
    while m.poll_outbox_action().is_some() {}
    while m.poll_action().is_some() {}

    m.on_auth_expired(0, stream);

    let removed: Vec<OutboxAction> = std::iter::from_fn(|| m.poll_outbox_action()).collect();
    assert_eq!(
        removed,
        [
            OutboxAction::Remove { key: "m2".into() },
            OutboxAction::Remove { key: "m1".into() }
        ],
        "the failed prompt's record, then the uncertain one's: neither is sent again"
    );
    assert_eq!(m.persisted_len(), 0);
}

/// Random interleavings of sends, answers, stream trouble, checks and the latch's own
/// inputs. At every step: once latched, no stream, POST, beacon or check comes out and
/// nothing is left unsettled; no message is reported twice. At the end, restored and
/// healthy, every message has exactly one fate.
mod properties {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use sse_courier::core::{
        Action, AnswerBody, Backoff, Config, Endpoint, Fate, Machine, MsgId, PostId, PostOutcome,
        Prompt, Receipt, SendOutcome,
    };

    #[derive(Clone, Debug)]
    enum Op {
        Prompt,
        Control(Endpoint),
        Answer(usize, u16),
        Receipt(usize),
        Welcome,
        StreamError { closed: bool },
        Check(usize, u16),
        Expired,
        Invalidate,
        Block,
        Restore,
        Connect,
        Disconnect,
        Visible,
        Advance(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Prompt),
            2 => prop_oneof![Just(Endpoint::Stop), Just(Endpoint::Send), Just(Endpoint::Watch)]
                .prop_map(Op::Control),
            4 => (any::<usize>(), prop_oneof![Just(200u16), Just(401), Just(404), Just(503)])
                .prop_map(|(i, s)| Op::Answer(i, s)),
            3 => any::<usize>().prop_map(Op::Receipt),
            2 => Just(Op::Welcome),
            1 => any::<bool>().prop_map(|closed| Op::StreamError { closed }),
            2 => (any::<usize>(), prop_oneof![Just(200u16), Just(401), Just(500)])
                .prop_map(|(i, s)| Op::Check(i, s)),
            1 => Just(Op::Expired),
            1 => Just(Op::Invalidate),
            1 => Just(Op::Block),
            2 => Just(Op::Restore),
            1 => Just(Op::Connect),
            1 => Just(Op::Disconnect),
            1 => Just(Op::Visible),
            2 => prop_oneof![Just(0u64), Just(600), Just(20_000)].prop_map(Op::Advance),
        ]
    }

    fn config() -> impl Strategy<Value = Config> {
        (any::<bool>(), any::<bool>()).prop_map(|(contract, notices)| {
            let base = if contract {
                Config::current_contract()
            } else {
                Config::default()
            };
            Config {
                auth_latch: true,
                notices: notices && contract,
                max_send_retries: 3,
                backoff: Backoff {
                    initial_ms: 100,
                    max_ms: 1_000,
                },
                ..base
            }
        })
    }

    struct World {
        m: Machine,
        now: u64,
        welcomes: u32,
        /// POSTs not answered yet: (post, the prompt's clientMsgId when a prompt).
        open: Vec<(PostId, Option<String>)>,
        checks: Vec<PostId>,
        ids: BTreeMap<MsgId, String>,
        taken: BTreeSet<MsgId>,
        fates: BTreeMap<MsgId, Fate>,
    }

    impl World {
        fn new(config: Config) -> Self {
            World {
                m: Machine::new(config, 11),
                now: 0,
                welcomes: 0,
                open: Vec::new(),
                checks: Vec::new(),
                ids: BTreeMap::new(),
                taken: BTreeSet::new(),
                fates: BTreeMap::new(),
            }
        }

        fn take(&mut self, outcome: SendOutcome, id: Option<String>) {
            if let SendOutcome::Posted(msg) | SendOutcome::Queued(msg) = outcome {
                self.taken.insert(msg);
                if let Some(id) = id {
                    self.ids.insert(msg, id);
                }
            }
        }

        fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
            let now = self.now;
            let latched_before = self.m.auth_latched();
            match op {
                Op::Prompt => {
                    let id = format!("p{}", self.taken.len());
                    let prompt = Prompt {
                        client_msg_id: Some(&id),
                        session_id: Some("s"),
                    };
                    let outcome = self.m.send_prompt(now, prompt);
                    if latched_before {
                        prop_assert_eq!(outcome, SendOutcome::Refused);
                    }
                    self.take(outcome, Some(id));
                }
                Op::Control(endpoint) => {
                    let outcome = self.m.send(now, *endpoint);
                    if latched_before {
                        prop_assert_eq!(outcome, SendOutcome::Refused);
                    }
                    let id = self.m.is_prompt(*endpoint).then(String::new);
                    self.take(outcome, id);
                }
                Op::Answer(i, status) if !self.open.is_empty() => {
                    let (post, _) = self.open.remove(i % self.open.len());
                    self.m
                        .on_post_answer(now, post, PostOutcome::Status(*status));
                }
                Op::Receipt(i) if !self.open.is_empty() => {
                    let (post, id) = self.open.remove(i % self.open.len());
                    match id {
                        Some(id) => {
                            let receipt = Receipt {
                                client_msg_id: id,
                                session_id: Some("s".into()),
                            };
                            self.m
                                .on_post_receipt(now, post, AnswerBody::Receipt(receipt));
                        }
                        None => self.m.on_post_answer(now, post, PostOutcome::Accepted),
                    }
                }
                Op::Answer(..) | Op::Receipt(_) => {}
                Op::Welcome => {
                    if let Some(stream) = self.m.current_stream() {
                        self.welcomes += 1;
                        let id = format!("c{}", self.welcomes);
                        self.m.on_welcome(now, stream, &id);
                    }
                }
                Op::StreamError { closed } => {
                    if let Some(stream) = self.m.current_stream() {
                        self.m.on_stream_error(now, stream, *closed);
                    }
                }
                Op::Check(i, status) if !self.checks.is_empty() => {
                    let check = self.checks.remove(i % self.checks.len());
                    self.m
                        .on_auth_check(now, check, PostOutcome::Status(*status));
                }
                Op::Check(..) => {}
                Op::Expired => {
                    if let Some(stream) = self.m.current_stream() {
                        self.m.on_auth_expired(now, stream);
                    }
                }
                Op::Invalidate => self.m.invalidate_authentication(now),
                Op::Block => self.m.block_authentication(now),
                Op::Restore => self.m.restore_authentication(now),
                Op::Connect => self.m.connect(now),
                Op::Disconnect => self.m.disconnect(now),
                Op::Visible => self.m.on_visibility(now, true),
                Op::Advance(ms) => {
                    self.now += ms;
                    if self.m.poll_timeout().is_some_and(|t| t <= self.now) {
                        self.m.on_timeout(self.now);
                    }
                }
            }
            self.settle_actions()
        }

        fn settle_actions(&mut self) -> Result<(), TestCaseError> {
            let latched = self.m.auth_latched();
            let actions: Vec<Action> = std::iter::from_fn(|| self.m.poll_action()).collect();
            for action in &actions {
                let network = matches!(
                    action,
                    Action::OpenStream(_)
                        | Action::Post { .. }
                        | Action::PostPrompt { .. }
                        | Action::Beacon { .. }
                        | Action::CheckAuth(_)
                );
                prop_assert!(!(latched && network), "{action:?} while latched");
                match action {
                    Action::PostPrompt { id, msg, .. } => {
                        let client_msg_id = self.ids.get(msg).cloned();
                        self.open.push((*id, client_msg_id));
                    }
                    Action::Post { id, .. } => self.open.push((*id, None)),
                    Action::AbortPost(id) => self.open.retain(|(post, _)| post != id),
                    Action::CheckAuth(check) => self.checks.push(*check),
                    Action::Report { msg, fate } => {
                        prop_assert!(self.taken.contains(msg), "report of unknown {msg:?}");
                        let first = self.fates.insert(*msg, *fate).is_none();
                        prop_assert!(first, "{msg:?} reported twice");
                    }
                    _ => {}
                }
            }
            if latched {
                prop_assert_eq!(self.m.pending_len() + self.m.in_flight_len(), 0);
            }
            let unsettled = self.taken.len() - self.fates.len();
            prop_assert_eq!(unsettled, self.m.pending_len() + self.m.in_flight_len());
            Ok(())
        }

        /// Restored, connected and answered well until every message has its fate.
        fn heal(&mut self) -> Result<(), TestCaseError> {
            self.apply(&Op::Restore)?;
            self.apply(&Op::Connect)?;
            for _ in 0..200 {
                if self.fates.len() == self.taken.len() {
                    return Ok(());
                }
                if !self.open.is_empty() {
                    self.apply(&Op::Receipt(0))?;
                } else if !self.m.is_connected() && self.m.current_stream().is_some() {
                    self.apply(&Op::Welcome)?;
                } else {
                    self.apply(&Op::Advance(20_000))?;
                }
            }
            prop_assert_eq!(self.fates.len(), self.taken.len(), "left unsettled");
            Ok(())
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn latched_nothing_goes_out_and_every_message_ends_exactly_once(
            config in config(),
            ops in proptest::collection::vec(op(), 1..60),
        ) {
            let mut world = World::new(config);
            world.apply(&Op::Connect)?;
            for op in &ops {
                world.apply(op)?;
            }
            world.heal()?;
        }
    }
}
