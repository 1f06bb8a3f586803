//! The persisted outbox of the delivery core (docs/persisted-outbox.md): scenario
//! tests, one short given/when/then story each, played by a hand-made shell over a
//! model store; then the crash property test: random sends, answers and faults, with
//! crashes at random points (the `Machine` dropped and rebuilt from what the store
//! holds), checking that every stored message ends in exactly one fate across
//! restarts.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_harness.rs"]
mod harness;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use harness::*;
use proptest::prelude::*;
use sse_courier::core::{
    Action, Backoff, Body, Config, DropReason, Endpoint, FailReason, Fate, LeftAlone, Machine,
    MsgId, OutboxAction, OutboxWarning, PersistConfig, PostId, PostOutcome, Record, Restored,
    SendOutcome, Stored, FIRST_SENT_ID, RECORD_VERSION, REMOVALS_HELD_AT_MOST,
};

const OK: PostOutcome = PostOutcome::Accepted;
const NOT_FOUND: PostOutcome = PostOutcome::Status(404);
const HOUR: u64 = 60 * 60 * 1000;

// ─── A model store and a shell that carries out store actions ────────────────

/// What the shell's store holds: entries by key, as the shell would read them back.
#[derive(Debug, Default)]
struct Store {
    entries: BTreeMap<String, Stored>,
    /// Every store operation carried out, in order.
    log: Vec<OutboxAction>,
}

impl Store {
    fn apply(&mut self, action: OutboxAction) {
        match &action {
            OutboxAction::Put { record, .. } => {
                self.entries
                    .insert(record.key.clone(), Stored::Record(record.clone()));
            }
            OutboxAction::Remove { key } => {
                self.entries.remove(key);
            }
            OutboxAction::Warn(_) => panic!("not a store operation"),
        }
        self.log.push(action);
    }

    fn read(&self) -> Vec<Stored> {
        self.entries.values().cloned().collect()
    }

    fn record(&self, key: &str) -> Option<Record> {
        match self.entries.get(key) {
            Some(Stored::Record(record)) => Some(record.clone()),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }
}

type SharedStore = Rc<RefCell<Store>>;

/// One page load of one tab: a persisting machine, its clock, and the store it shares.
struct Tab {
    m: Machine,
    now: u64,
    store: SharedStore,
    log: Vec<Action>,
    /// The outbox's warnings, as the shell would `console.warn` them.
    warned: Vec<OutboxWarning>,
}

impl Tab {
    fn open(owner: &str, config: Config, store: &SharedStore, now: u64) -> Tab {
        Tab::open_with(PersistConfig::new(owner), config, store, now)
    }

    fn open_with(persist: PersistConfig, config: Config, store: &SharedStore, now: u64) -> Tab {
        Tab {
            m: Machine::with_persist(config, persist, 7),
            now,
            store: Rc::clone(store),
            log: Vec::new(),
            warned: Vec::new(),
        }
    }

    /// Outbox actions first, then the rest, as the shell drains them.
    fn drain(&mut self) -> Vec<Action> {
        while let Some(action) = self.m.poll_outbox_action() {
            match action {
                OutboxAction::Warn(warning) => self.warned.push(warning),
                operation => self.store.borrow_mut().apply(operation),
            }
        }
        let actions: Vec<Action> = std::iter::from_fn(|| self.m.poll_action()).collect();
        self.log.extend(actions.iter().cloned());
        actions
    }

    fn connect(&mut self) -> Vec<Action> {
        self.m.connect(self.now);
        self.drain()
    }

    fn welcome(&mut self, connection_id: &str) -> Vec<Action> {
        let stream = self.m.current_stream().expect("no stream");
        self.m.on_welcome(self.now, stream, connection_id);
        self.drain()
    }

    /// Connected, the store restored with no other live tab.
    fn started(owner: &str, config: Config, store: &SharedStore, now: u64) -> Tab {
        let mut tab = Tab::open(owner, config, store, now);
        tab.connect();
        tab.welcome("conn-1");
        tab.restore(&[]);
        tab
    }

    /// Reads the whole store and restores it, `live` being the other tabs alive.
    fn restore(&mut self, live: &[&str]) -> Vec<Restored> {
        let stored = self.store.borrow().read();
        self.restore_entries(&stored, live)
    }

    fn restore_entries(&mut self, stored: &[Stored], live: &[&str]) -> Vec<Restored> {
        let live: Vec<String> = live.iter().map(|s| s.to_string()).collect();
        let verdicts = self.m.restore(self.now, stored, &live);
        self.drain();
        verdicts
    }

    fn send(&mut self, key: &str) -> MsgId {
        self.send_to(Endpoint::Send, key)
    }

    fn send_to(&mut self, endpoint: Endpoint, key: &str) -> MsgId {
        let outcome = self.m.send_keyed(self.now, endpoint, key);
        self.drain();
        match outcome {
            SendOutcome::Posted(id) | SendOutcome::Queued(id) => id,
            SendOutcome::Refused => panic!("send refused"),
        }
    }

    fn answer(&mut self, post: PostId, outcome: PostOutcome) -> Vec<Action> {
        self.m.on_post_answer(self.now, post, outcome);
        self.drain()
    }

    /// Answers the latest POST of `msg`.
    fn answer_msg(&mut self, msg: MsgId, outcome: PostOutcome) -> Vec<Action> {
        let post = posts(&self.log)
            .into_iter()
            .rfind(|p| p.body == Body::Message(msg))
            .unwrap_or_else(|| panic!("{msg:?} never posted"))
            .id;
        self.answer(post, outcome)
    }

