//! One stream for all tabs, the core half (docs/shared-stream.md): scenarios, each a
//! given/when/then story, and the property test, played on a small world of
//! tabs with a fake lock manager (Web Locks), a FIFO channel (BroadcastChannel) and a
//! model server that stores events per session with seqs and replays on reconnect.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, VecDeque};

use proptest::prelude::*;
use sse_courier::core::{
    Action, Body, Config, Driver, Endpoint, EventVerdict, Fate, Machine, MsgId, Notice,
    OutboxAction, PersistConfig, PostId, PostOutcome, SendOutcome, SessionSeq, StreamId, Tab,
    TabAction, TabConfig, TabId, Term, Wire,
};

const SESSIONS: [&str; 3] = ["s0", "s1", "s2"];

struct Slot {
    tab: Tab,
    alive: bool,
    frozen: bool,
    dispatched: BTreeMap<(String, u64), u32>,
    reports: BTreeMap<MsgId, Vec<Fate>>,
    sent: Vec<MsgId>,
    notices: Vec<Notice>,
    /// Sessions the app tracks, from the seq it started at.
    tracks: Vec<(String, u64)>,
}

#[derive(Clone, Debug)]
struct SeenPost {
    tab: usize,
    id: PostId,
    connection_id: String,
    body: Body,
}

/// An event down the stream: the tab and stream it reaches, its session and seq.
type Down = (usize, StreamId, Option<(String, u64)>);

#[derive(Default)]
struct Server {
    /// Events stored per session, seqs from 1.
    stored: BTreeMap<String, u64>,
    /// The live connection: its id, and the tab and stream it is delivered on.
    conn: Option<(String, usize, StreamId)>,
    next_conn: u32,
    streams_opened: u32,
    /// Open EventSources not yet welcomed.
    opening: Vec<(usize, StreamId)>,
    /// What goes down the stream, in order.
    down: VecDeque<Down>,
    accepted: BTreeMap<(usize, MsgId), u32>,
    reconnect_bodies: Vec<Vec<SessionSeq>>,
    posts: Vec<SeenPost>,
}

struct World {
    now: u64,
    slots: Vec<Slot>,
    holder: Option<usize>,
    waiting: Vec<usize>,
    channel: VecDeque<(usize, Wire)>,
    server: Server,
    auto_answer: bool,
    /// The browser refuses every lock request (an opaque origin, say).
    refuse_locks: bool,
    /// A new stream is welcomed before the channel's messages are delivered (the
    /// stream opens faster than a tab answers).
    fast_streams: bool,
}

impl World {
    fn new() -> Self {
        World {
            now: 1_000,
            slots: Vec::new(),
            holder: None,
            waiting: Vec::new(),
            channel: VecDeque::new(),
            server: Server::default(),
            auto_answer: true,
            refuse_locks: false,
            fast_streams: false,
        }
    }

    /// Opens a tab whose app tracks `tracks` (from the server's latest seq) and connects.
    fn open(&mut self, tracks: &[&str]) -> usize {
        let i = self.slots.len();
        let machine = Machine::new(Config::default(), 7 + i as u64);
        let tab = Tab::new(machine, TabConfig::new(TabId(100 + i as u64)));
        let tracks: Vec<(String, u64)> = tracks
            .iter()
            .map(|s| (s.to_string(), self.stored(s)))
            .collect();
        self.slots.push(Slot {
            tab,
            alive: true,
            frozen: false,
            dispatched: BTreeMap::new(),
            reports: BTreeMap::new(),
            sent: Vec::new(),
            notices: Vec::new(),
            tracks: tracks.clone(),
        });
        let now = self.now;
        self.slots[i].tab.input(now, |m| {
            for (s, q) in &tracks {
                m.track_seq(s, *q);
            }
            m.connect(now);
        });
        self.settle();
        i
    }

    fn stored(&self, session: &str) -> u64 {
        self.server.stored.get(session).copied().unwrap_or(0)
    }

    fn leader(&self) -> Option<usize> {
        (0..self.slots.len()).find(|&i| self.slots[i].alive && self.slots[i].tab.is_leader())
    }

    /// The tab closes, crashes or is discarded: the browser releases its lock.
    fn close(&mut self, i: usize) {
        if !self.slots[i].alive {
            return;
        }
        self.slots[i].alive = false;
        if let Some((_, tab, _)) = &self.server.conn {
            if *tab == i {
                self.server.conn = None;
            }
        }
        self.server.opening.retain(|(t, _)| *t != i);
        self.waiting.retain(|t| *t != i);
        if self.holder == Some(i) {
            self.holder = None;
            self.grant_next();
        }
        self.settle();
    }

    fn send(&mut self, i: usize) -> Option<MsgId> {
        let now = self.now;
        let outcome = self.slots[i]
            .tab
            .input(now, |m| m.send(now, Endpoint::Send));
        let id = match outcome {
            SendOutcome::Posted(id) | SendOutcome::Queued(id) => Some(id),
            SendOutcome::Refused => None,
        };
        if let Some(id) = id {
            self.slots[i].sent.push(id);
        }
        self.settle();
        id
    }

    /// The server stores an event and sends it down the live stream, if any.
    fn emit(&mut self, session: &str) -> u64 {
        let seq = self.stored(session) + 1;
        self.server.stored.insert(session.into(), seq);
        if let Some((_, tab, stream)) = &self.server.conn {
            self.server
                .down
                .push_back((*tab, *stream, Some((session.into(), seq))));
        }
        self.settle();
        seq
    }

    /// The server forgets the connection; the stream still looks open.
    fn forget_connection(&mut self) {
        self.server.conn = None;
    }

