//! Prompts in the persisted outbox (docs/persisted-outbox.md, "Prompts"): under the
//! existing client's current contract a prompt is stored with its session, its draft
//! and whether it was posted, and a page that takes it back sends it as a prompt again
//! (its receipt awaited, its notices told), in its original order, in its own draft;
//! the existing client's own outbox (`mitzo-send-outbox:…`) is taken in on an upgrade in
//! place. Scenario tests over a model store, then the property test: restored and new
//! prompts across crashes, every prompt accepted exactly once, in order.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_contract_harness.rs"]
mod contract;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use contract::harness::*;
use contract::*;
use proptest::prelude::*;
use sse_courier::core::{
    Action, Config, Endpoint, Fate, LeftAlone, LegacyPrompt, Machine, MsgId, OutboxAction,
    OutboxWarning, PersistConfig, PostOutcome, PromptNotice, Record, Restored, SendOutcome, Stored,
    StoredPrompt,
};

// ─── A page over a model store ───────────────────────────────────────────────

type Store = Rc<RefCell<BTreeMap<String, Record>>>;

/// One page load: a persisting machine under the contract, and the store it shares.
struct Page {
    rig: Rig,
    store: Store,
    /// The store operations carried out, in order, beside the other actions.
    puts: Vec<Record>,
    warned: Vec<OutboxWarning>,
}

impl Page {
    fn open(owner: &str, config: Config, store: &Store) -> Page {
        let mut rig = Rig::new(config.clone());
        rig.m = Machine::with_persist(config, PersistConfig::new(owner), 9);
        Page {
            rig,
            store: Rc::clone(store),
            puts: Vec::new(),
            warned: Vec::new(),
        }
    }

    /// Outbox actions first, into the store; then the others, as the shell drains them.
    fn drain(&mut self) -> Vec<Action> {
        while let Some(action) = self.rig.m.poll_outbox_action() {
            match action {
                OutboxAction::Put { record, .. } => {
                    self.puts.push(record.clone());
                    self.store.borrow_mut().insert(record.key.clone(), record);
                }
                OutboxAction::Remove { key } => {
                    self.store.borrow_mut().remove(&key);
                }
                OutboxAction::Warn(warning) => self.warned.push(warning),
            }
        }
        self.rig.drain()
    }

    /// Connected (no welcome needed: prompts go without the stream), the store read.
    fn started(owner: &str, store: &Store) -> (Page, Vec<Action>) {
        let (page, _, actions) = Page::started_reading(owner, store);
        (page, actions)
    }

    /// As `started`, with what was read and the core's verdict on each entry.
    fn started_reading(owner: &str, store: &Store) -> (Page, Vec<(Stored, Restored)>, Vec<Action>) {
        let mut page = Page::open(owner, Config::current_contract(), store);
        page.rig.m.connect(page.rig.now);
        page.drain();
        let read: Vec<Stored> = store
            .borrow()
            .values()
            .cloned()
            .map(Stored::Record)
            .collect();
        let (verdicts, actions) = page.restore(&read);
        (page, read.into_iter().zip(verdicts).collect(), actions)
    }

    fn restore(&mut self, read: &[Stored]) -> (Vec<Restored>, Vec<Action>) {
        let verdicts = self.rig.m.restore(self.rig.now, read, &[]);
        (verdicts, self.drain())
    }

    fn prompt(&mut self, id: &str, session: Option<&str>) -> (MsgId, Vec<Action>) {
        let (outcome, _) = send_prompt(&mut self.rig, id, session);
        let msg = match outcome {
            SendOutcome::Posted(msg) | SendOutcome::Queued(msg) => msg,
            SendOutcome::Refused => panic!("prompt {id} refused"),
        };
        // The rig drained the core's actions; the outbox's are drained here.
        let actions = self.rig.log.clone();
        self.drain();
        (msg, actions)
    }

    /// Prompt `msg`'s latest POST answered with its receipt, naming `session`.
    fn accept(&mut self, msg: MsgId, key: &str, session: Option<&str>) -> Vec<Action> {
        let post = prompt_post_of(&self.rig.log, msg);
        self.rig
            .m
            .on_post_receipt(self.rig.now, post, receipt(key, session));
        self.drain()
    }

    fn stored(&self, key: &str) -> StoredPrompt {
        let store = self.store.borrow();
        let record = store.get(key).unwrap_or_else(|| panic!("{key} not stored"));
        record.prompt.clone().expect("a prompt's record")
    }
}

