//! One stream for all tabs (opt-in, off by default; docs/shared-stream.md): which
//! tab's `Machine` holds the real stream, what the tabs tell each other over the
//! channel, and how every tab's own `Machine` is fed so that each keeps every
//! delivery rule for its own sends, reports and de-duplication.
//!
//! A [`Tab`] owns the tab's [`Machine`]. The shell feeds it the lock (granted,
//! lost), what arrived on the channel ([`Wire`]), the leader's stream, and every
//! other input of the `Machine` through [`Driver::input`]; it drains
//! [`Tab::poll_action`] ([`TabAction`]) and keeps one host timer at
//! [`Tab::poll_timeout`]. The core never touches Web Locks or `BroadcastChannel`.
//!
//! - The leader's `Machine` holds the real stream; every event from it is fed to
//!   the leader's `Machine` and broadcast, numbered, to the followers.
//! - A follower's `Machine` holds a *virtual* stream: its `OpenStream` and
//!   `CloseStream` never reach the shell; the leader's welcome, events and stream
//!   ends are fed to it from the channel. It posts its own messages with the
//!   shared connection id; its reconnect POST is never sent but answered from the
//!   leader's (one handshake per connection), and its 404s ask the leader to rebuild
//!   that connection ([`Wire::Rebuild`], coalesced by connection id).
//! - The leader's reconnect POST carries the union of the sessions of every tab,
//!   each at the lowest last seq any tab has for it: the leader keeps a model of
//!   each follower's sessions (its report, then every event broadcast after the
//!   point the report was made at).

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::action::{Action, Body, SessionSeq};
use super::driver::Driver;
use super::endpoint::Endpoint;
use super::ids::{PostId, StreamId};
use super::machine::Machine;
use super::outcome::{EventVerdict, PostOutcome};
use super::persist::OutboxAction;
use super::seq;
use super::sessions::Sessions;

/// One tab (one page load): a random id the shell draws at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TabId(pub u64);

/// A leadership term: a higher one wins. `epoch` is the time the lock was granted
/// (at least the last epoch seen plus one), so a tab whose view is stale (it was
/// frozen) still starts a term above the others; two tabs granted in the same
/// millisecond (a steal race) are told apart by tab id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Term {
    pub epoch: u64,
    pub leader: TabId,
}

/// The leader heartbeats this often by default.
pub const DEFAULT_HEARTBEAT_MS: u64 = 1_000;
/// A follower that has heard nothing from its leader for this long steals the lock
/// (the leader is frozen or gone without releasing it).
pub const DEFAULT_LEADER_SILENCE_MS: u64 = 5_000;
/// Broadcast events the leader remembers to settle a follower's report made before
/// them (a report in flight while events were in flight the other way).
const RECENT_EVENTS: usize = 1_024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TabConfig {
    pub id: TabId,
    pub heartbeat_ms: u64,
    /// Must exceed `heartbeat_ms` by the worst timer delay of a visible tab.
    pub leader_silence_ms: u64,
}

impl TabConfig {
    pub fn new(id: TabId) -> Self {
        TabConfig {
            id,
            heartbeat_ms: DEFAULT_HEARTBEAT_MS,
            leader_silence_ms: DEFAULT_LEADER_SILENCE_MS,
        }
    }
}

/// What the tabs post on the channel. `n` numbers the events of a term, from 1.
///
/// Serialised (the shell posts it as is), a message is an object tagged by its `kind`
/// (`"leader"`, `"state"`, …), every field under its own name in camelCase: a message
/// another tab cannot read as one of these is ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Wire {
    /// A tab took the lock and now holds the stream.
    Leader { term: Term },
    /// Leader → all: the shared stream's state after broadcast `n`: `connection_id`
    /// is the welcome of the current stream (`None`: no welcomed stream), and
    /// `connected` says its handshake is done.
    State {
        term: Term,
        n: u64,
        connection_id: Option<String>,
        connected: bool,
    },
    /// Leader → all: an event of the stream; the shell carries its data beside.
    Event {
        term: Term,
        n: u64,
        session_id: Option<String>,
        seq: Option<u64>,
    },
    /// Leader → all: alive (the frozen-leader detection).
    Heartbeat { term: Term },
    /// Follower → leader: the sessions it tracks, as of having processed the
    /// term's events up to `seen` (`None`: it is new and has processed none).
    Sessions {
        term: Term,
        from: TabId,
        seen: Option<u64>,
        sessions: Vec<SessionSeq>,
    },
    /// Follower → leader: its POST met 404 on `connection_id` (or its app forced a
    /// rebuild): rebuild it, unless that connection is already gone.
    Rebuild { term: Term, connection_id: String },
    /// Follower → leader: it no longer wants the stream (disconnect, free).
    Bye { term: Term, from: TabId },
}