    /// The live connection's stream errors (`onerror`): the browser retries it
    /// natively, which brings a new welcome on the same stream, a new connection.
    fn stream_error(&mut self) {
        let (_, tab, stream) = self.server.conn.take().expect("no live connection");
        let now = self.now;
        self.slots[tab].tab.on_stream_error(now, stream, false);
        self.server.opening.push((tab, stream));
        self.settle();
    }

    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        loop {
            let next = (0..self.slots.len())
                .filter(|&i| self.slots[i].alive && !self.slots[i].frozen)
                .filter_map(|i| self.slots[i].tab.poll_timeout().map(|t| (t, i)))
                .filter(|(t, _)| *t <= end)
                .min();
            let Some((t, i)) = next else { break };
            self.now = self.now.max(t);
            let now = self.now;
            self.slots[i].tab.on_timeout(now);
            self.settle();
        }
        self.now = end;
        self.settle();
    }

    fn grant_next(&mut self) {
        while self.holder.is_none() && !self.waiting.is_empty() {
            let next = self.waiting.remove(0);
            if self.slots[next].alive {
                self.holder = Some(next);
                let now = self.now;
                self.slots[next].tab.on_lock_granted(now);
            }
        }
    }

    /// Runs everything that is due until the world is quiet.
    fn settle(&mut self) {
        for _ in 0..10_000 {
            if !self.step() {
                return;
            }
        }
        panic!("the world never settles");
    }

    fn step(&mut self) -> bool {
        for i in 0..self.slots.len() {
            if !self.slots[i].alive {
                continue;
            }
            if let Some(action) = self.slots[i].tab.poll_action() {
                self.carry_out(i, action);
                return true;
            }
        }
        if self.fast_streams && self.welcome_next() {
            return true;
        }
        if let Some((from, wire)) = self.channel.pop_front() {
            let now = self.now;
            for i in 0..self.slots.len() {
                if i == from || !self.slots[i].alive || self.slots[i].frozen {
                    continue;
                }
                let verdict = self.slots[i].tab.on_channel(now, &wire);
                if let (
                    Wire::Event {
                        session_id, seq, ..
                    },
                    EventVerdict::Dispatch,
                ) = (&wire, verdict)
                {
                    record(&mut self.slots[i], session_id, seq);
                }
            }
            return true;
        }
        if self.welcome_next() {
            return true;
        }
        if let Some((tab, stream, event)) = self.server.down.pop_front() {
            let now = self.now;
            if self.slots[tab].alive && !self.slots[tab].frozen {
                let (s, q) = match &event {
                    Some((s, q)) => (Some(s.as_str()), Some(*q)),
                    None => (None, None),
                };
                let verdict = self.slots[tab].tab.on_event(now, stream, s, q);
                if verdict == EventVerdict::Dispatch {
                    let (s, q) = (s.map(String::from), q);
                    record(&mut self.slots[tab], &s, &q);
                }
            }
            return true;
        }
        if self.auto_answer && !self.server.posts.is_empty() {
            let post = self.server.posts.remove(0);
            self.answer(post);
            return true;
        }
        false
    }

    /// The server welcomes the next stream opened, if any.
    fn welcome_next(&mut self) -> bool {
        let Some((tab, stream)) = self.server.opening.first().copied() else {
            return false;
        };
        self.server.opening.remove(0);
        self.server.next_conn += 1;
        let id = format!("c{}", self.server.next_conn);
        self.server.conn = Some((id.clone(), tab, stream));
        let now = self.now;
        if self.slots[tab].alive && !self.slots[tab].frozen {
            self.slots[tab].tab.on_welcome(now, stream, &id);
        }
        true
    }

    /// The model server answers a POST.
    fn answer(&mut self, post: SeenPost) {
        let live = matches!(&self.server.conn, Some((id, _, _)) if *id == post.connection_id);
        let outcome = if !live {
            PostOutcome::Status(404)
        } else {
            match &post.body {
                Body::Reconnect(sessions) => {
                    self.server.reconnect_bodies.push(sessions.clone());
                    let (_, tab, stream) = self.server.conn.clone().unwrap();
                    for s in sessions {
                        for q in s.last_seq + 1..=self.stored(&s.session_id) {
                            self.server.down.push_back((
                                tab,
                                stream,
                                Some((s.session_id.clone(), q)),
                            ));
                        }
                    }
                }
                Body::Message(msg) => {
                    *self.server.accepted.entry((post.tab, *msg)).or_default() += 1;
                }
                Body::Suspend(_) => {}
            }
            PostOutcome::Accepted
        };
        if self.slots[post.tab].alive {
            let now = self.now;
            self.slots[post.tab]
                .tab
                .on_post_answer(now, post.id, outcome);
        }
    }

    fn carry_out(&mut self, i: usize, action: TabAction) {
        match action {
            TabAction::Core(Action::OpenStream(s)) => {
                assert!(
                    self.slots[i].tab.is_leader() || !self.slots[i].tab.is_sharing(),
                    "only the leader, or a tab alone, opens a stream"
                );
                self.server.streams_opened += 1;
                self.server.opening.push((i, s));
            }
            TabAction::Core(Action::CloseStream(s)) => {
                self.server.opening.retain(|o| *o != (i, s));
                if matches!(&self.server.conn, Some((_, t, st)) if *t == i && *st == s) {
                    self.server.conn = None;
                }
            }
            TabAction::Core(Action::Post {
                id,
                connection_id,
                body,
                ..
            }) => self.server.posts.push(SeenPost {
                tab: i,
                id,
                connection_id,
                body,
            }),
            TabAction::Core(Action::Report { msg, fate }) => {
                self.slots[i].reports.entry(msg).or_default().push(fate)
            }
            TabAction::Core(Action::Notify(n)) => self.slots[i].notices.push(n),
            TabAction::Core(_) => {}
            TabAction::Broadcast(wire) => self.channel.push_back((i, wire)),
            TabAction::RequestLock | TabAction::StealLock if self.refuse_locks => {
                let now = self.now;
                self.slots[i].tab.on_lock_refused(now);
            }
            TabAction::RequestLock => {
                if self.holder != Some(i) && !self.waiting.contains(&i) {
                    self.waiting.push(i);
                }
                self.grant_next();
            }
            TabAction::StealLock => {
                self.waiting.retain(|t| *t != i);
                let now = self.now;
                if let Some(old) = self.holder.replace(i) {
                    if old != i && self.slots[old].alive {
                        self.slots[old].tab.on_lock_lost(now);
                    }
                }
                self.slots[i].tab.on_lock_granted(now);
            }
            TabAction::ReleaseLock => {
                self.waiting.retain(|t| *t != i);
                if self.holder == Some(i) {
                    self.holder = None;
                    self.grant_next();
                }
            }
        }
    }

    /// Carries out every action tab `i` has queued, and nothing else: what its shell
    /// does before any other tab's task runs.
    fn run_actions(&mut self, i: usize) {
        while let Some(action) = self.slots[i].tab.poll_action() {
            self.carry_out(i, action);
        }
    }

    fn dispatched(&self, i: usize, session: &str) -> Vec<u64> {
        self.slots[i]
            .dispatched
            .keys()
            .filter(|(s, _)| s == session)
            .map(|(_, q)| *q)
            .collect()
    }

    fn posts_to(&self, endpoint: Endpoint) -> usize {
        self.server.reconnect_bodies.len() * usize::from(endpoint == Endpoint::Reconnect)
    }
}

fn record(slot: &mut Slot, session: &Option<String>, seq: &Option<u64>) {
    if let (Some(s), Some(q)) = (session, seq) {
        *slot.dispatched.entry((s.clone(), *q)).or_default() += 1;
    }
}

fn session(id: &str, seq: u64) -> SessionSeq {
    SessionSeq {
        session_id: id.into(),
        last_seq: seq,
    }
}

// ─── One tab alone, driven by hand ───────────────────────────────────────────
//
// For what the FIFO world never plays: timers fired at chosen times, a report that
// crosses events in flight, late inputs from a replaced stream. Each input is fed to
// one tab and its actions are read back.

const T0: u64 = 1_000;
/// The term of the leader a lone follower follows (tab 1, granted at `T0`).
const TERM: Term = Term {
    epoch: T0,
    leader: TabId(1),
};

fn drain(tab: &mut Tab) -> Vec<TabAction> {
    std::iter::from_fn(|| tab.poll_action()).collect()
}

/// Tab `id` whose app tracks `tracks` (from seq 0) and connects at `T0`: it queues for
/// the lock.
fn lone(id: u64, tracks: &[&str]) -> Tab {
    lone_with(id, Config::default(), tracks)
}

/// `lone` with the app's `config`.
fn lone_with(id: u64, config: Config, tracks: &[&str]) -> Tab {
    let machine = Machine::new(config, id);
    let mut tab = Tab::new(machine, TabConfig::new(TabId(id)));
    tab.input(T0, |m| {
        for s in tracks {
            m.track_seq(s, 0);
        }
        m.connect(T0);
    });
    drain(&mut tab);
    tab
}

/// Tab 1, granted the lock at `T0` and welcomed on "c1": the leader of `TERM`, and
/// its real stream.
fn lone_leader(tracks: &[&str]) -> (Tab, StreamId) {
    let mut tab = lone(1, tracks);
    tab.on_lock_granted(T0);
    let stream = opened_stream(&drain(&mut tab));
    tab.on_welcome(T0, stream, "c1");
    drain(&mut tab);
    assert_eq!(tab.term(), Some(TERM));
    (tab, stream)
}

/// Tab 2, following `TERM` since `T0`, connected on the leader's "c1".
fn lone_follower(tracks: &[&str]) -> Tab {
    let mut tab = lone(2, tracks);
    tab.on_channel(T0, &state(Some("c1"), true));
    drain(&mut tab);
    assert!(tab.machine().is_connected());
    tab
}

/// The stream the tab just opened.
fn opened_stream(actions: &[TabAction]) -> StreamId {
    actions
        .iter()
        .rev()
        .find_map(|a| match a {
            TabAction::Core(Action::OpenStream(s)) => Some(*s),
            _ => None,
        })
        .expect("no stream opened")
}

fn broadcasts(actions: &[TabAction]) -> Vec<Wire> {
    actions
        .iter()
        .filter_map(|a| match a {
            TabAction::Broadcast(wire) => Some(wire.clone()),
            _ => None,
        })
        .collect()
}