    /// Store actions this tab's machine asked for so far.
    fn store_log(&self) -> Vec<OutboxAction> {
        self.store.borrow().log.clone()
    }
}

fn shared_store() -> SharedStore {
    Rc::new(RefCell::new(Store::default()))
}

fn taken(verdicts: &[Restored]) -> Vec<MsgId> {
    verdicts
        .iter()
        .filter_map(|v| match v {
            Restored::Taken(msg) => Some(*msg),
            _ => None,
        })
        .collect()
}

fn record(key: &str, owner: &str, order: u64, enqueued_at: u64) -> Record {
    Record {
        version: RECORD_VERSION,
        key: key.into(),
        endpoint: Endpoint::Send,
        order,
        enqueued_at,
        stale_404s: 0,
        retries: 0,
        owner: owner.into(),
        prompt: None,
    }
}

/// A store holding what a dead page (`owner`) left: `keys`, sent in that order.
fn store_left_by(owner: &str, keys: &[&str], sent_at: u64) -> SharedStore {
    let store = shared_store();
    for (i, key) in keys.iter().enumerate() {
        let record = record(key, owner, sent_at + i as u64, sent_at);
        store
            .borrow_mut()
            .entries
            .insert(record.key.clone(), Stored::Record(record));
    }
    store
}

// ─── Off by default ──────────────────────────────────────────────────────────

#[test]
fn without_persist_nothing_is_stored_and_nothing_waits_for_a_restore() {
    let mut rig = Rig::connected(Config::default());

    let outcome = rig.m.send_keyed(rig.now, Endpoint::Send, "k1");
    let restored = rig
        .m
        .restore(rig.now, &[Stored::Record(record("k0", "x", 1, 0))], &[]);

    assert_eq!(outcome, SendOutcome::Posted(MsgId(1)), "ids from 1, posted");
    assert!(restored.is_empty());
    assert_eq!(rig.m.poll_outbox_action(), None);
    assert!(!rig.m.persists(Endpoint::Send));
    assert!(!rig.m.awaiting_restore());
    assert_eq!(rig.m.persisted_len(), 0);
    assert_eq!(rig.m.restored_pending().count(), 0);
}

// ─── Storing and removing ────────────────────────────────────────────────────

#[test]
fn a_retryable_send_is_stored_before_it_is_posted() {
    let store = shared_store();
    let mut tab = Tab::started("tab-a", Config::default(), &store, 5_000);

    let outcome = tab.m.send_keyed(tab.now, Endpoint::Send, "k1");
    let first_store_action = tab.m.poll_outbox_action();

    let SendOutcome::Posted(msg) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(msg, MsgId(FIRST_SENT_ID));
    assert_eq!(
        first_store_action,
        Some(OutboxAction::Put {
            msg,
            record: Record {
                version: RECORD_VERSION,
                key: "k1".into(),
                endpoint: Endpoint::Send,
                order: 5_000 * 1024,
                enqueued_at: 5_000,
                stale_404s: 0,
                retries: 0,
                owner: "tab-a".into(),
                prompt: None,
            }
        })
    );
    assert_eq!(posted_msgs(&tab.drain()), [msg]);
}

#[test]
fn non_retryable_messages_are_never_stored() {
    let store = shared_store();
    let mut tab = Tab::started("tab-a", Config::default(), &store, 0);

    tab.send_to(Endpoint::Stop, "k-stop");
    tab.send_to(Endpoint::Mode, "k-mode");

    assert!(!tab.m.persists(Endpoint::Stop) && !tab.m.persists(Endpoint::Mode));
    assert!(tab.m.persists(Endpoint::Send));
    assert!(store.borrow().entries.is_empty());
    assert_eq!(tab.m.persisted_len(), 0);
}

#[test]
fn a_delivered_message_leaves_the_store_before_its_report() {
    let store = shared_store();
    let mut tab = Tab::started("tab-a", Config::default(), &store, 0);
    let msg = tab.send("k1");

    tab.m.on_post_answer(tab.now, post_of(&tab.log, msg), OK);

    let first = tab.m.poll_outbox_action();
    assert_eq!(first, Some(OutboxAction::Remove { key: "k1".into() }));
    store.borrow_mut().apply(first.unwrap());
    assert_eq!(reports(&tab.drain()), [(msg, Fate::Delivered)]);
    assert!(store.borrow().entries.is_empty());
}

#[test]
fn dropped_and_failed_messages_leave_the_store_too() {
    let store = shared_store();
    let config = Config {
        max_pending_sends: 1,
        max_send_retries: 0,
        ..Config::default()
    };
    let mut tab = Tab::started("tab-a", config, &store, 0);
    let rejected = tab.send("rejected");
    let failed = tab.send("failed");
    tab.answer_msg(rejected, PostOutcome::Status(400));
    tab.answer_msg(failed, PostOutcome::Status(503));
    tab.m
        .on_stream_error(tab.now, tab.m.current_stream().unwrap(), false);
    tab.drain();
    let overflowed = tab.send("overflowed");
    tab.send("cleared");

    tab.m.clear_pending_sends();
    tab.drain();

    let fates = reports(&tab.log);
    assert_eq!(fates.len(), 4, "{fates:?}");
    assert!(fates.contains(&(overflowed, Fate::Dropped(DropReason::QueueOverflow))));
    assert_eq!(
        removed(&tab.store_log()),
        ["rejected", "failed", "overflowed", "cleared"]
    );
    assert!(store.borrow().entries.is_empty());
}

/// A tab whose removals go in groups (`group_removals`, the IndexedDB store's),
/// connected and restored with no other tab alive.
fn grouping(config: Config, store: &SharedStore) -> Tab {
    let persist = PersistConfig {
        group_removals: true,
        ..PersistConfig::new("tab-a")
    };
    let mut tab = Tab::open_with(persist, config, store, 0);
    tab.connect();
    tab.welcome("conn-1");
    tab.restore(&[]);
    tab
}

/// The keys the store log removed, in order.
fn removed(log: &[OutboxAction]) -> Vec<String> {
    let removals = log.iter().filter_map(|action| match action {
        OutboxAction::Remove { key } => Some(key.clone()),
        _ => None,
    });
    removals.collect()
}

#[test]
fn without_grouping_a_removal_never_waits_for_other_messages_in_flight() {
    let store = shared_store();
    let mut tab = Tab::started("tab-a", Config::default(), &store, 0);
    let first = tab.send("k1");
    tab.send("k2");

    tab.answer_msg(first, OK);

    assert_eq!(removed(&tab.store_log()), ["k1"]);
    assert_eq!(store.borrow().keys(), ["k2"]);
}

#[test]
fn grouped_removals_wait_while_messages_are_in_flight_and_go_once_none_is() {
    let store = shared_store();
    let mut tab = grouping(Config::default(), &store);
    let first = tab.send("k1");
    let second = tab.send("k2");

    let answered = tab.answer_msg(first, OK);

    // Reported at once; its record stays until the other answer.
    assert_eq!(reports(&answered), [(first, Fate::Delivered)]);
    assert_eq!(store.borrow().keys(), ["k1", "k2"]);

    tab.m.on_post_answer(tab.now, post_of(&tab.log, second), OK);
    // Both removals come out before the second report.
    assert_eq!(
        tab.m.poll_outbox_action(),
        Some(OutboxAction::Remove { key: "k1".into() })
    );
    assert_eq!(
        tab.m.poll_outbox_action(),
        Some(OutboxAction::Remove { key: "k2".into() })
    );
    assert_eq!(tab.m.poll_outbox_action(), None);
    assert_eq!(reports(&tab.drain()), [(second, Fate::Delivered)]);
}

#[test]
fn grouped_removals_of_ordered_sends_wait_for_the_next_answer() {
    let store = shared_store();
    let config = Config {
        ordered_sends: true,
        ..Config::default()
    };
    let mut tab = grouping(config, &store);
    let first = tab.send("k1");
    let second = tab.send("k2");

    // The first answer lets the second out: a message is in flight again.
    tab.answer_msg(first, OK);
    assert!(removed(&tab.store_log()).is_empty());

    tab.answer_msg(second, OK);
    assert_eq!(removed(&tab.store_log()), ["k1", "k2"]);
    assert!(store.borrow().entries.is_empty());
}

#[test]
fn a_burst_hands_its_removals_out_sixteen_at_a_time() {
    let store = shared_store();
    let mut tab = grouping(Config::default(), &store);
    let sent: Vec<MsgId> = (0..20).map(|i| tab.send(&format!("k{i:02}"))).collect();

    for (i, msg) in sent[..15].iter().enumerate() {
        tab.answer_msg(*msg, OK);
        assert!(removed(&tab.store_log()).is_empty(), "after answer {i}");
    }
    tab.answer_msg(sent[15], OK);
    let first_group: Vec<String> = (0..16).map(|i| format!("k{i:02}")).collect();
    assert_eq!(removed(&tab.store_log()), first_group);

    for msg in &sent[16..19] {
        tab.answer_msg(*msg, OK);
    }
    assert_eq!(removed(&tab.store_log()).len(), REMOVALS_HELD_AT_MOST);
    tab.answer_msg(sent[19], OK);
    assert!(store.borrow().entries.is_empty());
}

#[test]
fn a_message_that_failed_or_was_dropped_is_removed_at_once_with_those_held_back() {
    let store = shared_store();
    let config = Config {
        max_send_retries: 0,
        ..Config::default()
    };
    let mut tab = grouping(config, &store);
    let delivered = tab.send("delivered");
    let rejected = tab.send("rejected");
    let failed = tab.send("failed");
    tab.send("in-flight");
    tab.answer_msg(delivered, OK);

    tab.answer_msg(rejected, PostOutcome::Status(400));
    assert_eq!(removed(&tab.store_log()), ["delivered", "rejected"]);
    tab.answer_msg(failed, PostOutcome::Status(503));
    assert_eq!(
        removed(&tab.store_log()),
        ["delivered", "rejected", "failed"]
    );
    assert_eq!(store.borrow().keys(), ["in-flight"]);
}

#[test]
fn a_record_written_takes_the_removals_held_back_with_it() {
    let store = shared_store();
    let mut tab = grouping(Config::default(), &store);
    let first = tab.send("k1");
    tab.send("k2");
    tab.answer_msg(first, OK);

    tab.send("k3");

    let log = tab.store_log();
    let tail: Vec<&OutboxAction> = log.iter().rev().take(2).rev().collect();
    assert!(
        matches!(tail[..], [OutboxAction::Remove { key: ref removed }, OutboxAction::Put { ref record, .. }]
            if removed == "k1" && record.key == "k3"),
        "{tail:?}"
    );
    assert_eq!(store.borrow().keys(), ["k2", "k3"]);
}

#[test]
fn a_message_sent_again_under_a_settled_ones_id_keeps_its_record() {
    let store = shared_store();
    let mut tab = grouping(Config::default(), &store);
    let first = tab.send("k1");
    let other = tab.send("k2");
    tab.answer_msg(first, OK);

    let again = tab.send("k1");
    tab.answer_msg(other, OK);
    tab.m.release_removals();
    tab.drain();

    // The old removal went before the new record, not after it.
    assert_eq!(store.borrow().keys(), ["k1"]);
    tab.answer_msg(again, OK);
    assert!(store.borrow().entries.is_empty());
}

#[test]
fn a_page_hidden_or_hidden_away_hands_out_the_removals_it_held_back() {
    for hide in [
        |m: &mut Machine, now| m.on_visibility(now, false),
        |m: &mut Machine, now| m.on_page_hide(now),
    ] {
        let store = shared_store();
        let mut tab = grouping(Config::default(), &store);
        let first = tab.send("k1");
        tab.send("k2");
        tab.answer_msg(first, OK);

        hide(&mut tab.m, tab.now);
        tab.drain();

        assert_eq!(store.borrow().keys(), ["k2"]);
    }
}

#[test]
fn releasing_the_removals_hands_out_every_one_held_back() {
    let store = shared_store();
    let mut tab = grouping(Config::default(), &store);
    let first = tab.send("k1");
    tab.send("k2");
    tab.answer_msg(first, OK);

    tab.m.release_removals();
    tab.drain();

    assert_eq!(removed(&tab.store_log()), ["k1"]);
    assert_eq!(store.borrow().keys(), ["k2"]);
}

#[test]
fn disconnect_keeps_the_records_of_queued_messages() {
    let store = shared_store();
    let mut tab = Tab::open("tab-a", Config::default(), &store, 0);
    tab.connect();
    tab.restore(&[]);
    tab.send("k1");

    tab.m.disconnect(tab.now);
    tab.drain();

    assert_eq!(store.borrow().keys(), ["k1"]);
    assert_eq!(tab.m.pending_len(), 1);
}

#[test]
fn the_outbox_shows_in_the_machines_debug_output() {
    let store = shared_store();
    let mut tab = Tab::started("tab-a", Config::default(), &store, 0);
    tab.send("k1");

    let printed = format!("{:?}", tab.m);

    assert!(
        printed.contains("tab-a") && printed.contains("k1"),
        "the owner and the held key: {printed}"
    );
}

#[test]
fn attempt_counts_are_stored_so_the_404_limit_holds_across_reloads() {
    let store = shared_store();
    let mut first = Tab::started("tab-a", Config::default(), &store, 0);
    let msg = first.send("k1");
    for connection in ["conn-2", "conn-3"] {
        first.answer_msg(msg, NOT_FOUND);
        first.welcome(connection);
    }
    assert_eq!(store.borrow().record("k1").map(|r| r.stale_404s), Some(2));
    drop(first);

    let mut second = Tab::open("tab-b", Config::default(), &store, 10);
    second.connect();
    second.welcome("conn-4");
    let restored = taken(&second.restore(&[]));
    let after = second.answer_msg(restored[0], NOT_FOUND);

    assert_eq!(
        reports(&after),
        [(
            restored[0],
            Fate::Dropped(DropReason::StaleRetriesExhausted)
        )],
        "the third 404 overall, not the first of a fresh count"
    );
    assert!(store.borrow().entries.is_empty());
}

#[test]
fn transient_retries_are_stored_so_the_retry_limit_holds_across_reloads() {
    let store = shared_store();
    let config = Config {
        max_send_retries: 1,
        ..Config::default()
    };
    let mut first = Tab::started("tab-a", config.clone(), &store, 0);
    let msg = first.send("k1");
    first.answer_msg(msg, PostOutcome::Status(500));
    assert_eq!(store.borrow().record("k1").map(|r| r.retries), Some(1));
    drop(first);

    let mut second = Tab::started("tab-b", config, &store, 10);
    let restored = second.m.restored_pending().collect::<Vec<_>>();
    let after = second.answer_msg(restored[0], PostOutcome::Status(500));

    assert_eq!(
        reports(&after),
        [(restored[0], Fate::Failed(FailReason::ServerError(500)))]
    );
}

// ─── Restoring ───────────────────────────────────────────────────────────────

#[test]
fn restored_messages_go_out_in_their_original_order_before_new_sends() {
    let store = shared_store();
    let mut first = Tab::open("tab-a", Config::default(), &store, 1_000);
    first.connect();
    first.restore(&[]);
    for (i, key) in ["c", "a", "b"].into_iter().enumerate() {
        first.now = 1_000 + i as u64 / 2;
        first.send(key);
    }
    drop(first);

    let mut second = Tab::open("tab-b", Config::default(), &store, 2_000);
    second.connect();
    second.welcome("conn-1");
    let new = second.send("d");
    assert!(
        posts(&second.log).is_empty(),
        "new sends wait for the restore"
    );
    let verdicts = second.restore(&[]);

    let restored = second.m.restored_pending().collect::<Vec<_>>();
    assert_eq!(store.borrow().keys(), ["a", "b", "c", "d"], "read by key");
    assert_eq!(taken(&verdicts), [restored[1], restored[2], restored[0]]);
    let posted = posted_msgs(&second.log);
    assert_eq!(posted, [restored[0], restored[1], restored[2], new]);
    assert!(restored.iter().all(|id| *id < new));
    let owners: Vec<String> = store
        .borrow()
        .entries
        .values()
        .map(|e| match e {
            Stored::Record(r) => r.owner.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(owners.iter().all(|o| o == "tab-b"), "claimed: {owners:?}");
}

#[test]
fn messages_sent_while_waiting_for_the_restore_are_stored_after_the_restored_ones() {
    let store = store_left_by("dead", &["k1", "k2"], 10 * HOUR);
    let mut first = Tab::open("tab-b", Config::default(), &store, 1_000);
    first.connect();
    first.send("k3");

    first.restore(&[]);

    let order = |key: &str| store.borrow().record(key).map(|r| r.order);
    assert!(
        order("k3") > order("k2"),
        "stamped before the read, and the dead page's clock ran ahead: re-stamped"
    );
    drop(first);
    let mut second = Tab::open("tab-c", Config::default(), &store, 1_050);
    second.connect();
    second.welcome("conn-1");
    let verdicts = second.restore(&[]);
    assert_eq!(posted_msgs(&second.log), taken(&verdicts), "k1, k2, k3");
}

#[test]
fn ordered_sends_deliver_restored_messages_one_at_a_time_first() {
    let config = Config {
        ordered_sends: true,
        ..Config::default()
    };
    let store = store_left_by("dead", &["k1", "k2"], 0);
    let mut tab = Tab::open("tab-b", config, &store, 10);
    tab.connect();
    tab.welcome("conn-1");
    let new = tab.send("k3");

    let restored = taken(&tab.restore(&[]));
    assert_eq!(posted_msgs(&tab.log), [restored[0]]);
    tab.answer_msg(restored[0], OK);
    tab.answer_msg(restored[1], OK);

    assert_eq!(posted_msgs(&tab.log), [restored[0], restored[1], new]);
}

#[test]
fn a_message_in_flight_when_the_page_died_is_sent_again_and_reported_in_the_new_page() {
    let store = shared_store();
    let mut first = Tab::started("tab-a", Config::default(), &store, 0);
    let msg = first.send("k1");
    assert_eq!(posted_msgs(&first.log), [msg]);
    drop(first);

    let mut second = Tab::open("tab-b", Config::default(), &store, 50);
    second.connect();
    second.restore(&[]);
    let again = posted_msgs(&second.welcome("conn-2"));
    let restored = second.m.restored_pending().collect::<Vec<_>>();
    let after = second.answer_msg(again[0], OK);

    assert_eq!(again, restored);
    assert_eq!(reports(&after), [(again[0], Fate::Delivered)]);
    assert_eq!(second.m.restored_pending().count(), 0);
    assert!(store.borrow().entries.is_empty());
}

#[test]
fn a_stale_404_on_a_restored_message_requeues_it_and_reconnects_as_usual() {
    let store = store_left_by("dead", &["k1"], 0);
    let mut tab = Tab::started("tab-b", Config::default(), &store, 10);
    let msg = posted_msgs(&tab.log)[0];

    let after = tab.answer_msg(msg, NOT_FOUND);

    assert_eq!(opened(&after).len(), 1, "one reconnect");
    assert_eq!(posted_msgs(&tab.welcome("conn-2")), [msg]);
    assert_eq!(store.borrow().record("k1").map(|r| r.stale_404s), Some(1));
}

#[test]
fn restored_pending_lists_what_the_ui_shows_as_sending() {
    let store = store_left_by("dead", &["k1", "k2"], 0);
    let mut tab = Tab::started("tab-b", Config::default(), &store, 10);
    let new = tab.send("k3");
    let restored = tab.m.restored_pending().collect::<Vec<_>>();
    assert_eq!(restored.len(), 2);
    assert!(!restored.contains(&new));

    tab.answer_msg(restored[0], OK);

    assert_eq!(tab.m.restored_pending().collect::<Vec<_>>(), [restored[1]]);
    assert_eq!(tab.m.stats().restored, 2);
}

#[test]
fn the_first_restore_releases_waiting_sends_even_with_an_unreadable_store() {
    let store = shared_store();
    let mut tab = Tab::open("tab-a", Config::default(), &store, 0);
    tab.connect();
    tab.welcome("conn-1");
    let msg = tab.send("k1");
    assert!(tab.m.awaiting_restore());
    assert_eq!(
        tab.m.send(tab.now, Endpoint::Stop),
        SendOutcome::Posted(MsgId(FIRST_SENT_ID + 1)),
        "only retryable ones wait"
    );

    let verdicts = tab.restore_entries(&[], &[]);

    assert!(verdicts.is_empty());
    assert!(!tab.m.awaiting_restore());
    assert!(posted_msgs(&tab.log).contains(&msg));
}

#[test]
fn a_first_restore_that_takes_nothing_rewrites_no_record() {
    let store = shared_store();
    let mut tab = Tab::open("tab-a", Config::default(), &store, 1_000);
    tab.connect();
    tab.welcome("conn-1");
    tab.send("k1");
    let written = tab.store_log();

    tab.restore(&[]);

    assert_eq!(
        tab.store_log(),
        written,
        "nothing restored to re-stamp it behind: its record stays as written"
    );
    assert_eq!(posted_msgs(&tab.log).len(), 1, "and it goes out");
}

#[test]
fn records_older_than_max_age_are_dropped_with_a_report_not_sent() {
    let store = store_left_by("dead", &["old", "fresh"], 0);
    store.borrow_mut().entries.insert(
        "fresh".into(),
        Stored::Record(record("fresh", "dead", 2, 2 * HOUR)),
    );
    let mut tab = Tab::open_with(
        PersistConfig {
            max_age_ms: 24 * HOUR,
            ..PersistConfig::new("tab-b")
        },
        Config::default(),
        &store,
        25 * HOUR,
    );
    tab.connect();
    tab.welcome("conn-1");

    let verdicts = tab.restore(&[]);

    assert_eq!(verdicts[1], Restored::Expired, "'old', 25 h old");
    assert!(
        matches!(verdicts[0], Restored::Taken(_)),
        "'fresh', 23 h old"
    );
    assert!(tab
        .store_log()
        .contains(&OutboxAction::Remove { key: "old".into() }));
    assert_eq!(store.borrow().keys(), ["fresh"]);
    assert_eq!(posted_msgs(&tab.log).len(), 1, "only 'fresh' is sent");
    assert_eq!(tab.warned, [OutboxWarning::RecordsExpired]);
    assert_eq!((tab.m.stats().expired, tab.m.stats().dropped), (1, 1));
}

#[test]
fn records_of_an_unknown_format_version_are_left_alone_with_a_warning() {
    let store = shared_store();
    let mut newer = record("k2", "dead", 1, 0);
    newer.version = RECORD_VERSION + 1;
    let entries = [
        Stored::Unreadable {
            key: "k1".into(),
            version: Some(RECORD_VERSION + 7),
        },
        Stored::Record(newer),
    ];
    let mut tab = Tab::started("tab-b", Config::default(), &store, 0);
    tab.log.clear();

    let verdicts = tab.restore_entries(&entries, &[]);

    assert_eq!(
        verdicts,
        [
            Restored::Left(LeftAlone::UnknownVersion(RECORD_VERSION + 7)),
            Restored::Left(LeftAlone::UnknownVersion(RECORD_VERSION + 1)),
        ]
    );
    assert!(tab.store_log().is_empty(), "nothing written or removed");
    assert_eq!(tab.warned, [OutboxWarning::UnknownRecordVersion]);
    assert!(posts(&tab.log).is_empty());
}

#[test]
fn unreadable_records_are_reported_and_never_deleted() {
    let store = shared_store();
    let mut lifecycle = record("k3", "dead", 1, 0);
    lifecycle.endpoint = Endpoint::Suspend;
    let entries = [
        Stored::Unreadable {
            key: "k1".into(),
            version: None,
        },
        Stored::Unreadable {
            key: "k2".into(),
            version: Some(RECORD_VERSION),
        },
        Stored::Record(lifecycle),
    ];
    let mut tab = Tab::started("tab-b", Config::default(), &store, 0);
    tab.log.clear();

    let verdicts = tab.restore_entries(&entries, &[]);

    assert_eq!(verdicts, vec![Restored::Left(LeftAlone::Corrupt); 3]);
    assert!(tab.store_log().is_empty());
    assert_eq!(tab.warned, [OutboxWarning::CorruptRecords]);
    assert!(
        posts(&tab.log).is_empty(),
        "a stored suspend is never replayed"
    );
}

#[test]
fn each_outbox_warning_says_what_happened_in_its_own_words() {
    let warnings = [
        (OutboxWarning::RecordsExpired, "persist.maxAgeMs"),
        (OutboxWarning::UnknownRecordVersion, "format version"),
        (OutboxWarning::CorruptRecords, "unreadable"),
        (OutboxWarning::DuplicateKey, "clientMsgId"),
    ];

    let texts: BTreeSet<&str> = warnings.iter().map(|(w, _)| w.message()).collect();

    assert_eq!(texts.len(), warnings.len(), "one text each: {texts:?}");
    for (warning, words) in warnings {
        assert!(warning.message().contains(words), "{warning:?}");
    }
}

#[test]
fn the_queue_bound_holds_across_a_restore_and_overflow_is_reported() {
    let config = Config {
        max_pending_sends: 2,
        ..Config::default()
    };
    let store = store_left_by("dead", &["k1", "k2", "k3"], 0);
    let mut tab = Tab::open("tab-b", config, &store, 10);
    tab.connect();
    let new = tab.send("k4");

    let restored = taken(&tab.restore(&[]));

    assert_eq!(tab.m.pending_len(), 2);
    assert_eq!(
        reports(&tab.log),
        [
            (restored[0], Fate::Dropped(DropReason::QueueOverflow)),
            (restored[1], Fate::Dropped(DropReason::QueueOverflow)),
        ],
        "the oldest go"
    );
    assert_eq!(store.borrow().keys(), ["k3", "k4"]);
    assert_eq!(posted_msgs(&tab.welcome("conn-1")), [restored[2], new]);
}

// ─── Several tabs, one store ─────────────────────────────────────────────────

#[test]
fn a_record_owned_by_a_live_tab_is_left_to_it() {
    let store = shared_store();
    let mut a = Tab::open("tab-a", Config::default(), &store, 0);
    a.connect();
    a.restore(&[]);
    a.send("k1");
    let mut b = Tab::open("tab-b", Config::default(), &store, 100 * HOUR);
    b.connect();
    b.welcome("conn-b");

    let verdicts = b.restore(&["tab-a"]);

    assert_eq!(verdicts, [Restored::Left(LeftAlone::OwnedElsewhere)]);
    assert!(posts(&b.log).is_empty(), "never sent by two tabs");
    assert_eq!(
        store.borrow().record("k1").map(|r| r.owner),
        Some("tab-a".into())
    );
    assert_eq!(posted_msgs(&a.welcome("conn-a")).len(), 1);
}

#[test]
fn two_tabs_restoring_one_after_the_other_never_take_the_same_record() {
    let store = store_left_by("dead", &["k1", "k2"], 0);
    let mut a = Tab::open("tab-a", Config::default(), &store, 10);
    let mut b = Tab::open("tab-b", Config::default(), &store, 10);

    let by_a = a.restore(&["tab-b"]);
    let by_b = b.restore(&["tab-a"]);

    assert_eq!(taken(&by_a).len(), 2);
    assert_eq!(by_b, vec![Restored::Left(LeftAlone::OwnedElsewhere); 2]);
    assert_eq!((a.m.pending_len(), b.m.pending_len()), (2, 0));
}

#[test]
fn a_dead_tabs_records_are_taken_by_the_next_restore_of_a_live_tab() {
    let store = shared_store();
    let mut a = Tab::started("tab-a", Config::default(), &store, 0);
    a.send("k1");
    let mut b = Tab::open("tab-b", Config::default(), &store, 0);
    b.connect();
    b.welcome("conn-b");
    assert_eq!(
        b.restore(&["tab-a"]),
        [Restored::Left(LeftAlone::OwnedElsewhere)]
    );
    let mine = b.send("k2");
    drop(a);

    let verdicts = b.restore(&[]);

    let adopted = taken(&verdicts);
    assert_eq!(verdicts.len(), 2);
    assert!(verdicts.contains(&Restored::Left(LeftAlone::Mine)));
    assert_eq!(adopted.len(), 1);
    assert!(
        adopted[0] > mine,
        "a later restore queues after this page's sends"
    );
    let order = |key: &str| store.borrow().record(key).map(|r| r.order);
    assert!(order("k1") > order("k2"), "and is stored in that order");
    b.answer_msg(adopted[0], OK);
    b.answer_msg(mine, OK);
    assert!(store.borrow().entries.is_empty());
}

#[test]
fn a_read_racing_the_tabs_own_writes_never_takes_its_own_records() {
    let store = shared_store();
    let mut tab = Tab::started("tab-a", Config::default(), &store, 0);
    let msg = tab.send("k1");
    let stale_read = store.borrow().read();
    tab.answer_msg(msg, OK);

    let verdicts = tab.restore_entries(&stale_read, &[]);

    assert_eq!(verdicts, [Restored::Left(LeftAlone::Mine)]);
    assert_eq!(tab.m.pending_len() + tab.m.in_flight_len(), 0);
    assert_eq!(reports(&tab.log).len(), 1, "one fate, not two");
}

#[test]
fn a_reused_client_msg_id_is_one_stored_message() {
    let store = shared_store();
    let mut tab = Tab::started("tab-a", Config::default(), &store, 0);
    tab.send("k1");

    let twin = tab.m.send_keyed(tab.now, Endpoint::Send, "k1");
    tab.drain();
    let dead_twin = [Stored::Record(record("k1", "dead", 1, 0))];
    let verdicts = tab.restore_entries(&dead_twin, &[]);

    assert!(
        matches!(twin, SendOutcome::Posted(_)),
        "still sent, in memory"
    );
    assert_eq!(tab.warned, [OutboxWarning::DuplicateKey]);
    assert_eq!(tab.m.persisted_len(), 1);
    assert_eq!(verdicts, [Restored::Left(LeftAlone::Duplicate)]);
}

// ─── The crash property ──────────────────────────────────────────────────────

#[derive(Clone, Debug)]
enum Op {
    /// A retryable message (stored) or, when false, a `stop` (never stored).
    Send(bool),
    /// The server answers POST i (having handled it first when `ok`, and sometimes
    /// before a network error).
    Answer(usize, PostOutcome),
    /// The server handles POST i but its answer has not come back yet.
    Process(usize),
    Welcome,
    StreamError(bool),
    CheckAndReconnect,
    Disconnect,
    Connect,
    ClearPending,
    /// The shell's read of the store completes: the first restore of this page, or
    /// a later one (the shell saw another tab's owner lock released).
    Restore,
    /// The page dies: each open POST reached the server or not (bit i of the mask).
    Crash(u8),
}

/// An input to one tab (index modulo the number of tabs), or the clock moving.
#[derive(Clone, Debug)]
enum Step {
    Tab(usize, Op),
    Advance(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let outcome = prop_oneof![
        5 => Just(OK),
        3 => Just(NOT_FOUND),
        2 => Just(PostOutcome::Status(500)),
        1 => Just(PostOutcome::Status(400)),
        2 => Just(PostOutcome::NetworkError),
    ];
    let op = prop_oneof![
        6 => prop_oneof![4 => Just(true), 1 => Just(false)].prop_map(Op::Send),
        8 => (any::<usize>(), outcome).prop_map(|(i, o)| Op::Answer(i, o)),
        2 => any::<usize>().prop_map(Op::Process),
        3 => Just(Op::Welcome),
        1 => any::<bool>().prop_map(Op::StreamError),
        1 => Just(Op::CheckAndReconnect),
        1 => Just(Op::Disconnect),
        1 => Just(Op::Connect),
        1 => Just(Op::ClearPending),
        3 => Just(Op::Restore),
        2 => any::<u8>().prop_map(Op::Crash),
    ];
    prop_oneof![
        12 => (0usize..2, op).prop_map(|(t, op)| Step::Tab(t, op)),
        1 => prop_oneof![Just(0u64), Just(600), Just(5_000), Just(HOUR)].prop_map(Step::Advance),
    ]
}

fn config() -> impl Strategy<Value = (Config, u64)> {
    (
        1usize..5,
        1u32..4,
        0u32..3,
        any::<bool>(),
        prop::option::of(Just(10_000u64)),
        prop_oneof![Just(2 * HOUR), Just(24 * HOUR)],
    )
        .prop_map(|(bound, stale, retries, ordered, timeout, max_age)| {
            let config = Config {
                max_pending_sends: bound,
                max_stale_retries: stale,
                max_send_retries: retries,
                post_timeout_ms: timeout,
                backoff: Backoff {
                    initial_ms: 100,
                    max_ms: 2_000,
                },
                ordered_sends: ordered,
                ..Config::default()
            };
            (config, max_age)
        })
}

/// How a stored message ended, as the app heard it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Reported(Fate),
    Expired,
}

/// A POST on the wire: its id, and the message it carries (with its key if stored).
#[derive(Clone, Debug)]
struct Open {
    id: PostId,
    msg: Option<MsgId>,
    key: Option<String>,
}

/// One page load of one tab, as its shell sees it.
struct Page {
    m: Machine,
    owner: String,
    /// Its first restore happened.
    restored: bool,
    /// Its stored messages, by id, and its other unsettled ones.
    keys: BTreeMap<MsgId, String>,
    in_memory: BTreeSet<MsgId>,
    open: Vec<Open>,
    /// Settled messages whose records are still stored: their removals held back
    /// (`group_removals`).
    held_back: BTreeSet<String>,
}

/// One or two tabs over one store, each page living and dying (a crash drops its
/// `Machine`; the tab reloads with a new one built from its config alone), against
/// a server that de-duplicates by `clientMsgId`.
struct World {
    config: Config,
    max_age_ms: u64,
    /// The pages hold removals back (`PersistConfig::group_removals`).
    group_removals: bool,
    seed: u64,
    now: u64,
    /// The store: what the pages' store actions wrote and did not remove.
    store: BTreeMap<String, Record>,
    pages: Vec<Page>,
    loads: u32,
    welcomes: u32,
    /// Every stored message ever sent, in send order, and how each ended.
    sent: Vec<String>,
    ends: BTreeMap<String, End>,
    /// Settled messages a crash left stored (their removal held back): each may end
    /// once more, in the page that restores it.
    may_end_again: BTreeMap<String, u32>,
    /// The server: keys it accepted (once each), in order; POSTs it handled, by
    /// page load (post ids start over with each page).
    accepted: Vec<String>,
    handled: BTreeSet<(String, PostId)>,
    stale_hits: BTreeMap<String, u32>,
    transient_hits: BTreeMap<String, u32>,
}

impl World {
    fn new(config: Config, max_age_ms: u64, group_removals: bool, seed: u64, tabs: usize) -> Self {
        let mut world = World {
            config,
            max_age_ms,
            group_removals,
            seed,
            now: 1_000,
            store: BTreeMap::new(),
            pages: Vec::new(),
            loads: 0,
            welcomes: 0,
            sent: Vec::new(),
            ends: BTreeMap::new(),
            may_end_again: BTreeMap::new(),
            accepted: Vec::new(),
            handled: BTreeSet::new(),
            stale_hits: BTreeMap::new(),
            transient_hits: BTreeMap::new(),
        };
        for _ in 0..tabs {
            let page = world.load();
            world.pages.push(page);
        }
        world
    }

    /// A new page load: a machine built from nothing but the config, connected; the
    /// store is read later (`Op::Restore`), as an asynchronous store would be.
    fn load(&mut self) -> Page {
        self.loads += 1;
        let owner = format!("page-{}", self.loads);
        let persist = PersistConfig {
            max_age_ms: self.max_age_ms,
            group_removals: self.group_removals,
            ..PersistConfig::new(&owner)
        };
        let seed = self.seed ^ u64::from(self.loads);
        let mut m = Machine::with_persist(self.config.clone(), persist, seed);
        m.connect(self.now);
        Page {
            m,
            owner,
            restored: false,
            keys: BTreeMap::new(),
            in_memory: BTreeSet::new(),
            open: Vec::new(),
            held_back: BTreeSet::new(),
        }
    }

    /// The page of tab `t` dies between two inputs, with everything it held in
    /// memory; POSTs already on the wire may still reach the server.
    fn crash(&mut self, t: usize, mask: u8) -> Result<(), TestCaseError> {
        let open = std::mem::take(&mut self.pages[t].open);
        let owner = self.pages[t].owner.clone();
        for (i, post) in open.iter().enumerate() {
            if mask & (1 << (i % 8)) != 0 {
                self.handle(&owner, post);
            }
        }
        // Removals it held back are lost with it: those messages are sent again, their
        // attempts counted from what their records say (the last attempt, which
        // settled them, was never written).
        for key in std::mem::take(&mut self.pages[t].held_back) {
            if let Some(record) = self.store.get(&key) {
                self.stale_hits.insert(key.clone(), record.stale_404s);
                self.transient_hits.insert(key.clone(), record.retries);
            }
            *self.may_end_again.entry(key).or_default() += 1;
        }
        // A page load takes time: the next page's clock is later.
        self.now += 50;
        self.pages[t] = self.load();
        self.settle(t)
    }

    /// The server handles a POST once: a key is accepted the first time only.
    fn handle(&mut self, owner: &str, post: &Open) {
        if self.handled.insert((owner.to_string(), post.id)) {
            if let Some(key) = &post.key {
                if !self.accepted.contains(key) {
                    self.accepted.push(key.clone());
                }
            }
        }
    }

    /// Tab `t` reads the whole store and restores it; the other tabs are alive.
    fn restore(&mut self, t: usize) -> Result<(), TestCaseError> {
        let stored: Vec<Stored> = self.store.values().cloned().map(Stored::Record).collect();
        let live: Vec<String> = (0..self.pages.len())
            .filter(|&o| o != t)
            .map(|o| self.pages[o].owner.clone())
            .collect();
        let page = &mut self.pages[t];
        let verdicts = page.m.restore(self.now, &stored, &live);
        page.restored = true;
        prop_assert_eq!(verdicts.len(), stored.len());
        for (entry, verdict) in stored.iter().zip(&verdicts) {
            let Stored::Record(record) = entry else {
                unreachable!()
            };
            let page = &mut self.pages[t];
            match verdict {
                Restored::Taken(msg) => {
                    prop_assert!(!live.contains(&record.owner), "took a live tab's");
                    prop_assert!(page.keys.insert(*msg, record.key.clone()).is_none());
                }
                Restored::Expired => {
                    prop_assert!(self.now - record.enqueued_at > self.max_age_ms);
                    self.end(&record.key, End::Expired)?;
                }
                Restored::Left(LeftAlone::Mine) => prop_assert_eq!(&record.owner, &page.owner),
                Restored::Left(LeftAlone::OwnedElsewhere) => {
                    prop_assert!(live.contains(&record.owner));
                }
                Restored::Left(other) => prop_assert!(false, "left {other:?}: {record:?}"),
            }
        }
        self.settle(t)
    }

    fn end(&mut self, key: &str, end: End) -> Result<(), TestCaseError> {
        prop_assert!(self.sent.iter().any(|k| k == key), "unknown {key}");
        let before = self.ends.insert(key.to_string(), end);
        if before.is_some() {
            if let Some(again) = self.may_end_again.get_mut(key).filter(|n| **n > 0) {
                *again -= 1;
                return Ok(());
            }
        }
        prop_assert!(
            before.is_none(),
            "{key} ended twice: {before:?}, then {end:?}"
        );
        Ok(())
    }

    fn step(&mut self, step: &Step) -> Result<(), TestCaseError> {
        match step {
            Step::Advance(ms) => {
                self.now += ms;
                for t in 0..self.pages.len() {
                    let m = &mut self.pages[t].m;
                    if m.poll_timeout().is_some_and(|at| at <= self.now) {
                        m.on_timeout(self.now);
                    }
                    self.settle(t)?;
                }
                Ok(())
            }
            Step::Tab(t, op) => self.apply(t % self.pages.len(), op),
        }
    }

    fn apply(&mut self, t: usize, op: &Op) -> Result<(), TestCaseError> {
        let now = self.now;
        let page = &mut self.pages[t];
        match op {
            Op::Send(stored) => {
                let key = format!("k{}", self.sent.len());
                let endpoint = if *stored {
                    Endpoint::Send
                } else {
                    Endpoint::Stop
                };
                match page.m.send_keyed(now, endpoint, &key) {
                    SendOutcome::Posted(id) | SendOutcome::Queued(id) => {
                        if page.m.persists(endpoint) {
                            page.keys.insert(id, key.clone());
                            self.sent.push(key);
                        } else {
                            page.in_memory.insert(id);
                        }
                    }
                    SendOutcome::Refused => {}
                }
            }
            Op::Answer(index, outcome) => {
                if page.open.is_empty() {
                    return Ok(());
                }
                let post = page.open.remove(index % page.open.len());
                let owner = page.owner.clone();
                if *outcome == OK || *outcome == PostOutcome::NetworkError && index % 2 == 0 {
                    // A network error may come after the server handled the POST.
                    self.handle(&owner, &post);
                }
                if let Some(key) = &post.key {
                    let hits = match outcome {
                        PostOutcome::Status(404) => &mut self.stale_hits,
                        PostOutcome::Status(500) | PostOutcome::NetworkError => {
                            &mut self.transient_hits
                        }
                        _ => &mut BTreeMap::new(),
                    };
                    *hits.entry(key.clone()).or_default() += 1;
                }
                self.pages[t].m.on_post_answer(now, post.id, *outcome);
            }
            Op::Process(index) => {
                if let Some(post) = page.open.get(index % page.open.len().max(1)).cloned() {
                    let owner = page.owner.clone();
                    self.handle(&owner, &post);
                }
            }
            Op::Welcome => {
                if let Some(stream) = page.m.current_stream() {
                    self.welcomes += 1;
                    let id = format!("c{}", self.welcomes);
                    page.m.on_welcome(now, stream, &id);
                }
            }
            Op::StreamError(closed) => {
                if let Some(stream) = page.m.current_stream() {
                    page.m.on_stream_error(now, stream, *closed);
                }
            }
            Op::CheckAndReconnect => page.m.check_and_reconnect(now, false),
            Op::Disconnect => page.m.disconnect(now),
            Op::Connect => page.m.connect(now),
            Op::ClearPending => page.m.clear_pending_sends(),
            Op::Restore => return self.restore(t),
            Op::Crash(mask) => return self.crash(t, *mask),
        }
        self.settle(t)
    }

    /// Carries out tab `t`'s store actions, then its other actions, as its shell
    /// does, checking each and the books of every tab.
    fn settle(&mut self, t: usize) -> Result<(), TestCaseError> {
        let page = &mut self.pages[t];
        while let Some(action) = page.m.poll_outbox_action() {
            match action {
                OutboxAction::Put { msg, record } => {
                    prop_assert_eq!(page.keys.get(&msg), Some(&record.key), "put of {:?}", msg);
                    prop_assert_eq!(&record.owner, &page.owner);
                    prop_assert_eq!(record.version, RECORD_VERSION);
                    self.store.insert(record.key.clone(), record);
                }
                OutboxAction::Remove { key } => {
                    let removed = self.store.remove(&key);
                    prop_assert!(removed.is_some(), "remove of absent {key}");
                    page.held_back.remove(&key);
                }
                OutboxAction::Warn(warning) => {
                    prop_assert_eq!(warning, OutboxWarning::RecordsExpired);
                }
            }
        }
        // Removals wait only while a message is in flight, and only so many.
        prop_assert!(page.held_back.len() < REMOVALS_HELD_AT_MOST);
        if page.m.in_flight_len() == 0 {
            prop_assert!(page.held_back.is_empty(), "held back: {:?}", page.held_back);
        }
        let actions: Vec<Action> = std::iter::from_fn(|| self.pages[t].m.poll_action()).collect();
        for action in actions {
            let page = &mut self.pages[t];
            match action {
                Action::Post {
                    id,
                    body: Body::Message(msg),
                    ..
                } => {
                    prop_assert!(page.open.iter().all(|o| o.msg != Some(msg)), "posted twice");
                    let key = page.keys.get(&msg).cloned();
                    prop_assert!(key.is_some() || page.in_memory.contains(&msg));
                    if let Some(key) = &key {
                        prop_assert!(self.store.contains_key(key), "{key} posted, not stored");
                        for (o, other) in self.pages.iter().enumerate() {
                            let in_flight = other.open.iter().any(|p| p.key.as_ref() == Some(key));
                            prop_assert!(o == t || !in_flight, "{key} sent by two tabs at once");
                        }
                    }
                    self.pages[t].open.push(Open {
                        id,
                        msg: Some(msg),
                        key,
                    });
                }
                Action::Post { id, .. } => page.open.push(Open {
                    id,
                    msg: None,
                    key: None,
                }),
                Action::AbortPost(id) => {
                    let key = page
                        .open
                        .iter()
                        .find(|o| o.id == id)
                        .and_then(|o| o.key.clone());
                    if let Some(key) = key {
                        *self.transient_hits.entry(key).or_default() += 1;
                    }
                    page.open.retain(|o| o.id != id);
                }
                Action::Report { msg, fate } => {
                    if let Some(key) = page.keys.remove(&msg) {
                        if self.store.contains_key(&key) {
                            prop_assert!(self.group_removals, "{key} reported, still stored");
                            page.held_back.insert(key.clone());
                        }
                        self.check_fate_earned(&key, fate)?;
                        self.end(&key, End::Reported(fate))?;
                    } else {
                        prop_assert!(page.in_memory.remove(&msg), "report of unknown {msg:?}");
                    }
                }
                _ => {}
            }
        }
        self.check_books()
    }

    /// Each stored record is held by exactly the live tab that owns it, or left by a
    /// dead page for a restore to come; no message is held by two tabs.
    fn check_books(&self) -> Result<(), TestCaseError> {
        let mut held: BTreeMap<&String, &str> = BTreeMap::new();
        for page in &self.pages {
            for key in page.keys.values() {
                let other = held.insert(key, &page.owner);
                prop_assert!(
                    other.is_none(),
                    "{key} held by {other:?} and {}",
                    page.owner
                );
                let record = self.store.get(key);
                prop_assert!(record.is_some(), "{key} held, not stored");
                prop_assert_eq!(&record.unwrap().owner, &page.owner, "{} owner", key);
            }
            prop_assert_eq!(page.m.persisted_len(), page.keys.len());
            prop_assert_eq!(
                page.m.pending_len() + page.m.in_flight_len(),
                page.keys.len() + page.in_memory.len(),
                "a message vanished or was counted twice"
            );
            prop_assert!(page.m.pending_len() <= self.config.max_pending_sends);
        }
        for (key, record) in &self.store {
            let owner = self.pages.iter().find(|p| p.owner == record.owner);
            let held_back = owner.is_some_and(|p| p.held_back.contains(key));
            prop_assert!(
                owner.is_none() || held.contains_key(key) || held_back,
                "{key} stored but settled"
            );
        }
        Ok(())
    }

    /// A drop or failure only after exactly the allowed attempts, across pages.
    fn check_fate_earned(&self, key: &str, fate: Fate) -> Result<(), TestCaseError> {
        let stale = self.stale_hits.get(key).copied().unwrap_or(0);
        let transient = self.transient_hits.get(key).copied().unwrap_or(0);
        match fate {
            Fate::Dropped(DropReason::StaleRetriesExhausted) => {
                prop_assert_eq!(stale, self.config.max_stale_retries, "{}", key);
            }
            Fate::Failed(
                FailReason::ServerError(_) | FailReason::Network | FailReason::TimedOut,
            ) => {
                prop_assert_eq!(transient, self.config.max_send_retries + 1, "{}", key);
            }
            Fate::Delivered => prop_assert!(self.accepted.iter().any(|k| k == key)),
            _ => {}
        }
        Ok(())
    }

    /// No more crashes, a healthy server, and every tab restores what is left: every
    /// stored message must end, and the store empty.
    fn heal(&mut self) -> Result<(), TestCaseError> {
        for t in 0..self.pages.len() {
            self.restore(t)?;
            self.pages[t].m.connect(self.now);
            self.settle(t)?;
        }
        for _ in 0..400 {
            let busy = (0..self.pages.len()).find(|&t| !self.pages[t].open.is_empty());
            let down = (0..self.pages.len()).find(|&t| {
                let m = &self.pages[t].m;
                m.current_stream().is_some() && !m.is_connected()
            });
            let timer = (0..self.pages.len())
                .filter_map(|t| self.pages[t].m.poll_timeout().map(|at| (at, t)))
                .min();
            if let Some(t) = busy {
                let post = self.pages[t].open.remove(0);
                let owner = self.pages[t].owner.clone();
                self.handle(&owner, &post);
                self.pages[t].m.on_post_answer(self.now, post.id, OK);
                self.settle(t)?;
            } else if let Some(t) = down {
                self.welcomes += 1;
                let id = format!("c{}", self.welcomes);
                let m = &mut self.pages[t].m;
                let stream = m.current_stream().unwrap();
                m.on_welcome(self.now, stream, &id);
                self.settle(t)?;
            } else if let Some((at, t)) = timer {
                self.now = self.now.max(at);
                self.pages[t].m.on_timeout(self.now);
                self.settle(t)?;
            } else {
                break;
            }
        }
        prop_assert!(self.store.is_empty(), "left in the store: {:?}", self.store);
        for key in &self.sent {
            prop_assert!(self.ends.contains_key(key), "{key} never ended");
        }
        Ok(())
    }

    /// With ordered sends and one tab, the server first accepts stored messages in
    /// send order, whatever crashed in between.
    fn check_order(&self) -> Result<(), TestCaseError> {
        if self.config.ordered_sends && self.pages.len() == 1 {
            let index = |key: &String| self.sent.iter().position(|k| k == key);
            let order: Vec<Option<usize>> = self.accepted.iter().map(index).collect();
            prop_assert!(
                order.windows(2).all(|w| w[0] < w[1]),
                "accepted out of order: {:?}",
                self.accepted
            );
        }
        Ok(())
    }
}

fn play(
    config: Config,
    max_age_ms: u64,
    group_removals: bool,
    seed: u64,
    tabs: usize,
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let mut world = World::new(config, max_age_ms, group_removals, seed, tabs);
    for t in 0..tabs {
        world.settle(t)?;
    }
    for step in steps {
        world.step(step)?;
    }
    world.heal()?;
    world.check_order()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The property: one tab, crashing at random points.
    #[test]
    fn every_stored_message_ends_exactly_once_across_crashes(
        (config, max_age_ms) in config(),
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 1..100),
    ) {
        play(config, max_age_ms, false, seed, 1, &steps)?;
    }

    /// The same with removals held back while messages are in flight (IndexedDB's
    /// way): none lost, and only a message whose removal a crash lost ends twice.
    #[test]
    fn grouped_removals_lose_nothing_and_end_again_only_what_a_crash_held_back(
        (config, max_age_ms) in config(),
        seed in any::<u64>(),
        tabs in 1usize..3,
        steps in prop::collection::vec(step(), 1..100),
    ) {
        play(config, max_age_ms, true, seed, tabs, &steps)?;
    }

    /// Two tabs on one store, each crashing and reloading, restoring with the other
    /// alive: never both hold or send one stored message, and none is lost.
    #[test]
    fn two_tabs_never_send_the_same_stored_message_and_lose_none(
        (config, max_age_ms) in config(),
        seed in any::<u64>(),
        steps in prop::collection::vec(step(), 1..100),
    ) {
        play(config, max_age_ms, false, seed, 2, &steps)?;
    }
}