/// What the shell must do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TabAction {
    /// Carry out as without sharing (in a follower no `OpenStream`/`CloseStream`).
    Core(Action),
    /// `channel.postMessage(wire)` (for `Event`, with the event's data beside it).
    Broadcast(Wire),
    /// `navigator.locks.request(name, cb)`: queue for leadership.
    RequestLock,
    /// `navigator.locks.request(name, {steal: true}, cb)`: the leader is silent.
    StealLock,
    /// Release the lock, or abort the queued request.
    ReleaseLock,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    Follower,
    Leader,
    /// Left sharing (the lock was refused): the machine alone, with a real stream.
    Alone,
}

/// The shared stream as a follower knows it from its leader.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Shared {
    connection_id: Option<String>,
    connected: bool,
}

/// A follower as its leader models it.
#[derive(Clone, Debug)]
struct Member {
    id: TabId,
    sessions: Sessions,
}

/// One tab's part in the shared stream, around its own `Machine`.
#[derive(Clone, Debug)]
pub struct Tab {
    machine: Machine,
    config: TabConfig,
    role: Role,
    term: Option<Term>,
    /// The shell holds or has requested the lock.
    wants_lock: bool,
    actions: Vec<TabAction>,
    // Follower side.
    shared: Shared,
    seen: Option<u64>,
    held_reconnect: Option<PostId>,
    rebuild_asked: Option<String>,
    heard_at: u64,
    // Leader side.
    real_stream: Option<StreamId>,
    welcomed_stream: Option<StreamId>,
    told: Shared,
    n: u64,
    recent: Vec<(u64, String, u64)>,
    members: Vec<Member>,
    heartbeat_at: u64,
    /// What the current connection's handshake asked the server for (with catch-ups),
    /// once one was posted.
    asked: Option<Vec<SessionSeq>>,
    /// Catch-up reconnect POSTs in flight, with their connection.
    catch_ups: Vec<(PostId, String)>,
}

impl Tab {
    /// A tab around `machine`, a follower until the shell reports the lock granted.
    pub fn new(machine: Machine, config: TabConfig) -> Self {
        Tab {
            machine,
            config,
            role: Role::Follower,
            term: None,
            wants_lock: false,
            actions: Vec::new(),
            shared: Shared::default(),
            seen: None,
            held_reconnect: None,
            rebuild_asked: None,
            heard_at: 0,
            real_stream: None,
            welcomed_stream: None,
            told: Shared::default(),
            n: 0,
            recent: Vec::new(),
            members: Vec::new(),
            heartbeat_at: 0,
            asked: None,
            catch_ups: Vec::new(),
        }
    }

    /// A tab that does not share: the machine alone, with a real stream of its own, as
    /// without the feature (the option off, a page without Web Locks or
    /// `BroadcastChannel`). A tab the browser refused the lock ends up the same way
    /// ([`Tab::on_lock_refused`]).
    pub fn alone(machine: Machine, config: TabConfig) -> Self {
        let mut tab = Tab::new(machine, config);
        tab.role = Role::Alone;
        tab
    }

    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    pub fn term(&self) -> Option<Term> {
        self.term
    }

    pub fn id(&self) -> TabId {
        self.config.id
    }