/// The `Sessions` reports among the tab's broadcasts.
fn session_reports(actions: &[TabAction]) -> Vec<Wire> {
    broadcasts(actions)
        .into_iter()
        .filter(|w| matches!(w, Wire::Sessions { .. }))
        .collect()
}

/// A follower's report of its sessions to the leader of `TERM`.
fn sessions_from(from: u64, seen: Option<u64>, sessions: &[SessionSeq]) -> Wire {
    Wire::Sessions {
        term: TERM,
        from: TabId(from),
        seen,
        sessions: sessions.to_vec(),
    }
}

/// The leader rebuilds its stream and is welcomed on "c2": what it does then.
fn rebuild(leader: &mut Tab) -> Vec<TabAction> {
    leader.input(T0, |m| m.check_and_reconnect(T0, true));
    let stream = opened_stream(&drain(leader));
    leader.on_welcome(T0, stream, "c2");
    drain(leader)
}

/// The reconnect POST among `actions`: its id and the sessions it asks the server for.
fn reconnect_post(actions: &[TabAction]) -> (PostId, Vec<SessionSeq>) {
    actions
        .iter()
        .find_map(|a| match a {
            TabAction::Core(Action::Post {
                id,
                body: Body::Reconnect(sessions),
                ..
            }) => Some((*id, sessions.clone())),
            _ => None,
        })
        .expect("no reconnect POST")
}

/// The sessions the leader's reconnect POST asks for after a rebuild.
fn reconnect_sessions(leader: &mut Tab) -> Vec<SessionSeq> {
    reconnect_post(&rebuild(leader)).1
}

/// The leader of `TERM` stating the shared stream's state, before any event.
fn state(connection_id: Option<&str>, connected: bool) -> Wire {
    Wire::State {
        term: TERM,
        n: 0,
        connection_id: connection_id.map(Into::into),
        connected,
    }
}

// ─── Leader and followers ────────────────────────────────────────────────────

#[test]
fn the_first_tab_takes_the_lock_and_holds_the_only_stream() {
    let mut w = World::new();

    let a = w.open(&["s0"]);

    assert_eq!(w.leader(), Some(a));
    assert_eq!(w.server.streams_opened, 1);
    assert!(w.slots[a].tab.machine().is_connected());
    assert_eq!(w.slots[a].notices, [Notice::Open]);
}

#[test]
fn more_tabs_follow_and_open_without_a_stream_of_their_own() {
    let mut w = World::new();
    let a = w.open(&["s0"]);

    let tabs: Vec<usize> = (0..7).map(|_| w.open(&["s0"])).collect();

    assert_eq!(w.leader(), Some(a));
    assert_eq!(w.server.streams_opened, 1, "one stream for eight tabs");
    for t in tabs {
        assert!(w.slots[t].tab.machine().is_connected(), "tab {t}");
        assert_eq!(w.slots[t].notices, [Notice::Open]);
        assert_eq!(w.slots[t].tab.machine().connection_id(), Some("c1"));
    }
}

#[test]
fn every_event_reaches_every_tab_once_through_the_channel() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let b = w.open(&["s0"]);
    let c = w.open(&["s1"]);

    let s0 = [w.emit("s0"), w.emit("s0")];
    w.emit("s1");

    for t in [a, b, c] {
        assert_eq!(w.dispatched(t, "s0"), s0, "tab {t}");
        assert_eq!(
            w.dispatched(t, "s1"),
            [1],
            "tab {t}: fan-out is of every event"
        );
        assert!(w.slots[t].dispatched.values().all(|n| *n == 1));
    }
}

#[test]
fn a_follower_posts_its_own_sends_with_the_shared_connection_id() {
    let mut w = World::new();
    w.open(&[]);
    let b = w.open(&[]);
    w.auto_answer = false;

    let msg = w.send(b).unwrap();

    let post = w.server.posts.last().cloned().unwrap();
    assert_eq!((post.tab, post.connection_id.as_str()), (b, "c1"));
    assert_eq!(post.body, Body::Message(msg));
    w.auto_answer = true;
    w.settle();
    assert_eq!(
        w.slots[b].reports[&msg],
        [Fate::Delivered],
        "reported in its tab"
    );
}

/// With the persisted outbox too (the `sse-courier/full` entry): a tab's stored
/// messages are its own. The tab hands its machine's store operations to the shell
/// as they come (a record before its POST, its removal before its report), and the
/// message goes out on the shared connection.
#[test]
fn a_followers_stored_send_is_written_before_it_is_posted_on_the_shared_connection_and_removed_before_its_report(
) {
    let machine = Machine::with_persist(Config::default(), PersistConfig::new("tab-2"), 2);
    let mut tab = Tab::new(machine, TabConfig::new(TabId(2)));
    tab.input(T0, |m| {
        m.connect(T0);
        m.restore(T0, &[], &[]);
    });
    drain(&mut tab);
    tab.on_channel(T0, &state(Some("c1"), true));
    drain(&mut tab);
    assert!(tab.machine().is_connected());

    let sent = tab.input(T0, |m| m.send_keyed(T0, Endpoint::Send, "k1"));
    let SendOutcome::Posted(msg) = sent else {
        panic!("send refused: {sent:?}");
    };
    let Some(OutboxAction::Put { record, .. }) = tab.poll_outbox_action() else {
        panic!("no record written for the stored send");
    };
    assert_eq!(record.key, "k1");
    assert!(tab.poll_outbox_action().is_none());
    let post = drain(&mut tab)
        .into_iter()
        .find_map(|a| match a {
            TabAction::Core(Action::Post {
                id, connection_id, ..
            }) => Some((id, connection_id)),
            _ => None,
        })
        .expect("the send is posted");
    assert_eq!(post.1, "c1", "on the shared connection");

    tab.on_post_answer(T0, post.0, PostOutcome::Accepted);
    assert!(
        matches!(tab.poll_outbox_action(), Some(OutboxAction::Remove { key }) if key == "k1"),
        "the record goes once the fate is known"
    );
    assert!(drain(&mut tab).iter().any(|a| matches!(
        a,
        TabAction::Core(Action::Report { msg: m, fate: Fate::Delivered }) if *m == msg
    )));
}

#[test]
fn every_tab_knows_the_term_and_a_new_leader_starts_a_later_one() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let b = w.open(&["s0"]);
    let first = Term {
        epoch: w.now,
        leader: w.slots[a].tab.id(),
    };
    assert_eq!(w.slots[a].tab.term(), Some(first), "the lock's grant time");
    assert_eq!(
        w.slots[b].tab.term(),
        Some(first),
        "adopted by the follower"
    );

    w.close(a);

    assert_eq!(
        w.slots[b].tab.term(),
        Some(Term {
            epoch: first.epoch + 1,
            leader: w.slots[b].tab.id(),
        }),
        "granted in the same millisecond, yet later"
    );
}

#[test]
fn a_follower_reports_its_sessions_when_its_app_changes_them_and_only_then() {
    let mut b = lone_follower(&["s0"]);

    b.input(T0, |m| m.send(T0, Endpoint::Send));
    let after_send = drain(&mut b);
    b.input(T0, |m| m.track_seq("s1", 4));
    let after_track = drain(&mut b);

    assert!(
        session_reports(&after_send).is_empty(),
        "a send changes no session"
    );
    assert_eq!(
        session_reports(&after_track),
        [Wire::Sessions {
            term: TERM,
            from: TabId(2),
            seen: Some(0),
            sessions: vec![session("s0", 0), session("s1", 4)],
        }]
    );
}

#[test]
fn a_follower_whose_app_connects_again_joins_the_shared_connection_at_once() {
    let mut b = lone_follower(&["s0"]);
    b.input(T0, |m| m.disconnect(T0));
    drain(&mut b);

    b.input(T0, |m| m.connect(T0));

    let actions = drain(&mut b);
    assert!(b.machine().is_connected(), "{actions:?}");
    assert_eq!(b.machine().connection_id(), Some("c1"));
    assert!(actions.contains(&TabAction::RequestLock));
    assert_eq!(
        broadcasts(&actions),
        [Wire::Sessions {
            term: TERM,
            from: TabId(2),
            seen: Some(0),
            sessions: vec![session("s0", 0)],
        }],
        "back in the leader's union; no rebuild"
    );
}

