//! What the shell drives: the [`Machine`] itself, or a feature wrapped around it (the
//! tab of the shared stream, [`crate::core::Tab`]). The shell is written once against
//! this trait: every build feeds its inputs the same way, and a feature decides which
//! of them it intercepts instead of repeating the machine's input methods one by one.
//!
//! The split: the stream's inputs, POST answers and the timer have methods of their
//! own, since a feature may take them for itself (a leader tab's catch-up POST, a
//! follower without a real stream); every other input of the machine (`connect`,
//! `send`, lifecycle, `track_seq`...) goes through [`Driver::input`], after which the
//! feature makes what it will of the change.

use super::{
    Action, EventVerdict, Machine, OutboxAction, PostId, PostOutcome, Restored, Stored, StreamId,
};
use alloc::string::String;
use alloc::vec::Vec;

pub trait Driver {
    /// What [`Driver::poll_action`] hands out: the machine's [`Action`], or the
    /// feature's actions around them.
    type Action;

    /// The machine, to read (its inputs go through the driver).
    fn machine(&self) -> &Machine;

    /// Any machine input without a method of its own here, then what the feature
    /// makes of it.
    fn input<R>(&mut self, now: u64, input: impl FnOnce(&mut Machine) -> R) -> R;

    fn on_welcome(&mut self, now: u64, stream: StreamId, connection_id: &str);

    /// A server event; the verdict says whether the app's listener gets it.
    fn on_event(
        &mut self,
        now: u64,
        stream: StreamId,
        session_id: Option<&str>,
        seq: Option<u64>,
    ) -> EventVerdict;

    fn on_stream_error(&mut self, now: u64, stream: StreamId, closed: bool);

    fn on_post_answer(&mut self, now: u64, post: PostId, outcome: PostOutcome);

    /// The earliest deadline of the driver and its machine: the one host timer.
    fn poll_timeout(&self) -> Option<u64>;

    fn on_timeout(&mut self, now: u64);

    fn poll_action(&mut self) -> Option<Self::Action>;

    /// The persisted outbox's store operations, drained before [`Driver::poll_action`].
    /// Straight from the machine in every driver: a page's stored messages are its own.
    fn poll_outbox_action(&mut self) -> Option<OutboxAction>;

    /// The persisted outbox's store, read back: an input like any other.
    fn restore(&mut self, now: u64, stored: &[Stored], live_owners: &[String]) -> Vec<Restored> {
        self.input(now, |machine| machine.restore(now, stored, live_owners))
    }
}

impl Driver for Machine {
    type Action = Action;

    fn machine(&self) -> &Machine {
        self
    }

    fn input<R>(&mut self, _now: u64, input: impl FnOnce(&mut Machine) -> R) -> R {
        input(self)
    }

    fn on_welcome(&mut self, now: u64, stream: StreamId, connection_id: &str) {
        Machine::on_welcome(self, now, stream, connection_id)
    }

    fn on_event(
        &mut self,
        now: u64,
        stream: StreamId,
        session_id: Option<&str>,
        seq: Option<u64>,
    ) -> EventVerdict {
        Machine::on_event(self, now, stream, session_id, seq)
    }

    fn on_stream_error(&mut self, now: u64, stream: StreamId, closed: bool) {
        Machine::on_stream_error(self, now, stream, closed)
    }

    fn on_post_answer(&mut self, now: u64, post: PostId, outcome: PostOutcome) {
        Machine::on_post_answer(self, now, post, outcome)
    }

    fn poll_timeout(&self) -> Option<u64> {
        Machine::poll_timeout(self)
    }

    fn on_timeout(&mut self, now: u64) {
        Machine::on_timeout(self, now)
    }

    fn poll_action(&mut self) -> Option<Action> {
        Machine::poll_action(self)
    }

    fn poll_outbox_action(&mut self) -> Option<OutboxAction> {
        Machine::poll_outbox_action(self)
    }
}