    /// The lock was granted: this tab leads a new term.
    pub fn on_lock_granted(&mut self, now: u64) {
        if !self.wants_lock || !self.wants_stream() {
            self.actions.push(TabAction::ReleaseLock);
            self.wants_lock = false;
            return;
        }
        let epoch = self
            .term
            .map_or(now, |t| now.max(t.epoch.saturating_add(1)));
        if self.term.is_some() {
            // It takes over from a leader: the followers may have been on that
            // leader's connection, so the first welcome needs a handshake with their
            // sessions even if this tab never had one (it joined while the stream was
            // down).
            self.machine.welcomed_before = true;
        }
        let term = Term {
            epoch,
            leader: self.config.id,
        };
        self.term = Some(term);
        self.role = Role::Leader;
        self.n = 0;
        self.recent.clear();
        self.members.clear();
        self.told = Shared::default();
        self.welcomed_stream = None;
        self.asked = None;
        self.heartbeat_at = now.saturating_add(self.config.heartbeat_ms);
        self.actions
            .push(TabAction::Broadcast(Wire::Leader { term }));
        // The old leader's connection died with it.
        self.make_stream_real(now);
        self.after(now);
    }

    /// The lock was taken away (stolen from a frozen tab) or released by the browser.
    pub fn on_lock_lost(&mut self, now: u64) {
        // A tab that is no longer leader gave that lock up already (it followed a
        // later term, a thawed leader hearing its thief first) and queued again: the
        // loss is of the old lock, and its new request stands.
        if self.role == Role::Leader {
            self.wants_lock = false;
            self.demote(now);
            self.after(now);
        }
    }

    /// The browser refused the lock request (it failed other than by the tab's own
    /// abandoning it: an opaque origin, a sandboxed frame...). A tab that cannot hold
    /// the lock can never replace a leader that closes or freezes, so following one
    /// would leave it without a stream for good: it leaves sharing instead, says
    /// `Bye`, and its machine's stream becomes a real one of its own, as without the
    /// option. For good: the tab goes on as [`Tab::alone`] would.
    pub fn on_lock_refused(&mut self, now: u64) {
        if self.role != Role::Follower || !self.wants_lock {
            // A leader's request was granted; a request the tab gave up is not its.
            return;
        }
        self.wants_lock = false;
        let term = self.current_term();
        self.actions.push(TabAction::Broadcast(Wire::Bye {
            term,
            from: self.config.id,
        }));
        self.role = Role::Alone;
        self.make_stream_real(now);
    }

    /// A follower's virtual stream becomes a real one (it leads, or it is alone now):
    /// rebuilt, so that its machine opens a stream the shell carries out, and the
    /// handshake the follower held for the leader's connection dropped as failed.
    fn make_stream_real(&mut self, now: u64) {
        let was_connected = self.machine.is_connected();
        if self.machine.current_stream().is_some() {
            self.machine.check_and_reconnect(now, true);
        }
        if let Some(post) = self.held_reconnect.take() {
            self.machine
                .on_post_answer(now, post, PostOutcome::NetworkError);
        }
        self.pump(now, was_connected);
    }

    /// Whether the tab still shares the stream (false once the lock was refused).
    pub fn is_sharing(&self) -> bool {
        self.role != Role::Alone
    }

    /// A message from the channel. For an `Event`, the verdict on it for this tab's
    /// listener (`Dispatch`: hand the data beside it to the app).
    pub fn on_channel(&mut self, now: u64, wire: &Wire) -> EventVerdict {
        if self.role == Role::Alone {
            return EventVerdict::Ignored;
        }
        let verdict = self.receive(now, wire);
        self.after(now);
        verdict
    }

    fn current_term(&self) -> Term {
        self.term.unwrap_or(Term {
            epoch: 0,
            leader: self.config.id,
        })
    }

    /// The app wants a connection: the `Machine` has a stream or is recovering.
    fn wants_stream(&self) -> bool {
        self.machine.current_stream().is_some() || self.machine.poll_timeout().is_some()
    }