#[test]
fn a_follower_connects_only_once_the_leaders_handshake_on_the_new_connection_is_done() {
    let mut b = lone_follower(&["s0"]);
    b.on_channel(T0, &state(None, false));

    b.on_channel(T0, &state(Some("c2"), false));
    let during_handshake = b.machine().is_connected();
    b.on_channel(T0, &state(Some("c2"), true));

    assert!(
        !during_handshake,
        "its sends wait for the server to have the sessions"
    );
    assert!(b.machine().is_connected());
    assert_eq!(b.machine().connection_id(), Some("c2"));
}

#[test]
fn a_follower_that_missed_the_end_of_its_connection_moves_to_the_one_it_is_told_of() {
    let mut b = lone_follower(&["s0"]);

    // The leader's `State` without a connection was lost (a frozen tab).
    b.on_channel(T0, &state(Some("c2"), true));

    let notices: Vec<Action> = drain(&mut b)
        .into_iter()
        .filter_map(|a| match a {
            TabAction::Core(action @ Action::Notify(_)) => Some(action),
            _ => None,
        })
        .collect();
    assert_eq!(
        notices,
        [Action::Notify(Notice::Close), Action::Notify(Notice::Open)]
    );
    assert!(b.machine().is_connected());
    assert_eq!(b.machine().connection_id(), Some("c2"));
}

#[test]
fn the_leader_announces_a_new_connection_connected_only_once_its_handshake_is_answered() {
    let (mut a, _) = lone_leader(&["s0"]);
    let welcomed = rebuild(&mut a);
    let (post, _) = reconnect_post(&welcomed);

    a.input(T0, |m| m.on_post_answer(T0, post, PostOutcome::Accepted));
    let answered = drain(&mut a);

    assert_eq!(broadcasts(&welcomed), [state(Some("c2"), false)]);
    assert_eq!(broadcasts(&answered), [state(Some("c2"), true)]);
}

// ─── 404s: one stale connection, one reconnect ───────────────────────────────

#[test]
fn a_followers_404_and_the_leaders_404_on_one_connection_cause_one_reconnect() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let tabs = [a, w.open(&["s0"]), w.open(&["s0"]), w.open(&["s0"])];
    w.auto_answer = false;
    w.forget_connection();
    let msgs: Vec<MsgId> = tabs.iter().map(|&t| w.send(t).unwrap()).collect();

    w.auto_answer = true;
    w.settle();

    assert_eq!(w.server.streams_opened, 2, "one rebuild for four 404s");
    assert_eq!(
        w.posts_to(Endpoint::Reconnect),
        1,
        "one handshake for all tabs"
    );
    for (t, msg) in tabs.iter().zip(&msgs) {
        assert_eq!(w.slots[*t].reports[msg], [Fate::Delivered], "tab {t}");
        assert_eq!(w.server.accepted[&(*t, *msg)], 1);
        assert_eq!(w.slots[*t].tab.machine().connection_id(), Some("c2"));
        assert_eq!(
            w.slots[*t].notices,
            [Notice::Open, Notice::Close, Notice::Open],
            "tab {t}"
        );
    }
}

#[test]
fn a_404_from_a_follower_after_the_leader_rebuilt_changes_nothing_more() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let b = w.open(&["s0"]);
    w.auto_answer = false;
    let late = w.send(b).unwrap();
    w.forget_connection();
    w.slots[a]
        .tab
        .input(w.now, |m| m.check_and_reconnect(1_000, true));
    w.settle();
    let streams = w.server.streams_opened;

    let post = w.server.posts.remove(0);
    w.answer(post);
    w.auto_answer = true;
    w.settle();

    assert_eq!(w.server.streams_opened, streams, "no second rebuild");
    assert_eq!(w.slots[b].reports[&late], [Fate::Delivered]);
}

#[test]
fn followers_404s_reaching_the_leader_before_it_notices_still_cause_one_rebuild() {
    let mut w = World::new();
    w.open(&["s0"]);
    let followers = [w.open(&["s0"]), w.open(&["s0"]), w.open(&["s0"])];
    w.auto_answer = false;
    w.forget_connection();
    let msgs: Vec<MsgId> = followers.iter().map(|&t| w.send(t).unwrap()).collect();

    // Every follower meets its 404 before any Rebuild reaches the leader.
    let posts: Vec<SeenPost> = w.server.posts.drain(..).collect();
    for post in posts {
        w.answer(post);
    }
    w.auto_answer = true;
    w.settle();

    assert_eq!(
        w.server.streams_opened, 2,
        "three Rebuild requests, one rebuild"
    );
    for (t, msg) in followers.iter().zip(&msgs) {
        assert_eq!(w.slots[*t].reports[msg], [Fate::Delivered], "tab {t}");
    }
}

#[test]
fn a_follower_frozen_while_the_leader_rebuilt_is_told_the_new_connection_when_it_asks_to_rebuild_the_old_one(
) {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let b = w.open(&["s0"]);
    // The leader replaces its connection (c1 -> c2) while b misses every message.
    w.slots[b].frozen = true;
    let now = w.now;
    w.slots[a]
        .tab
        .input(now, |m| m.check_and_reconnect(now, true));
    w.settle();
    w.slots[b].frozen = false;

    // b sends on c1, meets 404 and asks the leader to rebuild c1, which is gone.
    let msg = w.send(b).unwrap();
    w.advance(60_000);

    assert_eq!(
        w.server.streams_opened, 2,
        "no rebuild for a connection already replaced"
    );
    assert!(
        w.slots[b].tab.machine().is_connected(),
        "b joined the new connection"
    );
    assert_eq!(w.slots[b].reports[&msg], [Fate::Delivered]);
}

#[test]
fn a_follower_asks_the_leader_once_to_rebuild_and_waits_for_the_new_connection() {
    let mut b = lone_follower(&["s0"]);

    b.input(T0, |m| m.check_and_reconnect(T0, true));
    let first = drain(&mut b);
    b.input(T0, |m| m.check_and_reconnect(T0, true));
    let second = drain(&mut b);
    let waiting = b.machine().is_connected();
    b.on_channel(T0, &state(None, false));
    b.on_channel(T0, &state(Some("c2"), true));

    assert_eq!(
        broadcasts(&first),
        [Wire::Rebuild {
            term: TERM,
            connection_id: "c1".into(),
        }]
    );
    assert!(broadcasts(&second).is_empty(), "asked once per connection");
    assert!(!waiting, "not back on the connection it asked to replace");
    assert!(b.machine().is_connected());
    assert_eq!(b.machine().connection_id(), Some("c2"));
}

// ─── Sessions of every tab survive a reconnect ───────────────────────────────

#[test]
fn the_reconnect_post_carries_every_tabs_sessions_at_the_lowest_seq() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    w.emit("s0");
    w.emit("s0");
    let b = w.open(&["s1"]);
    w.slots[b].tab.input(w.now, |m| m.track_seq("s0", 1));
    w.settle();

    w.slots[a]
        .tab
        .input(w.now, |m| m.check_and_reconnect(1_000, true));
    w.settle();

    assert_eq!(
        w.server.reconnect_bodies,
        [vec![session("s0", 1), session("s1", 0)]]
    );
    assert_eq!(
        w.dispatched(a, "s0"),
        [1, 2],
        "a saw s0:2 already: not twice"
    );
    assert_eq!(
        w.dispatched(b, "s0"),
        [2],
        "b asked for s0 from 1 and got s0:2"
    );
}

