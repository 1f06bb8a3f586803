//! Test rig for the delivery core: plays the shell by hand (drains actions after
//! every input, keeps the clock), plus helpers that pick POSTs, reports, notices and
//! streams out of the actions. Included by `core_scenarios.rs` with `#[path]`
//! (`core_properties.rs` drives the machine with its own fake shell and server);
//! built alone it holds no tests.
#![cfg(not(target_arch = "wasm32"))]
#![allow(dead_code)]

use sse_courier::core::{
    Action, Body, Config, Endpoint, Fate, Machine, MsgId, Notice, PostId, PostOutcome, SendOutcome,
    StreamId,
};

/// A machine, a clock, and everything the machine asked for so far.
pub struct Rig {
    pub m: Machine,
    pub now: u64,
    pub log: Vec<Action>,
}

impl Rig {
    pub fn new(config: Config) -> Self {
        Rig {
            m: Machine::new(config, 0x5EED),
            now: 1_000,
            log: Vec::new(),
        }
    }

    /// Connected on its first welcome, `conn-abc`, with the actions drained.
    pub fn connected(config: Config) -> Self {
        let mut rig = Rig::new(config);
        rig.connect();
        rig.welcome("conn-abc");
        rig
    }

    pub fn drain(&mut self) -> Vec<Action> {
        let actions: Vec<Action> = std::iter::from_fn(|| self.m.poll_action()).collect();
        self.log.extend(actions.iter().cloned());
        actions
    }

    pub fn connect(&mut self) -> Vec<Action> {
        self.m.connect(self.now);
        self.drain()
    }

    /// The current stream; panics if there is none (a test bug).
    pub fn stream(&self) -> StreamId {
        self.m.current_stream().expect("no current stream")
    }

    /// A welcome on the current stream.
    pub fn welcome(&mut self, connection_id: &str) -> Vec<Action> {
        let stream = self.stream();
        self.m.on_welcome(self.now, stream, connection_id);
        self.drain()
    }

    pub fn send(&mut self, endpoint: Endpoint) -> (SendOutcome, Vec<Action>) {
        let outcome = self.m.send(self.now, endpoint);
        (outcome, self.drain())
    }

    /// Sends and returns the message id, whether posted or queued.
    pub fn send_id(&mut self, endpoint: Endpoint) -> MsgId {
        match self.send(endpoint).0 {
            SendOutcome::Posted(id) | SendOutcome::Queued(id) => id,
            SendOutcome::Refused => panic!("send refused"),
        }
    }

    pub fn answer(&mut self, post: PostId, outcome: PostOutcome) -> Vec<Action> {
        self.m.on_post_answer(self.now, post, outcome);
        self.drain()
    }

    pub fn stream_error(&mut self) -> Vec<Action> {
        let stream = self.stream();
        self.m.on_stream_error(self.now, stream, false);
        self.drain()
    }

    pub fn check_and_reconnect(&mut self, force: bool) -> Vec<Action> {
        self.m.check_and_reconnect(self.now, force);
        self.drain()
    }

    /// Moves the clock by `ms` and fires what came due, as the shell's host timer.
    pub fn advance(&mut self, ms: u64) -> Vec<Action> {
        self.now += ms;
        if self.m.poll_timeout().is_some_and(|t| t <= self.now) {
            self.m.on_timeout(self.now);
        }
        self.drain()
    }

    /// Like vitest's `runAllTimers`: jumps to each deadline until none is left.
    pub fn run_timers(&mut self) -> Vec<Action> {
        let mut actions = Vec::new();
        for _ in 0..1_000 {
            let Some(at) = self.m.poll_timeout() else {
                return actions;
            };
            self.now = self.now.max(at);
            self.m.on_timeout(self.now);
            actions.extend(self.drain());
        }
        panic!("timers keep re-arming themselves");
    }
}

/// A POST as the fake server sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenPost {
    pub id: PostId,
    pub endpoint: Endpoint,
    pub connection_id: String,
    pub body: Body,
    /// Whether the request must outlive the page (`fetch`'s `keepalive`).
    pub keepalive: bool,
}

pub fn posts(actions: &[Action]) -> Vec<SeenPost> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Post {
                id,
                endpoint,
                connection_id,
                body,
                keepalive,
            } => Some(SeenPost {
                id: *id,
                endpoint: *endpoint,
                connection_id: connection_id.clone(),
                body: body.clone(),
                keepalive: *keepalive,
            }),
            _ => None,
        })
        .collect()
}

pub fn endpoints(actions: &[Action]) -> Vec<Endpoint> {
    posts(actions).iter().map(|p| p.endpoint).collect()
}

/// The messages posted, in order.
pub fn posted_msgs(actions: &[Action]) -> Vec<MsgId> {
    posts(actions)
        .iter()
        .filter_map(|p| match p.body {
            Body::Message(id) => Some(id),
            _ => None,
        })
        .collect()
}

/// The one POST to `endpoint` among `actions`.
pub fn post_to(actions: &[Action], endpoint: Endpoint) -> PostId {
    let found: Vec<SeenPost> = posts(actions)
        .into_iter()
        .filter(|p| p.endpoint == endpoint)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one POST to {endpoint:?} in {actions:?}"
    );
    found[0].id
}

/// The POST that carried message `msg`.
pub fn post_of(actions: &[Action], msg: MsgId) -> PostId {
    posts(actions)
        .into_iter()
        .find(|p| p.body == Body::Message(msg))
        .map(|p| p.id)
        .unwrap_or_else(|| panic!("{msg:?} was not posted in {actions:?}"))
}

pub fn reports(actions: &[Action]) -> Vec<(MsgId, Fate)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Report { msg, fate } => Some((*msg, *fate)),
            _ => None,
        })
        .collect()
}

pub fn notices(actions: &[Action]) -> Vec<Notice> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Notify(n) => Some(*n),
            _ => None,
        })
        .collect()
}

pub fn opened(actions: &[Action]) -> Vec<StreamId> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::OpenStream(s) => Some(*s),
            _ => None,
        })
        .collect()
}

pub fn closed(actions: &[Action]) -> Vec<StreamId> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::CloseStream(s) => Some(*s),
            _ => None,
        })
        .collect()
}