    /// A leader's message of `term`: whether this tab follows it (now). `claim`: it is
    /// a `Leader` message, which says only that its tab was granted the lock.
    fn heard_from(&mut self, term: Term, now: u64, claim: bool) -> bool {
        match self.term {
            Some(t) if term == t => {
                if self.role == Role::Follower {
                    self.heard_at = now;
                    // The shared stream's liveness is the leader's to judge (its machine
                    // sees every event, malformed ones included, and rebuilds a silent
                    // stream): a word from it keeps this tab's `staleAfterMs` watchdog
                    // quiet, which would otherwise ask for a rebuild of a quiet stream.
                    self.machine.last_activity = now;
                }
                self.role == Role::Follower
            }
            // Two tabs granted the lock in the same millisecond (a steal race): the lock
            // is with the one that stole last, whichever id is higher. A leader keeps
            // leading until the lock says it lost (`on_lock_lost`); a follower, the
            // losing thief included, follows the term whose leader still speaks (a
            // heartbeat, a state, an event): the loser went quiet when it lost.
            Some(t) if term.epoch == t.epoch => {
                if self.role == Role::Leader || claim && term < t {
                    return false;
                }
                self.adopt(now, term);
                true
            }
            Some(t) if term < t => false,
            _ => {
                self.adopt(now, term);
                true
            }
        }
    }

    /// A newer term: follow it (a leader that sees one lost its lock).
    fn adopt(&mut self, now: u64, term: Term) {
        if self.role == Role::Leader {
            self.demote(now);
        }
        // A tab that followed an older term was listening all along: it will
        // process every event of the new one. A new tab reported `seen: None`.
        let new_tab = self.term.is_none();
        self.term = Some(term);
        self.heard_at = now;
        self.seen = if new_tab { None } else { Some(0) };
        self.rebuild_asked = None;
        // The old connection is gone with its leader.
        self.shared_changed(
            now,
            Shared {
                connection_id: None,
                connected: false,
            },
        );
        if self.wants_stream() && !new_tab {
            self.hello();
        }
    }

    fn receive(&mut self, now: u64, wire: &Wire) -> EventVerdict {
        match wire {
            Wire::Leader { term } => {
                self.heard_from(*term, now, true);
            }
            Wire::Heartbeat { term } => {
                self.heard_from(*term, now, false);
            }
            Wire::State {
                term,
                n,
                connection_id,
                connected,
            } => {
                if self.heard_from(*term, now, false) {
                    self.seen = Some(self.seen.unwrap_or(0).max(*n));
                    let shared = Shared {
                        connection_id: connection_id.clone(),
                        connected: *connected,
                    };
                    self.shared_changed(now, shared);
                }
            }
            Wire::Event {
                term,
                n,
                session_id,
                seq,
            } => {
                if self.heard_from(*term, now, false) {
                    self.seen = Some(*n);
                    if let Some(stream) = self.machine.current_stream() {
                        return self
                            .machine
                            .on_event(now, stream, session_id.as_deref(), *seq);
                    }
                }
            }
            Wire::Sessions {
                term,
                from,
                seen,
                sessions,
            } => {
                // A new tab does not know the term yet.
                if self.leads(*term) || self.role == Role::Leader && seen.is_none() {
                    let known = self.members.iter().any(|m| m.id == *from);
                    self.member_report(*from, *seen, sessions);
                    if !known && seen.is_some() {
                        self.catch_up();
                    }
                    // The tab may not know the shared stream's state (new, or back
                    // from a freeze that lost it messages): state it again.
                    self.restate();
                }
            }
            Wire::Rebuild {
                term,
                connection_id,
            } => {
                if self.leads(*term) {
                    if self.told.connection_id.as_deref() == Some(connection_id.as_str()) {
                        let was_connected = self.machine.is_connected();
                        self.welcomed_stream = None;
                        self.machine.check_and_reconnect(now, true);
                        self.pump(now, was_connected);
                    } else {
                        // A follower behind (frozen through a rebuild) asks about a
                        // connection already gone: tell it the current one, or it waits
                        // for ever on a connection nobody will announce.
                        self.restate();
                    }
                }
            }
            Wire::Bye { term, from } => {
                if self.leads(*term) {
                    self.members.retain(|m| m.id != *from);
                }
            }
        }
        EventVerdict::Ignored
    }