#[test]
fn the_union_follows_the_events_every_follower_was_sent_so_replay_stays_short() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    w.open(&["s1"]);
    w.emit("s1");
    w.emit("s1");

    w.slots[a]
        .tab
        .input(w.now, |m| m.check_and_reconnect(1_000, true));
    w.settle();

    assert_eq!(
        w.server.reconnect_bodies,
        [vec![session("s0", 0), session("s1", 2)]],
        "s1 at 2, not at the 0 the follower reported when it joined"
    );
}

#[test]
fn events_stored_while_the_stream_was_down_are_replayed_to_every_tab_once() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let b = w.open(&["s0"]);
    w.emit("s0");
    w.forget_connection();
    w.emit("s0");
    w.emit("s0");

    w.send(b);

    for t in [a, b] {
        assert_eq!(w.dispatched(t, "s0"), [1, 2, 3], "tab {t}");
        assert!(w.slots[t].dispatched.values().all(|n| *n == 1));
    }
}

#[test]
fn a_report_made_before_events_still_in_flight_is_brought_up_to_date_by_them() {
    let (mut a, stream) = lone_leader(&["s0"]);
    a.on_channel(T0, &sessions_from(2, None, &[session("s0", 0)]));
    a.on_event(T0, stream, Some("s2"), Some(1));
    a.on_event(T0, stream, Some("s0"), Some(1));

    // Tab 2 reports again as of before both events, which reach it after.
    a.on_channel(T0, &sessions_from(2, Some(0), &[session("s0", 0)]));

    assert_eq!(
        reconnect_sessions(&mut a),
        [session("s0", 1), session("s2", 1)],
        "tab 2 is owed nothing up to s0:1 and s2:1, which it was sent"
    );
}

#[test]
fn a_session_a_follower_stops_tracking_is_no_longer_asked_for() {
    let (mut a, stream) = lone_leader(&["s0"]);
    a.on_channel(
        T0,
        &sessions_from(2, None, &[session("s0", 0), session("s3", 0)]),
    );
    a.on_event(T0, stream, Some("s0"), Some(1));

    // Tab 2's app clears s3 before the event reaches it.
    a.on_channel(T0, &sessions_from(2, Some(0), &[session("s0", 0)]));

    assert_eq!(reconnect_sessions(&mut a), [session("s0", 1)]);
}

#[test]
fn a_follower_that_says_bye_is_forgotten_and_the_others_are_kept() {
    let (mut a, _) = lone_leader(&["s0"]);
    a.on_channel(T0, &sessions_from(2, None, &[session("s1", 0)]));
    a.on_channel(T0, &sessions_from(3, None, &[session("s2", 0)]));

    a.on_channel(
        T0,
        &Wire::Bye {
            term: TERM,
            from: TabId(3),
        },
    );

    assert_eq!(
        reconnect_sessions(&mut a),
        [session("s0", 0), session("s1", 0)]
    );
}

// ─── Failover ────────────────────────────────────────────────────────────────

#[test]
fn when_the_leader_closes_another_tab_takes_over_and_replays_what_it_missed_once() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let b = w.open(&["s0"]);
    let c = w.open(&["s1"]);
    w.emit("s0");
    w.emit("s1");

    w.close(a);
    let stored_meanwhile = [w.emit("s0"), w.emit("s1")];
    w.settle();

    let leader = w.leader().unwrap();
    assert_ne!(leader, a);
    assert_eq!(w.server.streams_opened, 2);
    for t in [b, c] {
        assert!(w.slots[t].tab.machine().is_connected(), "tab {t}");
        assert_eq!(w.dispatched(t, "s0"), [1, stored_meanwhile[0]], "tab {t}");
        assert_eq!(w.dispatched(t, "s1"), [1, stored_meanwhile[1]], "tab {t}");
        assert!(w.slots[t].dispatched.values().all(|n| *n == 1));
    }
}

#[test]
fn a_followers_report_reaching_the_new_leader_after_its_handshake_still_gets_its_replay() {
    let mut w = World::new();
    let a = w.open(&["s1"]);
    w.open(&["s1"]);
    let c = w.open(&["s0"]);
    // An event of s0 is stored while no stream carries it.
    w.forget_connection();
    let stored = w.emit("s0");
    w.fast_streams = true;

    // The new leader's stream is welcomed, and its handshake posted, before c's
    // report of s0 (sent on seeing the new term) reaches it.
    w.close(a);

    assert_eq!(w.dispatched(c, "s0"), [stored], "replayed to c, once");
    assert!(w.slots[c].tab.machine().is_connected());
}

#[test]
fn a_catch_up_asks_only_what_the_handshake_lacked_and_rebuilds_the_connection_if_it_fails() {
    let (mut a, _) = lone_leader(&["s0"]);
    rebuild(&mut a);

    // A tab of the earlier connection reports for the first time, after the handshake.
    a.on_channel(
        T0,
        &sessions_from(2, Some(0), &[session("s0", 0), session("s5", 2)]),
    );
    let (post, sessions) = reconnect_post(&drain(&mut a));
    a.on_post_answer(T0, post, PostOutcome::NetworkError);
    let failed = drain(&mut a);

    assert_eq!(sessions, [session("s5", 2)], "s0 from 0 was asked already");
    opened_stream(&failed);
    assert_eq!(
        broadcasts(&failed),
        [state(None, false)],
        "the connection is rebuilt"
    );
}

#[test]
fn a_catch_up_answered_ok_keeps_the_connection() {
    let (mut a, _) = lone_leader(&["s0"]);
    rebuild(&mut a);
    a.on_channel(T0, &sessions_from(2, Some(0), &[session("s5", 2)]));
    let (post, _) = reconnect_post(&drain(&mut a));

    a.on_post_answer(T0, post, PostOutcome::Accepted);

    let answered = drain(&mut a);
    assert!(
        answered.is_empty(),
        "nothing rebuilt or announced: {answered:?}"
    );
    assert_eq!(a.machine().connection_id(), Some("c2"));
}

#[test]
fn every_tab_of_the_earlier_connection_reporting_after_the_handshake_gets_its_own_catch_up() {
    let (mut a, _) = lone_leader(&["s0"]);
    rebuild(&mut a);
    a.on_channel(T0, &sessions_from(2, Some(0), &[session("s5", 2)]));
    drain(&mut a);

    // A second tab of the earlier connection reports, after the first one.
    a.on_channel(T0, &sessions_from(3, Some(0), &[session("s6", 4)]));

    let (_, sessions) = reconnect_post(&drain(&mut a));
    assert_eq!(sessions, [session("s6", 4)]);
}

#[test]
fn a_catch_up_asks_again_for_a_session_the_handshake_asked_from_a_higher_seq() {
    let (mut a, _) = lone_leader(&["s0"]);
    // The leader's app is at s0:3: its handshake asks s0 from 3.
    a.input(T0, |m| m.track_seq("s0", 3));
    assert_eq!(reconnect_sessions(&mut a), [session("s0", 3)]);

    // A tab of the earlier connection is owed s0 from 1.
    a.on_channel(T0, &sessions_from(2, Some(0), &[session("s0", 1)]));

    let (_, sessions) = reconnect_post(&drain(&mut a));
    assert_eq!(sessions, [session("s0", 1)], "seqs 2 and 3 replayed to it");
}

#[test]
fn a_tab_new_to_the_stream_reporting_after_the_handshake_gets_no_catch_up() {
    let (mut a, _) = lone_leader(&["s0"]);
    rebuild(&mut a);

    // A new tab (it has processed no event: `seen` unset) joins the connection. As a
    // page's first welcome posts no handshake, its joining asks for no replay.
    a.on_channel(T0, &sessions_from(2, None, &[session("s5", 2)]));

    let actions = drain(&mut a);
    assert_eq!(broadcasts(&actions), [state(Some("c2"), false)], "restated");
    assert_eq!(actions.len(), 1, "no reconnect POST: {actions:?}");
}