fn new_store() -> Store {
    Rc::default()
}

fn legacy(key: &str, scope: &str, uncertain: bool) -> Stored {
    Stored::Legacy(LegacyPrompt {
        key: key.into(),
        session_id: None,
        scope: scope.into(),
        posted: uncertain,
    })
}

// ─── Storing ─────────────────────────────────────────────────────────────────

#[test]
fn a_prompt_is_stored_with_its_session_and_draft_before_it_is_posted() {
    let store = new_store();
    let (mut page, _) = Page::started("page-a", &store);

    page.rig.m.send_prompt(
        page.rig.now,
        sse_courier::core::Prompt {
            client_msg_id: Some("m1"),
            session_id: Some("s1"),
        },
    );
    let first = page.rig.m.poll_outbox_action();

    let Some(OutboxAction::Put { record, .. }) = first else {
        panic!("{first:?}")
    };
    assert_eq!(record.key, "m1");
    assert_eq!(
        record.prompt,
        Some(StoredPrompt {
            session_id: Some("s1".into()),
            draft: "m1".into(),
            posted: true,
        })
    );
    assert_eq!(posted_prompts(&page.drain()).len(), 1, "then posted");
}

#[test]
fn the_prompts_of_one_draft_share_its_name_and_a_new_draft_has_its_own() {
    let store = new_store();
    let (mut page, _) = Page::started("page-a", &store);

    page.prompt("m1", None);
    page.prompt("m2", None);
    page.rig.m.clear_pending_sends();
    page.drain();
    page.prompt("m3", None);

    assert_eq!(page.stored("m1").draft, "m1");
    assert_eq!(page.stored("m2").draft, "m1");
    assert_eq!(page.stored("m3").draft, "m3");
    assert!(page.stored("m1").posted && !page.stored("m2").posted);
}

#[test]
fn an_orphan_prompts_record_says_posted_before_its_first_post() {
    let store = new_store();
    let (mut page, _) = Page::started("page-a", &store);
    let (m1, _) = page.prompt("m1", None);
    page.prompt("m2", None);
    assert!(!page.stored("m2").posted);

    // m1's receipt names no session: m2 stays an orphan, and goes out next.
    page.puts.clear();
    let actions = page.accept(m1, "m1", None);

    assert_eq!(posted_prompts(&actions).len(), 1);
    assert!(page.stored("m2").posted, "written before the POST");
    assert_eq!(page.puts.len(), 1, "one write, for m2");
}

#[test]
fn a_prompt_with_a_session_is_not_rewritten_when_posted() {
    let store = new_store();
    let (mut page, _) = Page::started("page-a", &store);
    let (m1, _) = page.prompt("m1", Some("s1"));
    page.prompt("m2", Some("s1"));
    page.puts.clear();

    page.accept(m1, "m1", Some("s1"));

    assert!(page.puts.is_empty(), "{:?}", page.puts);
}

// ─── Restoring ───────────────────────────────────────────────────────────────

#[test]
fn a_restored_prompt_is_sent_as_a_prompt_and_accepted_once_by_its_receipt() {
    let store = new_store();
    let (mut old, _) = Page::started("page-a", &store);
    old.prompt("m1", Some("s1"));
    old.prompt("m2", Some("s1"));
    drop(old); // the page dies with m1 in flight, m2 queued

    let (mut page, actions) = Page::started("page-b", &store);

    let posts = prompt_posts(&actions);
    assert_eq!(posts.len(), 1, "one at a time");
    assert!(posts[0].read_receipt, "its receipt is awaited");
    let pending: Vec<_> = prompt_notices(&actions);
    assert_eq!(pending.len(), 2, "both told pending: {pending:?}");
    assert!(pending
        .iter()
        .all(|(_, n)| *n == PromptNotice::Pending { retrying: false }));
    let (m1, m2) = (pending[0].0, pending[1].0);
    assert_eq!(posts[0].msg, m1, "in their original order");

    let wrong = answer_prompt(&mut page.rig, m1, receipt("m2", Some("s1")));
    assert!(
        reports(&wrong).is_empty(),
        "another prompt's receipt is not m1's"
    );
    page.rig.advance(1_000);
    page.drain();
    let accepted = page.accept(m1, "m1", Some("s1"));
    assert_eq!(reports(&accepted), [(m1, Fate::Delivered)]);
    let accepted = page.accept(m2, "m2", Some("s1"));
    assert_eq!(reports(&accepted), [(m2, Fate::Delivered)]);
    assert!(store.borrow().is_empty(), "both records gone");
    assert_eq!(reports(&page.rig.log).len(), 2, "each reported once");
}