    /// `stream` is this tab's real stream (a leader's, or a tab's alone).
    fn holds(&self, stream: StreamId) -> bool {
        self.role != Role::Follower && self.real_stream == Some(stream)
    }

    fn leads(&self, term: Term) -> bool {
        self.role == Role::Leader && self.term == Some(term)
    }

    /// The leader's model of a follower: its report, then the events broadcast
    /// after the point it was made at (they reach the follower after it).
    fn member_report(&mut self, from: TabId, seen: Option<u64>, sessions: &[SessionSeq]) {
        let mut model = Sessions::default();
        for s in sessions {
            model.track(&s.session_id, s.last_seq);
        }
        let old = self
            .members
            .iter()
            .position(|m| m.id == from)
            .and_then(|at| seq::remove_at(&mut self.members, at));
        if let Some(seen) = seen {
            let covered = self.recent.first().map_or(self.n, |(n, _, _)| n - 1) <= seen;
            if !covered {
                // Events between its report and what is remembered are lost to the
                // model: keep every session the old model had, from seq 0.
                if let Some(old) = &old {
                    for id in old.sessions.ids() {
                        if model.last_seq(id).is_none() {
                            model.track(id, 0);
                        }
                    }
                }
            }
            for (n, s, q) in &self.recent {
                if *n > seen {
                    model.observe(s, *q);
                }
            }
        }
        self.members.push(Member {
            id: from,
            sessions: model,
        });
    }

    /// Leader: a tab of an earlier connection (it reported a point in the term, `seen`)
    /// reported for the first time after this connection's handshake was posted (at
    /// failover its report may come after the new leader's welcome): ask the server,
    /// on the same connection, for what that handshake lacked of its sessions (one
    /// missing, or asked from a higher seq than it is owed from).
    fn catch_up(&mut self) {
        let (Some(asked), Some(member), Some(connection_id)) = (
            self.asked.as_mut(),
            self.members.last(),
            self.machine.connection_id().map(String::from),
        ) else {
            return;
        };
        let mut missing = Vec::new();
        for s in member.sessions.snapshot() {
            match asked.iter_mut().find(|a| a.session_id == s.session_id) {
                Some(a) if a.last_seq <= s.last_seq => continue,
                Some(a) => a.last_seq = s.last_seq,
                None => asked.push(s.clone()),
            }
            missing.push(s);
        }
        if missing.is_empty() {
            return;
        }
        let id = self.machine.alloc_post();
        self.catch_ups.push((id, connection_id.clone()));
        self.actions.push(TabAction::Core(Action::Post {
            id,
            endpoint: Endpoint::Reconnect,
            connection_id,
            body: Body::Reconnect(missing),
            keepalive: false,
        }));
    }

    /// The union of every tab's sessions, each at the lowest last seq.
    fn union(&self, own: &[SessionSeq]) -> Vec<SessionSeq> {
        let mut all: Vec<SessionSeq> = own.to_vec();
        for member in &self.members {
            for s in member.sessions.snapshot() {
                match all.iter_mut().find(|a| a.session_id == s.session_id) {
                    Some(a) => a.last_seq = a.last_seq.min(s.last_seq),
                    None => all.push(s),
                }
            }
        }
        all
    }

    fn hello(&mut self) {
        let term = self.current_term();
        self.actions.push(TabAction::Broadcast(Wire::Sessions {
            term,
            from: self.config.id,
            seen: self.seen,
            sessions: self.machine.sessions.snapshot(),
        }));
    }

    fn report(&mut self) {
        self.hello();
    }