#[test]
fn a_tab_that_never_had_a_welcome_and_takes_over_posts_the_handshake_the_others_need() {
    // Tab 2 joined while its leader's stream was down, and never had a welcome.
    let mut b = lone(2, &["s0"]);
    b.on_channel(T0, &Wire::Leader { term: TERM });
    // The leader closes; tab 2 is next in the lock's queue.
    b.on_lock_granted(T0 + 10);
    let term = b.term().unwrap();
    let stream = opened_stream(&drain(&mut b));
    b.on_channel(
        T0 + 10,
        &Wire::Sessions {
            term,
            from: TabId(3),
            seen: Some(0),
            sessions: vec![session("s1", 4)],
        },
    );

    b.on_welcome(T0 + 20, stream, "c2");

    let (_, sessions) = reconnect_post(&drain(&mut b));
    assert_eq!(
        sessions,
        [session("s0", 0), session("s1", 4)],
        "tab 3 was on the old leader's connection: what it missed is replayed"
    );
}

#[test]
fn sends_queued_during_failover_are_delivered_once_on_the_new_connection() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let b = w.open(&["s0"]);
    w.auto_answer = false;
    let msg = w.send(b).unwrap();

    w.close(a);
    w.auto_answer = true;
    w.settle();

    assert_eq!(w.slots[b].reports[&msg], [Fate::Delivered]);
    assert_eq!(w.server.accepted[&(b, msg)], 1);
    assert_eq!(w.slots[b].tab.machine().connection_id(), Some("c2"));
}

#[test]
fn a_frozen_leader_is_replaced_after_leader_silence_ms_by_stealing_the_lock() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let b = w.open(&["s0"]);
    w.slots[a].frozen = true;
    w.forget_connection();

    w.advance(4_000);
    assert_eq!(
        w.leader(),
        Some(a),
        "a heartbeat gap is not yet a frozen leader"
    );
    w.advance(2_000);

    assert!(w.slots[b].tab.is_leader());
    assert!(w.slots[b].tab.machine().is_connected());
    w.slots[a].frozen = false;
    w.advance(1_000);
    assert!(!w.slots[a].tab.is_leader(), "the thawed tab follows");
    assert!(w.slots[a].tab.machine().is_connected());
    assert_eq!(w.slots[a].tab.machine().connection_id(), Some("c2"));
}

#[test]
fn two_followers_stealing_in_the_same_millisecond_leave_the_lock_and_the_stream_to_the_last_thief()
{
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let b = w.open(&["s0"]);
    let c = w.open(&["s0"]);
    w.slots[a].frozen = true;
    w.now += 5_000;
    let now = w.now;
    // c's silence timer fires first: it steals and leads the term (now, c)...
    w.slots[c].tab.on_timeout(now);
    w.run_actions(c);
    // ...and in the same millisecond, before c's `Leader` reaches it, b steals last:
    // its term (now, b) is lower by tab id, yet b holds the lock.
    w.slots[b].tab.on_timeout(now);
    w.settle();
    w.advance(2_000);
    let seq = w.emit("s0");

    assert_eq!(w.leader(), Some(b), "the lock's holder leads");
    assert_eq!(
        w.slots[b].tab.term(),
        Some(Term {
            epoch: now,
            leader: w.slots[b].tab.id(),
        }),
        "no third term"
    );
    assert_eq!(w.slots[c].tab.term(), w.slots[b].tab.term(), "c follows b");
    let connection = w.slots[b].tab.machine().connection_id().map(String::from);
    for t in [b, c] {
        assert!(w.slots[t].tab.machine().is_connected(), "tab {t}");
        assert_eq!(
            w.slots[t].tab.machine().connection_id(),
            connection.as_deref()
        );
        assert_eq!(w.dispatched(t, "s0"), [seq], "tab {t}");
    }
}

#[test]
fn a_thief_that_lost_the_lock_in_the_same_millisecond_follows_the_holder_with_a_lower_id() {
    let mut c = lone(3, &["s0"]);
    c.on_channel(T0, &state(Some("c1"), true));
    let steal_at = T0 + 5_000;
    c.on_timeout(steal_at);
    c.on_lock_granted(steal_at);
    // Tab 2 stole the lock from it in the same millisecond.
    c.on_lock_lost(steal_at);
    drain(&mut c);
    let holder = Term {
        epoch: steal_at,
        leader: TabId(2),
    };

    // Tab 2's claim compares lower than c's own lost term; its state says it leads.
    c.on_channel(steal_at, &Wire::Leader { term: holder });
    c.on_channel(
        steal_at + 100,
        &Wire::State {
            term: holder,
            n: 0,
            connection_id: Some("c2".into()),
            connected: true,
        },
    );

    assert_eq!(c.term(), Some(holder));
    assert!(c.machine().is_connected());
    assert_eq!(c.machine().connection_id(), Some("c2"));
}

#[test]
fn a_leader_that_hears_a_claim_of_its_own_millisecond_keeps_leading_until_the_lock_says_otherwise()
{
    let (mut a, stream) = lone_leader(&["s0"]);
    // A tab granted the lock in the same millisecond, and higher by tab id: one of the
    // two lost it, and only the lock knows which.
    let rival = Term {
        epoch: T0,
        leader: TabId(9),
    };

    a.on_channel(T0 + 10, &Wire::Leader { term: rival });

    let actions = drain(&mut a);
    assert!(a.is_leader());
    assert_eq!(a.term(), Some(TERM));
    assert!(!actions.contains(&TabAction::Core(Action::CloseStream(stream))));
}

#[test]
fn a_follower_ignores_a_late_bare_claim_of_its_leaders_millisecond_from_a_lower_tab_id() {
    // Tab 2 follows tab 5, which stole the lock at T0, and is connected on its "c2".
    let holder = Term {
        epoch: T0,
        leader: TabId(5),
    };
    let mut b = lone(2, &["s0"]);
    b.on_channel(
        T0,
        &Wire::State {
            term: holder,
            n: 0,
            connection_id: Some("c2".into()),
            connected: true,
        },
    );
    drain(&mut b);

    // Tab 3's claim of the same millisecond arrives late (it stole first and lost).
    let loser = Term {
        epoch: T0,
        leader: TabId(3),
    };
    b.on_channel(T0 + 10, &Wire::Leader { term: loser });

    let actions = drain(&mut b);
    assert_eq!(b.term(), Some(holder));
    assert!(actions.is_empty(), "no _close, no report: {actions:?}");
    assert!(b.machine().is_connected());
}

#[test]
fn a_leader_that_loses_the_lock_closes_its_stream_says_so_and_queues_again() {
    let (mut a, stream) = lone_leader(&["s0"]);

    a.on_lock_lost(T0 + 10);

    let actions = drain(&mut a);
    assert!(!a.is_leader());
    assert!(actions.contains(&TabAction::Core(Action::CloseStream(stream))));
    assert!(
        !a.machine().is_connected(),
        "its app sees the connection end"
    );
    assert_eq!(
        broadcasts(&actions),
        [state(None, false)],
        "the followers learn the connection is gone"
    );
    assert!(
        actions.contains(&TabAction::RequestLock),
        "its app still wants the stream"
    );
}

#[test]
fn a_leader_that_hears_of_a_later_term_follows_it_at_once() {
    let (mut a, stream) = lone_leader(&["s0"]);
    let later = Term {
        epoch: T0 + 1,
        leader: TabId(9),
    };

    a.on_channel(T0 + 10, &Wire::Leader { term: later });

    let actions = drain(&mut a);
    assert!(!a.is_leader());
    assert_eq!(a.term(), Some(later));
    assert!(actions.contains(&TabAction::Core(Action::CloseStream(stream))));
    assert!(actions.contains(&TabAction::RequestLock));
}

#[test]
fn a_thawed_leader_that_followed_a_later_term_before_hearing_its_lock_lost_keeps_its_new_request() {
    let (mut a, _) = lone_leader(&["s0"]);
    let thief = Term {
        epoch: T0 + 1,
        leader: TabId(9),
    };
    // Thawed, it hears the thief first: it follows and queues for the lock again...
    a.on_channel(T0 + 10, &Wire::Leader { term: thief });
    drain(&mut a);
    // ...then the shell reports the old lock stolen, and later grants the new request.
    a.on_lock_lost(T0 + 10);
    a.on_lock_granted(T0 + 20);

    let actions = drain(&mut a);
    assert!(
        a.is_leader(),
        "it leads the term its new request was granted: {actions:?}"
    );
    assert!(!actions.contains(&TabAction::ReleaseLock));
}