#[test]
fn restored_prompts_go_before_new_ones_in_their_original_order() {
    let store = new_store();
    let (mut old, _) = Page::started("page-a", &store);
    for key in ["m1", "m2", "m3"] {
        old.prompt(key, Some("s"));
        old.rig.now += 1;
    }
    drop(old);
    let mut page = Page::open("page-b", Config::current_contract(), &store);
    page.rig.m.connect(page.rig.now);
    page.drain();
    let (new, _) = page.prompt("m4", Some("s"));
    let read: Vec<Stored> = store
        .borrow()
        .values()
        .cloned()
        .map(Stored::Record)
        .collect();

    let (verdicts, _) = page.restore(&read);
    let mut keys: BTreeMap<MsgId, &str> = BTreeMap::new();
    for (verdict, key) in verdicts.iter().zip(["m1", "m2", "m3"]) {
        let Restored::Taken(msg) = verdict else {
            panic!("{verdicts:?}")
        };
        keys.insert(*msg, key);
    }
    keys.insert(new, "m4");
    let mut order = Vec::new();
    for _ in 0..4 {
        let posts = prompt_posts(&page.rig.log);
        let next = posts
            .iter()
            .find(|p| !order.contains(&p.msg))
            .expect("posted");
        let msg = next.msg;
        order.push(msg);
        page.accept(msg, keys[&msg], Some("s"));
    }

    let sent: Vec<&str> = order.iter().map(|m| keys[m]).collect();
    assert_eq!(sent, ["m1", "m2", "m3", "m4"], "the new prompt last");
}

#[test]
fn a_restored_draft_adopts_the_session_of_its_first_receipt_and_a_new_draft_does_not() {
    let store = new_store();
    let (mut old, _) = Page::started("page-a", &store);
    old.prompt("m1", None);
    old.prompt("m2", None);
    drop(old); // m1 posted, m2 never

    let (mut page, actions) = Page::started("page-b", &store);
    assert!(adoptions(&actions).is_empty(), "no session yet");
    let m1 = posted_prompts(&actions)[0];
    let (fresh, _) = page.prompt("m3", None);
    let accepted = page.accept(m1, "m1", Some("s9"));

    let adopted = adoptions(&accepted);
    assert_eq!(adopted.len(), 1);
    assert!(
        !adopted[0].0.contains(&fresh),
        "a new page's draft is its own"
    );
    assert_eq!(adopted[0].0.len(), 1, "m2 only");
    assert_eq!(adopted[0].1, "s9");
    assert_eq!(page.stored("m2").session_id.as_deref(), Some("s9"));
    assert_eq!(page.stored("m3").session_id, None);
}

#[test]
fn a_session_adopted_before_the_reload_is_given_to_the_restored_body() {
    let store = new_store();
    let (mut old, _) = Page::started("page-a", &store);
    let (m1, _) = old.prompt("m1", None);
    old.prompt("m2", None);
    old.accept(m1, "m1", Some("s9"));
    assert_eq!(old.stored("m2").session_id.as_deref(), Some("s9"));
    drop(old);

    let (_, actions) = Page::started("page-b", &store);

    let adopted = adoptions(&actions);
    assert_eq!(adopted.len(), 1, "{actions:?}");
    assert_eq!(adopted[0].1, "s9");
    let adopt_at = position(&actions, |a| matches!(a, Action::AdoptSession { .. }));
    let post_at = position(&actions, |a| matches!(a, Action::PostPrompt { .. }));
    assert!(
        adopt_at < post_at,
        "its body has the session before it is posted"
    );
}

#[test]
fn a_restored_prompt_that_may_have_been_posted_never_adopts_a_session() {
    let store = new_store();
    let mut page = Page::open("page-b", Config::current_contract(), &store);
    page.rig.m.connect(page.rig.now);
    page.drain();
    let (fresh, _) = page.prompt("new", None);
    let read = [
        legacy("l1", "0", false),
        legacy("l2", "0", true),
        legacy("l3", "0", false),
    ];
    let (verdicts, actions) = page.restore(&read);
    let Restored::Taken(l1) = verdicts[0] else {
        panic!("{verdicts:?}")
    };
    let Restored::Taken(l3) = verdicts[2] else {
        panic!("{verdicts:?}")
    };
    assert!(adoptions(&actions).is_empty());

    let accepted = page.accept(l1, "l1", Some("s9"));

    assert_eq!(
        adoptions(&accepted),
        [(vec![l3], "s9".to_owned())],
        "not l2 (uncertain), not the new page's prompt"
    );
    assert_eq!(page.stored("l2").session_id, None);
    assert_eq!(page.stored("new").session_id, None);
    let _ = fresh;
}