    /// Follower: the leader says the shared stream changed.
    fn shared_changed(&mut self, now: u64, shared: Shared) {
        if shared == self.shared {
            return;
        }
        let old = core::mem::replace(&mut self.shared, shared.clone());
        let was_connected = self.machine.is_connected();
        let Some(stream) = self.machine.current_stream() else {
            return;
        };
        if old.connection_id.is_some() && old.connection_id != shared.connection_id {
            // The connection this tab was on ended.
            self.rebuild_asked = None;
            self.machine.on_stream_error(now, stream, false);
            if let Some(post) = self.held_reconnect.take() {
                self.machine
                    .on_post_answer(now, post, PostOutcome::NetworkError);
            }
        }
        if let Some(id) = &shared.connection_id {
            if self.machine.connection_id() != Some(id.as_str()) || old.connection_id.is_none() {
                self.machine.on_welcome(now, stream, id);
            }
        }
        self.pump(now, was_connected);
        self.settle_handshake(now);
    }

    /// Follower: answer the held reconnect POST once the leader's handshake on the
    /// same connection is done.
    fn settle_handshake(&mut self, now: u64) {
        if !self.shared.connected
            || self.shared.connection_id.as_deref() != self.machine.connection_id()
        {
            return;
        }
        if let Some(post) = self.held_reconnect.take() {
            let was_connected = self.machine.is_connected();
            self.machine
                .on_post_answer(now, post, PostOutcome::Accepted);
            self.pump(now, was_connected);
        }
    }

    fn demote(&mut self, now: u64) {
        if self.told.connection_id.is_some() {
            let term = self.current_term();
            self.actions.push(TabAction::Broadcast(Wire::State {
                term,
                n: self.n,
                connection_id: None,
                connected: false,
            }));
        }
        self.told = Shared::default();
        self.role = Role::Follower;
        // Not silent yet: the new leader's heartbeat is due within `heartbeat_ms`.
        self.heard_at = now;
        self.members.clear();
        self.recent.clear();
        self.shared = Shared::default();
        let was_connected = self.machine.is_connected();
        if let Some(stream) = self.real_stream.take() {
            self.actions
                .push(TabAction::Core(Action::CloseStream(stream)));
            if self.machine.current_stream() == Some(stream) {
                self.machine.on_stream_error(now, stream, false);
            }
        }
        self.welcomed_stream = None;
        self.pump(now, was_connected);
        if self.wants_stream() {
            self.wants_lock = true;
            self.actions.push(TabAction::RequestLock);
        }
    }

    /// Drains the `Machine`, turning its actions into the tab's.
    fn pump(&mut self, now: u64, mut was_connected: bool) {
        while let Some(action) = self.machine.poll_action() {
            match (self.role.clone(), action) {
                (Role::Leader | Role::Alone, Action::OpenStream(s)) => {
                    self.real_stream = Some(s);
                    self.actions.push(TabAction::Core(Action::OpenStream(s)));
                }
                (Role::Leader | Role::Alone, Action::CloseStream(s)) => {
                    if self.real_stream == Some(s) {
                        self.real_stream = None;
                        self.actions.push(TabAction::Core(Action::CloseStream(s)));
                    }
                }
                (
                    Role::Leader,
                    Action::Post {
                        id,
                        endpoint: Endpoint::Reconnect,
                        connection_id,
                        body: Body::Reconnect(own),
                        keepalive,
                    },
                ) => {
                    let union = self.union(&own);
                    self.asked = Some(union.clone());
                    let body = Body::Reconnect(union);
                    self.actions.push(TabAction::Core(Action::Post {
                        id,
                        endpoint: Endpoint::Reconnect,
                        connection_id,
                        body,
                        keepalive,
                    }));
                }
                (Role::Follower, Action::OpenStream(_)) => {
                    let shared_id = self.shared.connection_id.clone();
                    match shared_id {
                        // A 404 or a forced rebuild: the leader rebuilds, once (asked
                        // once per connection here, and coalesced by id there).
                        Some(id)
                            if was_connected
                                && self.machine.connection_id() == Some(&id)
                                && self.rebuild_asked.as_deref() != Some(id.as_str()) =>
                        {
                            self.rebuild_asked = Some(id.clone());
                            let term = self.current_term();
                            self.actions.push(TabAction::Broadcast(Wire::Rebuild {
                                term,
                                connection_id: id,
                            }));
                        }
                        Some(id) if was_connected && self.machine.connection_id() == Some(&id) => {}
                        Some(id) if self.rebuild_asked.as_deref() != Some(id.as_str()) => {
                            if let Some(stream) = self.machine.current_stream() {
                                self.machine.on_welcome(now, stream, &id);
                            }
                        }
                        _ => {}
                    }
                    if !self.wants_lock {
                        self.wants_lock = true;
                        self.actions.push(TabAction::RequestLock);
                        self.hello();
                    }
                    was_connected = self.machine.is_connected();
                }
                (Role::Follower, Action::CloseStream(_)) => {}
                (
                    Role::Follower,
                    Action::Post {
                        id,
                        endpoint: Endpoint::Reconnect,
                        ..
                    },
                ) => {
                    self.held_reconnect = Some(id);
                }
                (_, other) => self.actions.push(TabAction::Core(other)),
            }
        }
        if self.role == Role::Follower {
            self.settle_handshake(now);
        }
        if !self.wants_stream() && self.wants_lock {
            self.wants_lock = false;
            self.actions.push(TabAction::ReleaseLock);
            if self.role == Role::Follower {
                let term = self.current_term();
                self.actions.push(TabAction::Broadcast(Wire::Bye {
                    term,
                    from: self.config.id,
                }));
            } else {
                self.demote(now);
            }
        }
    }