#[test]
fn a_lock_granted_to_a_tab_that_never_asked_for_it_is_handed_back() {
    // Its machine connected before the tab was made around it: it never queued.
    let mut machine = Machine::new(Config::default(), 2);
    machine.connect(T0);
    let mut b = Tab::new(machine, TabConfig::new(TabId(2)));

    b.on_lock_granted(T0);

    assert_eq!(drain(&mut b), [TabAction::ReleaseLock]);
    assert!(!b.is_leader());
    assert_eq!(b.term(), None, "no term started");
}

#[test]
fn the_leader_heartbeats_every_heartbeat_ms_and_not_on_an_early_timer() {
    let (mut a, _) = lone_leader(&["s0"]);
    assert_eq!(a.poll_timeout(), Some(T0 + 1_000));

    a.on_timeout(T0 + 999);
    let early = drain(&mut a);
    a.on_timeout(T0 + 1_000);
    let due = drain(&mut a);

    assert!(early.is_empty(), "{early:?}");
    assert_eq!(due, [TabAction::Broadcast(Wire::Heartbeat { term: TERM })]);
    assert_eq!(a.poll_timeout(), Some(T0 + 2_000));
}

#[test]
fn a_follower_steals_the_lock_only_after_leader_silence_ms_without_a_word() {
    let mut b = lone_follower(&["s0"]);
    assert_eq!(b.poll_timeout(), Some(T0 + 5_000));

    b.on_timeout(T0 + 3_000);
    let early = drain(&mut b);
    b.on_channel(T0 + 4_000, &Wire::Heartbeat { term: TERM });
    let deadline = b.poll_timeout();
    b.on_timeout(T0 + 8_999);
    let before = drain(&mut b);
    b.on_timeout(T0 + 9_000);
    let silent = drain(&mut b);

    assert!(
        early.is_empty() && before.is_empty(),
        "{early:?} {before:?}"
    );
    assert_eq!(
        deadline,
        Some(T0 + 9_000),
        "the heartbeat restarts the count"
    );
    assert_eq!(silent, [TabAction::StealLock]);
}

// ─── A lock the browser refuses ──────────────────────────────────────────────

#[test]
fn a_tab_refused_the_lock_leaves_sharing_and_holds_its_own_stream() {
    let mut w = World::new();
    w.refuse_locks = true;

    let a = w.open(&["s0"]);
    let seq = w.emit("s0");
    let msg = w.send(a).unwrap();

    assert!(!w.slots[a].tab.is_sharing());
    assert_eq!(w.server.streams_opened, 1);
    assert!(w.slots[a].tab.machine().is_connected());
    assert_eq!(w.slots[a].notices, [Notice::Open]);
    assert_eq!(w.dispatched(a, "s0"), [seq]);
    assert_eq!(w.slots[a].reports[&msg], [Fate::Delivered]);
}

#[test]
fn a_follower_refused_the_lock_says_bye_and_moves_to_a_stream_of_its_own() {
    let mut b = lone_follower(&["s0"]);

    b.on_lock_refused(T0);
    let leaving = drain(&mut b);
    let stream = opened_stream(&leaving);
    b.on_welcome(T0, stream, "c9");
    let (post, sessions) = reconnect_post(&drain(&mut b));
    b.input(T0, |m| m.on_post_answer(T0, post, PostOutcome::Accepted));
    drain(&mut b);
    let own_event = b.on_event(T0, stream, Some("s0"), Some(1));
    let relayed = b.on_channel(
        T0,
        &Wire::Event {
            term: TERM,
            n: 1,
            session_id: Some("s0".into()),
            seq: Some(2),
        },
    );

    assert!(!b.is_sharing());
    assert_eq!(
        broadcasts(&leaving),
        [Wire::Bye {
            term: TERM,
            from: TabId(2),
        }],
        "the leader forgets its sessions"
    );
    assert!(
        leaving.contains(&TabAction::Core(Action::Notify(Notice::Close))),
        "it leaves the shared connection"
    );
    assert_eq!(sessions, [session("s0", 0)], "its own handshake, not held");
    assert!(b.machine().is_connected());
    assert_eq!(b.machine().connection_id(), Some("c9"));
    assert_eq!(own_event, EventVerdict::Dispatch);
    assert_eq!(relayed, EventVerdict::Ignored, "the channel is no more its");
    assert_eq!(
        b.poll_timeout(),
        None,
        "no silence timer: it steals nothing"
    );
}

#[test]
fn a_refusal_of_no_request_the_tab_is_waiting_on_changes_nothing() {
    // A leader's request was granted; a follower that disconnected abandoned its own.
    let (mut a, _) = lone_leader(&["s0"]);
    let mut b = lone_follower(&["s0"]);
    b.input(T0, |m| m.disconnect(T0));
    drain(&mut b);
    assert!(a.is_sharing() && b.is_sharing());

    a.on_lock_refused(T0);
    b.on_lock_refused(T0);

    for (tab, name) in [(&mut a, "leader"), (&mut b, "follower")] {
        assert!(tab.is_sharing(), "{name}");
        assert!(drain(tab).is_empty(), "{name}: no Bye, no stream");
    }
    assert!(a.is_leader());
}

#[test]
fn a_tab_alone_keeps_the_events_of_its_own_stream_off_the_channel() {
    let mut b = lone_follower(&["s0"]);
    b.on_lock_refused(T0);
    let stream = opened_stream(&drain(&mut b));
    b.on_welcome(T0, stream, "c9");
    drain(&mut b);

    let verdict = b.on_event(T0, stream, Some("s0"), Some(1));

    assert_eq!(verdict, EventVerdict::Dispatch);
    let actions = drain(&mut b);
    assert!(broadcasts(&actions).is_empty(), "{actions:?}");
}

// ─── The leader's stream ─────────────────────────────────────────────────────

#[test]
fn an_error_on_the_leaders_stream_ends_the_connection_in_every_tab_until_the_next_welcome() {
    let mut w = World::new();
    let a = w.open(&["s0"]);
    let b = w.open(&["s0"]);
    w.emit("s0");

    w.stream_error();

    for t in [a, b] {
        assert_eq!(
            w.slots[t].notices,
            [Notice::Open, Notice::Close, Notice::Open],
            "tab {t}"
        );
        assert_eq!(w.slots[t].tab.machine().connection_id(), Some("c2"));
        assert!(w.slots[t].tab.machine().is_connected(), "tab {t}");
    }
    assert_eq!(w.server.streams_opened, 1, "the browser's own retry");
    assert_eq!(
        w.server.reconnect_bodies,
        [vec![session("s0", 1)]],
        "one handshake for both tabs"
    );
}

#[test]
fn a_leaders_stream_the_browser_gave_up_on_is_reopened_after_the_reconnect_delay() {
    let (mut a, stream) = lone_leader(&["s0"]);

    a.on_stream_error(T0, stream, true);
    let closed = drain(&mut a);
    a.on_timeout(T0 + 499);
    let early = drain(&mut a);
    a.on_timeout(T0 + 500);
    let reopened = drain(&mut a);

    assert!(closed.contains(&TabAction::Core(Action::CloseStream(stream))));
    assert_eq!(broadcasts(&closed), [state(None, false)]);
    assert!(early.is_empty(), "{early:?}");
    assert_ne!(opened_stream(&reopened), stream);
}