#[test]
fn a_version_1_record_is_restored_as_a_plain_message() {
    let store = new_store();
    let mut record = Record {
        version: 1,
        key: "k1".into(),
        endpoint: Endpoint::Send,
        order: 1,
        enqueued_at: 1_000,
        stale_404s: 0,
        retries: 0,
        owner: "gone".into(),
        prompt: None,
    };
    store.borrow_mut().insert("k1".into(), record.clone());
    let (mut page, actions) = Page::started("page-b", &store);

    assert!(prompt_posts(&actions).is_empty(), "not a prompt");
    page.rig.welcome("conn-1");
    page.drain();
    assert_eq!(posts(&page.rig.log).len(), 1, "a plain POST once connected");
    record.version = 2;
    assert!(page.stored_plain("k1"));
}

impl Page {
    fn stored_plain(&self, key: &str) -> bool {
        self.store
            .borrow()
            .get(key)
            .is_some_and(|r| r.prompt.is_none())
    }
}

#[test]
fn a_prompts_record_restored_without_the_contract_is_a_plain_message() {
    let store = new_store();
    let (mut old, _) = Page::started("page-a", &store);
    old.prompt("m1", Some("s"));
    drop(old);
    let mut page = Page::open("page-b", Config::default(), &store);
    page.rig.m.connect(page.rig.now);
    page.rig.welcome("conn-1");
    page.drain();
    let read: Vec<Stored> = store
        .borrow()
        .values()
        .cloned()
        .map(Stored::Record)
        .collect();

    let (_, actions) = page.restore(&read);

    assert!(prompt_posts(&actions).is_empty());
    assert_eq!(posts(&actions).len(), 1);
    assert!(prompt_notices(&actions).is_empty());
}

// ─── The existing client's outbox ────────────────────────────────────────────

#[test]
fn the_existing_clients_outbox_is_taken_first_in_its_order_as_prompts() {
    let store = new_store();
    let (mut old, _) = Page::started("page-a", &store);
    old.prompt("ours", Some("s"));
    drop(old);
    let mut page = Page::open("page-b", Config::current_contract(), &store);
    page.rig.m.connect(page.rig.now);
    page.drain();
    let mut read: Vec<Stored> = store
        .borrow()
        .values()
        .cloned()
        .map(Stored::Record)
        .collect();
    read.push(legacy("old-1", "3", false));
    read.push(legacy("old-2", "3", true));

    let (verdicts, actions) = page.restore(&read);

    assert!(
        verdicts.iter().all(|v| matches!(v, Restored::Taken(_))),
        "{verdicts:?}"
    );
    let Restored::Taken(first) = verdicts[1] else {
        unreachable!()
    };
    assert_eq!(
        posted_prompts(&actions),
        [first],
        "the existing client's first"
    );
    let claimed = page.puts.iter().find(|r| r.key == "old-1").cloned();
    let old_1 = claimed.and_then(|r| r.prompt).expect("claimed as a prompt");
    assert_eq!(old_1.draft, "mitzo-scope:3");
    assert!(!old_1.posted, "not uncertain: claimed as never posted");
    assert_eq!(page.stored("old-2").draft, "mitzo-scope:3", "one draft");
    assert!(
        page.stored("old-2").posted,
        "uncertain: may have reached the server"
    );
    let mut done = Vec::new();
    for key in ["old-1", "old-2", "ours"] {
        let post = prompt_posts(&page.rig.log)
            .into_iter()
            .find(|p| !done.contains(&p.msg))
            .expect("the next prompt posted");
        done.push(post.msg);
        let accepted = page.accept(post.msg, key, Some("s"));
        assert_eq!(reports(&accepted), [(post.msg, Fate::Delivered)], "{key}");
    }
    assert!(store.borrow().is_empty());
}