    fn restate(&mut self) {
        let term = self.current_term();
        self.actions.push(TabAction::Broadcast(Wire::State {
            term,
            n: self.n,
            connection_id: self.told.connection_id.clone(),
            connected: self.told.connected,
        }));
    }

    /// Leader: tell the followers when the shared stream's state changed.
    fn after(&mut self, _now: u64) {
        if self.role != Role::Leader {
            return;
        }
        let welcomed = self.welcomed_stream.is_some()
            && self.welcomed_stream == self.machine.current_stream()
            && self.real_stream == self.welcomed_stream;
        let now_state = Shared {
            connection_id: if welcomed {
                self.machine.connection_id().map(Into::into)
            } else {
                None
            },
            connected: welcomed && self.machine.is_connected(),
        };
        if now_state != self.told {
            self.told = now_state.clone();
            let term = self.current_term();
            self.actions.push(TabAction::Broadcast(Wire::State {
                term,
                n: self.n,
                connection_id: now_state.connection_id,
                connected: now_state.connected,
            }));
        }
    }
}

impl Driver for Tab {
    type Action = TabAction;

    fn machine(&self) -> &Machine {
        &self.machine
    }

    fn poll_action(&mut self) -> Option<TabAction> {
        seq::pop_front(&mut self.actions)
    }

    /// The machine's persisted-outbox operations (drained before `poll_action`, as
    /// without a tab). Straight through: a tab's stored messages are its own, and no
    /// other tab hears of them (each page owns its records; docs/persisted-outbox.md).
    fn poll_outbox_action(&mut self) -> Option<OutboxAction> {
        self.machine.poll_outbox_action()
    }

    /// Any `Machine` input (`connect`, `send`, `track_seq`, lifecycle...), then the
    /// sharing decisions it implies. The leader's stream inputs have their own
    /// methods ([`Tab::on_welcome`], [`Tab::on_event`], [`Tab::on_stream_error`]).
    fn input<R>(&mut self, now: u64, input: impl FnOnce(&mut Machine) -> R) -> R {
        let before = self.machine.sessions.snapshot();
        let was_connected = self.machine.is_connected();
        let result = input(&mut self.machine);
        self.pump(now, was_connected);
        if self.role == Role::Follower && self.machine.sessions.snapshot() != before {
            self.report();
        }
        self.after(now);
        result
    }

    /// A POST's answer: a catch-up reconnect's is the tab's (a failed one rebuilds the
    /// connection, whose handshake then carries every tab's sessions); any other is
    /// the machine's, as through [`Driver::input`].
    fn on_post_answer(&mut self, now: u64, post: PostId, outcome: PostOutcome) {
        let Some(at) = self.catch_ups.iter().position(|(id, _)| *id == post) else {
            self.input(now, |m| m.on_post_answer(now, post, outcome));
            return;
        };
        let (_, connection_id) = self.catch_ups.swap_remove(at);
        if !outcome.is_ok()
            && self.role == Role::Leader
            && self.machine.connection_id() == Some(connection_id.as_str())
        {
            let was_connected = self.machine.is_connected();
            self.welcomed_stream = None;
            self.machine.check_and_reconnect(now, true);
            self.pump(now, was_connected);
            self.after(now);
        }
    }