#[test]
fn a_followers_stale_after_ms_leaves_a_quiet_shared_stream_to_its_heartbeating_leader() {
    // The leader's machine watches the real stream: it sees every event, malformed
    // ones included, which the channel does not carry.
    let config = Config {
        stale_after_ms: Some(10_000),
        ..Config::default()
    };
    let mut b = lone_with(2, config, &["s0"]);
    b.on_channel(T0, &state(Some("c1"), true));
    drain(&mut b);

    // Thirty quiet seconds: no event, a heartbeat every second.
    let mut actions = Vec::new();
    for second in 1..=30 {
        let now = T0 + second * 1_000;
        b.on_channel(now, &Wire::Heartbeat { term: TERM });
        if b.poll_timeout().is_some_and(|t| t <= now) {
            b.on_timeout(now);
        }
        actions.extend(drain(&mut b));
    }

    assert!(
        actions.is_empty(),
        "no rebuild asked, no _close: {actions:?}"
    );
    assert!(b.machine().is_connected());
}

#[test]
fn a_late_welcome_event_or_error_from_a_stream_the_leader_replaced_changes_nothing() {
    let (mut a, old) = lone_leader(&[]);
    a.on_channel(T0, &sessions_from(2, None, &[session("s1", 0)]));
    a.input(T0, |m| m.check_and_reconnect(T0, true));
    let new = opened_stream(&drain(&mut a));

    a.on_welcome(T0, old, "c-late");
    let late_welcome = drain(&mut a);
    let tracked = a.machine().tracked_sessions().count();
    a.on_welcome(T0, new, "c2");
    drain(&mut a);
    let verdict = a.on_event(T0, old, Some("s1"), Some(1));
    a.on_stream_error(T0, old, true);
    let late_rest = drain(&mut a);

    assert!(late_welcome.is_empty(), "{late_welcome:?}");
    assert_eq!(
        tracked, 0,
        "no handshake prepared for a stream it does not hold"
    );
    assert_eq!(verdict, EventVerdict::Ignored);
    assert!(
        late_rest.is_empty(),
        "nothing closed or announced: {late_rest:?}"
    );
    assert_eq!(a.machine().connection_id(), Some("c2"));
}

// ─── Off by default ──────────────────────────────────────────────────────────

#[test]
fn a_follower_that_disconnects_leaves_the_lock_queue_and_gets_nothing() {
    let mut w = World::new();
    w.open(&["s0"]);
    let b = w.open(&["s0"]);

    w.slots[b].tab.input(w.now, |m| m.disconnect(1_000));
    w.settle();
    w.emit("s0");

    assert!(!w.waiting.contains(&b));
    assert!(w.dispatched(b, "s0").is_empty());
}

#[test]
fn a_follower_that_disconnected_keeps_no_timer_never_steals_and_stays_quiet_under_a_new_leader() {
    let mut b = lone_follower(&["s0"]);
    b.input(T0, |m| m.disconnect(T0));
    let leaving = drain(&mut b);

    let timer = b.poll_timeout();
    b.on_timeout(T0 + 60_000);
    let after_silence = drain(&mut b);
    let later = Term {
        epoch: T0 + 60_000,
        leader: TabId(3),
    };
    b.on_channel(T0 + 60_000, &Wire::Leader { term: later });
    let under_new_leader = drain(&mut b);

    assert_eq!(
        leaving,
        [
            TabAction::ReleaseLock,
            TabAction::Broadcast(Wire::Bye {
                term: TERM,
                from: TabId(2),
            }),
        ],
        "it leaves the lock queue and the leader forgets its sessions"
    );
    assert_eq!(timer, None);
    assert!(after_silence.is_empty(), "{after_silence:?}");
    assert!(
        under_new_leader.is_empty(),
        "no report: it said bye: {under_new_leader:?}"
    );
}

#[test]
fn a_leader_whose_app_disconnects_releases_the_lock_and_says_the_connection_is_gone() {
    let (mut a, stream) = lone_leader(&["s0"]);

    a.input(T0, |m| m.disconnect(T0));

    let actions = drain(&mut a);
    assert!(!a.is_leader());
    assert!(actions.contains(&TabAction::Core(Action::CloseStream(stream))));
    assert!(
        actions.contains(&TabAction::ReleaseLock),
        "the next tab takes over"
    );
    assert_eq!(broadcasts(&actions), [state(None, false)], "and no bye");
}

// ─── The property ────────────────────────────────────────────────────────────

#[derive(Clone, Debug)]
enum Op {
    Open(u8),
    Close(usize),
    Emit(usize),
    Send(usize),
    Forget,
    Rebuild(usize),
    Track(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0u8..8).prop_map(Op::Open),
        1 => any::<usize>().prop_map(Op::Close),
        5 => (0usize..3).prop_map(Op::Emit),
        4 => any::<usize>().prop_map(Op::Send),
        1 => Just(Op::Forget),
        1 => any::<usize>().prop_map(Op::Rebuild),
        1 => (any::<usize>(), 0usize..3).prop_map(|(t, s)| Op::Track(t, s)),
    ]
}

fn alive(w: &World) -> Vec<usize> {
    (0..w.slots.len()).filter(|&i| w.slots[i].alive).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// The property: random tab opens and closes (the leader's included),
    /// events, sends, forgotten connections and forced rebuilds, with every message
    /// settled in FIFO order. Every event reaches every live tab that tracks its
    /// session exactly once, and every send ends with exactly one fate.
    #[test]
    fn every_event_reaches_every_live_tab_once_and_every_send_has_one_fate(
        ops in prop::collection::vec(op(), 1..60)
    ) {
        let mut w = World::new();
        w.open(&["s0"]);
        for op in ops {
            let live = alive(&w);
            match op {
                Op::Open(mask) => {
                    let tracks: Vec<&str> = (0..3).filter(|b| mask & (1 << b) != 0)
                        .map(|b| SESSIONS[b]).collect();
                    if live.len() < 8 { w.open(&tracks); }
                }
                Op::Close(k) if !live.is_empty() => w.close(live[k % live.len()]),
                Op::Emit(s) => { w.emit(SESSIONS[s]); }
                Op::Send(k) if !live.is_empty() => { w.send(live[k % live.len()]); }
                Op::Forget => w.forget_connection(),
                Op::Rebuild(k) if !live.is_empty() => {
                    let t = live[k % live.len()];
                    w.slots[t].tab.input(w.now, |m| m.check_and_reconnect(1_000, true));
                    w.settle();
                }
                Op::Track(k, s) if !live.is_empty() => {
                    // The app loaded history up to now and tracks the session from there.
                    let t = live[k % live.len()];
                    let seq = w.stored(SESSIONS[s]);
                    let session = SESSIONS[s];
                    w.slots[t].tab.input(w.now, |m| m.track_seq(session, seq));
                    // From now on it expects exactly the events after `seq`.
                    w.slots[t].tracks.retain(|(x, _)| x != session);
                    w.slots[t].tracks.push((session.into(), seq));
                    w.settle();
                }
                _ => {}
            }
            for slot in &w.slots {
                prop_assert!(slot.dispatched.values().all(|n| *n == 1), "an event twice");
                prop_assert!(slot.reports.values().all(|f| f.len() == 1), "a fate twice");
            }
        }
        // Quiesce: a send from every live tab makes a forgotten connection show up.
        for t in alive(&w) { w.send(t); }
        w.advance(10_000);
        if alive(&w).is_empty() { return Ok(()); }
        prop_assert!(w.leader().is_some(), "no leader");
        for t in alive(&w) {
            let slot = &w.slots[t];
            prop_assert!(slot.tab.machine().is_connected(), "tab {} not connected", t);
            for (s, from) in &slot.tracks {
                let want: Vec<u64> = (from + 1..=w.stored(s)).collect();
                let got: Vec<u64> = w.dispatched(t, s).into_iter().filter(|q| q > from).collect();
                prop_assert_eq!(got, want, "tab {} session {}", t, s);
            }
            for msg in &slot.sent {
                let fates = slot.reports.get(msg).cloned().unwrap_or_default();
                prop_assert_eq!(fates.len(), 1, "tab {} {:?}", t, msg);
                let accepted = w.server.accepted.get(&(t, *msg)).copied().unwrap_or(0);
                prop_assert_eq!(accepted, u32::from(fates[0] == Fate::Delivered));
            }
        }
    }
}