#[test]
fn a_legacy_prompt_already_stored_or_held_is_left_to_its_record() {
    let store = new_store();
    let (mut old, _) = Page::started("page-a", &store);
    old.prompt("k1", Some("s"));
    drop(old);
    let mut page = Page::open("page-b", Config::current_contract(), &store);
    page.rig.m.connect(page.rig.now);
    page.drain();
    page.prompt("k2", Some("s"));
    let mut read = vec![legacy("k1", "0", false)];
    read.extend(store.borrow().values().cloned().map(Stored::Record));
    read.push(legacy("k2", "0", false));
    read.push(legacy("", "0", false));
    read.push(legacy("k3", "0", false));
    read.push(legacy("k3", "0", false));

    let (verdicts, _) = page.restore(&read);

    assert_eq!(verdicts[0], Restored::Left(LeftAlone::Duplicate), "stored");
    assert!(matches!(verdicts[1], Restored::Taken(_)), "its record wins");
    assert!(matches!(
        verdicts[2],
        Restored::Left(LeftAlone::Mine | LeftAlone::Duplicate)
    ));
    assert_eq!(verdicts[3], Restored::Left(LeftAlone::Duplicate), "held");
    assert_eq!(verdicts[4], Restored::Left(LeftAlone::Corrupt), "no key");
    assert!(matches!(verdicts[5], Restored::Taken(_)));
    assert_eq!(verdicts[6], Restored::Left(LeftAlone::Duplicate), "taken");
    assert_eq!(page.warned, [OutboxWarning::CorruptRecords]);
}

#[test]
fn a_legacy_prompt_whose_key_holds_an_unreadable_entry_is_left_so_nothing_is_overwritten() {
    let store = new_store();
    let mut page = Page::open("page-b", Config::current_contract(), &store);
    page.rig.m.connect(page.rig.now);
    page.drain();
    let unreadable = |key: &str| Stored::Unreadable {
        key: key.into(),
        version: None,
    };
    let read = [
        unreadable("junk"),
        legacy("k1", "0", false),
        unreadable("k2"),
        legacy("k2", "0", false),
    ];

    let (verdicts, _) = page.restore(&read);

    assert!(matches!(verdicts[1], Restored::Taken(_)), "{verdicts:?}");
    assert_eq!(verdicts[3], Restored::Left(LeftAlone::Duplicate));
}

#[test]
fn a_legacy_prompt_with_a_session_keeps_it() {
    let store = new_store();
    let mut page = Page::open("page-b", Config::current_contract(), &store);
    page.rig.m.connect(page.rig.now);
    page.drain();
    let read = [Stored::Legacy(LegacyPrompt {
        key: "k".into(),
        session_id: Some("s4".into()),
        scope: "\"d\"".into(),
        posted: false,
    })];

    page.restore(&read);

    let stored = page.stored("k");
    assert_eq!(stored.session_id.as_deref(), Some("s4"));
    assert_eq!(stored.draft, "mitzo-scope:\"d\"");
    let record = store.borrow().get("k").cloned().unwrap();
    assert_eq!((record.order, record.enqueued_at), (1, page.rig.now));
    assert_eq!(record.owner, "page-b");
}

// ─── Property: restored and new prompts across crashes ───────────────────────

/// What a step of a page does.
#[derive(Clone, Debug)]
enum Step {
    /// The app sends a new prompt (to session `s` or none).
    Prompt(bool),
    /// The server handles the oldest prompt POST in flight and answers; `lost`: the
    /// answer never arrives (a network error instead).
    Answer { lost: bool },
    /// The host timer fires.
    Timers,
    /// The page dies and a new one loads.
    Crash,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => any::<bool>().prop_map(Step::Prompt),
        4 => any::<bool>().prop_map(|lost| Step::Answer { lost }),
        1 => Just(Step::Timers),
        1 => Just(Step::Crash),
    ]
}

/// A server that de-duplicates by `clientMsgId` and answers every prompt with its
/// receipt.
#[derive(Default)]
struct Server {
    accepted: Vec<String>,
}

impl Server {
    fn handle(&mut self, key: &str) {
        if !self.accepted.iter().any(|k| k == key) {
            self.accepted.push(key.to_owned());
        }
    }
}

/// The prompts of one page: its message ids and their keys.
struct Live {
    page: Page,
    keys: BTreeMap<MsgId, String>,
    /// Prompt POSTs not answered yet, oldest first.
    open: Vec<(sse_courier::core::PostId, MsgId)>,
}