    /// The leader's welcome on its real stream.
    fn on_welcome(&mut self, now: u64, stream: StreamId, connection_id: &str) {
        if !self.holds(stream) {
            return;
        }
        let was_connected = self.machine.is_connected();
        // A new connection: what it was asked for is its own handshake's (posted now).
        self.asked = None;
        if self.machine.sessions.is_empty() {
            // Its `Machine` posts no handshake without sessions of its own; the
            // followers' sessions need one: track them here (every tab observes every
            // event anyway, so it would track them at the next one).
            for s in self.union(&[]) {
                self.machine.track_seq(&s.session_id, s.last_seq);
            }
        }
        self.machine.on_welcome(now, stream, connection_id);
        if self.machine.current_stream() == Some(stream) {
            self.welcomed_stream = Some(stream);
        }
        self.pump(now, was_connected);
        self.after(now);
    }

    /// An event on the leader's real stream: fed to its `Machine` and broadcast.
    fn on_event(
        &mut self,
        now: u64,
        stream: StreamId,
        session_id: Option<&str>,
        seq: Option<u64>,
    ) -> EventVerdict {
        if !self.holds(stream) {
            return EventVerdict::Ignored;
        }
        let verdict = self.machine.on_event(now, stream, session_id, seq);
        if verdict != EventVerdict::Ignored && self.role == Role::Leader {
            self.n += 1;
            if let (Some(s), Some(q)) = (session_id, seq) {
                for member in &mut self.members {
                    member.sessions.observe(s, q);
                }
                if self.recent.len() >= RECENT_EVENTS {
                    seq::pop_front(&mut self.recent);
                }
                self.recent.push((self.n, s.into(), q));
            }
            let term = self.current_term();
            self.actions.push(TabAction::Broadcast(Wire::Event {
                term,
                n: self.n,
                session_id: session_id.map(Into::into),
                seq,
            }));
        }
        verdict
    }

    /// `onerror` of the leader's real stream.
    fn on_stream_error(&mut self, now: u64, stream: StreamId, closed: bool) {
        if !self.holds(stream) {
            return;
        }
        let was_connected = self.machine.is_connected();
        self.welcomed_stream = None;
        self.machine.on_stream_error(now, stream, closed);
        self.pump(now, was_connected);
        self.after(now);
    }

    /// The earliest deadline of the tab and its `Machine`.
    fn poll_timeout(&self) -> Option<u64> {
        let own = match self.role {
            Role::Leader => Some(self.heartbeat_at),
            Role::Follower if self.wants_stream() && self.term.is_some() => {
                Some(self.heard_at.saturating_add(self.config.leader_silence_ms))
            }
            Role::Follower | Role::Alone => None,
        };
        match (own, self.machine.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_timeout(&mut self, now: u64) {
        if self.machine.poll_timeout().is_some_and(|t| t <= now) {
            let was_connected = self.machine.is_connected();
            self.machine.on_timeout(now);
            self.pump(now, was_connected);
        }
        match self.role {
            Role::Leader if self.heartbeat_at <= now => {
                self.heartbeat_at = now.saturating_add(self.config.heartbeat_ms);
                let term = self.current_term();
                self.actions
                    .push(TabAction::Broadcast(Wire::Heartbeat { term }));
            }
            Role::Follower
                if self.wants_stream()
                    && self.term.is_some()
                    && self.heard_at.saturating_add(self.config.leader_silence_ms) <= now =>
            {
                // The frozen-leader rule: silent for `leader_silence_ms`, steal.
                self.heard_at = now;
                self.wants_lock = true;
                self.actions.push(TabAction::StealLock);
            }
            _ => {}
        }
        self.after(now);
    }
}
