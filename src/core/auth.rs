//! The authentication latch (`Config::auth_latch`; docs/delivery-rules.md, rule 24):
//! whether authentication is lost, what losing it settles, and what it holds back.
//!
//! Authentication is lost on an `auth_expired` event of the current stream, on a 401
//! from the check the core asks for after every stream error (`Action::CheckAuth`,
//! answered through `on_auth_check`), or when the app says so
//! (`invalidate_authentication`, or `block_authentication` before it connects).
//! Latching closes the stream and cancels any reconnect (the phase becomes
//! `Disconnected`, or stays `Idle`), so nothing is posted and `send` is refused for as
//! long as it lasts; the only ways back to a stream, `connect` and
//! `check_and_reconnect`, are held here until `restore_authentication`. The reconnect
//! schedule does not wait for a check's answer: a 401 that comes latches, and cancels
//! whatever reconnect was scheduled meanwhile.

use alloc::vec::Vec;

use super::action::{Action, Notice, Warning};
use super::ids::{PostId, StreamId};
use super::lifecycle::Phase;
use super::machine::Machine;
use super::outcome::{DropReason, FailReason, Fate, PostOutcome};
use super::queue::Pending;
use super::stats::bump;

/// Where authentication stands.
#[derive(Clone, Debug, Default)]
pub(crate) struct Auth {
    latched: bool,
    /// While latched: the app wants the stream (it connected and did not disconnect
    /// since), so that restoring reopens it.
    resume: bool,
    /// The checks asked for and not answered since the last latch or restore: an
    /// answer to any other changes nothing.
    checks: Vec<PostId>,
}

impl Machine {
    /// Whether authentication is latched (lost): no stream, no POST, `send` refused.
    pub fn auth_latched(&self) -> bool {
        self.auth.latched
    }

    /// Whether the latch is on (`Config::auth_latch`): the shell watches the stream
    /// for `auth_expired` and carries out `Action::CheckAuth`.
    pub fn auth_latch_on(&self) -> bool {
        self.config.auth_latch
    }

    /// An `auth_expired` event on `stream`: latched, the listener told `_auth_lost`,
    /// when it is the current stream.
    pub fn on_auth_expired(&mut self, _now: u64, stream: StreamId) {
        if self.config.auth_latch && self.phase.stream() == Some(stream) {
            self.latch(true);
        }
    }

    /// The answer to the check `Action::CheckAuth(check)` asked for: a 401 latches;
    /// anything else lets the usual reconnect go on.
    pub fn on_auth_check(&mut self, _now: u64, check: PostId, outcome: PostOutcome) {
        let Some(at) = self.auth.checks.iter().position(|c| *c == check) else {
            return;
        };
        self.auth.checks.swap_remove(at);
        if outcome == PostOutcome::Status(401) {
            self.latch(true);
        }
    }

    /// `blockAuthentication()`: latched from now on, quietly (the app knows): for an
    /// app that has no credentials yet, before it connects.
    pub fn block_authentication(&mut self, _now: u64) {
        if self.config.auth_latch {
            self.latch(false);
        }
    }

    /// `invalidateAuthentication()`: latched as if the server had said so.
    pub fn invalidate_authentication(&mut self, _now: u64) {
        if self.config.auth_latch {
            self.latch(true);
        }
    }

    /// `restoreAuthentication()`: unlatched, and the stream rebuilt (opened, when the
    /// app wanted it while latched), so that it is made with the new credentials.
    pub fn restore_authentication(&mut self, now: u64) {
        if !self.config.auth_latch {
            return;
        }
        let down = matches!(self.phase, Phase::Idle | Phase::Disconnected);
        let wanted = core::mem::take(&mut self.auth.resume) || !down;
        self.auth.latched = false;
        self.auth.checks.clear();
        if wanted {
            self.reconnect_failures = 0;
            self.restart_stream(now);
            self.flush(now);
        }
    }

    /// `connect` while latched: remembered, nothing opened. True when it held it.
    pub(super) fn hold_connect(&mut self) -> bool {
        self.auth.resume |= self.auth.latched;
        self.auth.latched
    }

    /// `disconnect`: while latched, restoring no longer reopens; with the latch on the
    /// connection id is forgotten, so that the next `connect` is a new connection.
    pub(super) fn auth_disconnect(&mut self) {
        self.auth.resume = false;
        if self.config.auth_latch {
            self.connection_id = None;
        }
    }

    /// After an error of the current stream: ask whether authentication is the cause.
    pub(super) fn ask_auth_check(&mut self) {
        if self.config.auth_latch {
            let check = self.alloc_post();
            self.auth.checks.push(check);
            self.push(Action::CheckAuth(check));
        }
    }

    /// Closes the stream, cancels any reconnect and settles every message: queued or
    /// waiting on a retry, a prompt fails and a control message is dropped; posted, its
    /// fate is uncertain (the server may have it), and its answer, if it comes, changes
    /// nothing. `tell`: the listener hears `_auth_lost`, last.
    fn latch(&mut self, tell: bool) {
        if self.auth.latched {
            return;
        }
        let was_connected = self.is_connected();
        self.auth = Auth {
            latched: true,
            resume: !matches!(self.phase, Phase::Idle | Phase::Disconnected),
            checks: Vec::new(),
        };
        bump(&mut self.stats.auth_losses);
        self.close_stream();
        if self.auth.resume {
            self.phase = Phase::Disconnected;
        }
        self.bump_generation();
        if was_connected {
            self.push(Action::Notify(Notice::Close));
        }
        while let Some(item) = self.queue.take_first(|_| true) {
            self.lose(&item);
        }
        while let Some(item) = self.retries.take_any() {
            self.lose(&item);
        }
        while let Some(item) = self.flights.take_message() {
            self.conclude(&item, Fate::Uncertain, None);
        }
        if tell {
            self.push(Action::Warn(Warning::AuthLost));
            self.push(Action::Notify(Notice::AuthLost));
        }
    }

    /// A message that was not on the wire when authentication was lost.
    fn lose(&mut self, item: &Pending) {
        let fate = if item.prompt {
            Fate::Failed(FailReason::AuthLost)
        } else {
            Fate::Dropped(DropReason::AuthLost)
        };
        self.conclude(item, fate, None);
    }
}