impl Live {
    fn load(owner: &str, store: &Store) -> Live {
        let (page, read, actions) = Page::started_reading(owner, store);
        let mut keys = BTreeMap::new();
        for (entry, verdict) in &read {
            if let (Stored::Record(record), Restored::Taken(msg)) = (entry, verdict) {
                keys.insert(*msg, record.key.clone());
            }
        }
        let mut live = Live {
            page,
            keys,
            open: Vec::new(),
        };
        live.note(&actions);
        live
    }

    fn note(&mut self, actions: &[Action]) {
        for post in prompt_posts(actions) {
            self.open.push((post.id, post.msg));
        }
    }

    fn run(&mut self, actions: Vec<Action>) {
        self.note(&actions);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn restored_and_new_prompts_are_each_accepted_once_in_order(
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        let store = new_store();
        let mut server = Server::default();
        let mut sent: Vec<String> = Vec::new();
        let mut delivered: Vec<String> = Vec::new();
        let mut pages = 0;
        let mut live = Live::load("page-0", &store);
        for step in steps.into_iter().chain([Step::Crash]) {
            match step {
                Step::Prompt(with_session) => {
                    let key = format!("p{}", sent.len());
                    let session = with_session.then_some("s");
                    let before = live.page.rig.log.len();
                    let (msg, _) = live.page.prompt(&key, session);
                    let actions = live.page.rig.log[before..].to_vec();
                    live.keys.insert(msg, key.clone());
                    sent.push(key);
                    live.run(actions);
                }
                Step::Answer { lost } => {
                    if live.open.is_empty() {
                        continue;
                    }
                    let (post, msg) = live.open.remove(0);
                    let key = live.keys[&msg].clone();
                    server.handle(&key);
                    let now = live.page.rig.now;
                    if lost {
                        live.page.rig.m.on_post_answer(now, post, PostOutcome::NetworkError);
                    } else {
                        live.page.rig.m.on_post_receipt(now, post, receipt(&key, Some("s")));
                    }
                    let actions = live.page.drain();
                    for (msg, fate) in reports(&actions) {
                        prop_assert_eq!(fate, Fate::Delivered);
                        delivered.push(live.keys[&msg].clone());
                    }
                    live.run(actions);
                }
                Step::Timers => {
                    live.page.rig.now += 20_000;
                    let now = live.page.rig.now;
                    live.page.rig.m.on_timeout(now);
                    let actions = live.page.drain();
                    // A timed-out POST is aborted: its answer never comes.
                    live.open.retain(|(post, _)| {
                        !actions.contains(&Action::AbortPost(*post))
                    });
                    for (msg, fate) in reports(&actions) {
                        prop_assert_eq!(fate, Fate::Delivered);
                        delivered.push(live.keys[&msg].clone());
                    }
                    live.run(actions);
                }
                Step::Crash => {
                    pages += 1;
                    live = Live::load(&format!("page-{pages}"), &store);
                    // The new page's clock goes on from the old one's.
                    live.page.rig.now = 1_000 + pages as u64 * 100_000;
                }
            }
        }
        // The last page answers everything until nothing is left.
        for _ in 0..10_000 {
            if live.open.is_empty() {
                if live.page.rig.m.poll_timeout().is_none() {
                    break;
                }
                let at = live.page.rig.m.poll_timeout().unwrap();
                live.page.rig.now = live.page.rig.now.max(at);
                let now = live.page.rig.now;
                live.page.rig.m.on_timeout(now);
                let actions = live.page.drain();
                live.open.retain(|(post, _)| !actions.contains(&Action::AbortPost(*post)));
                for (msg, _) in reports(&actions) {
                    delivered.push(live.keys[&msg].clone());
                }
                live.run(actions);
                continue;
            }
            let (post, msg) = live.open.remove(0);
            let key = live.keys[&msg].clone();
            server.handle(&key);
            let now = live.page.rig.now;
            live.page.rig.m.on_post_receipt(now, post, receipt(&key, Some("s")));
            let actions = live.page.drain();
            for (msg, fate) in reports(&actions) {
                prop_assert_eq!(fate, Fate::Delivered);
                delivered.push(live.keys[&msg].clone());
            }
            live.run(actions);
        }
        prop_assert_eq!(&server.accepted, &sent, "the server has each, in send order");
        let once: BTreeSet<&String> = delivered.iter().collect();
        prop_assert_eq!(once.len(), delivered.len(), "reported delivered once: {:?}", delivered);
        prop_assert_eq!(&delivered, &sent, "and in order");
        prop_assert!(store.borrow().is_empty(), "nothing left stored");
    }
}
