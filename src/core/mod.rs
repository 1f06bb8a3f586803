//! The sans-IO delivery core. Nothing in here touches the browser, reads a clock or
//! draws a random number from the host: time comes in as `now` (milliseconds) on
//! every input, jitter from the seed given to [`Machine::new`].
//!
//! The shell feeds [`Machine`] what happened (`connect`, `send`, `on_welcome`,
//! `on_event`, `on_post_answer`, `on_timeout`, page lifecycle...), then drains
//! [`Machine::poll_action`] synchronously and keeps one host timer armed at
//! [`Machine::poll_timeout`]. Actions come out in the order they must be carried
//! out (on a welcome: the flushed POSTs, then `Notify(Open)`).
//!
//! Additions to the API sketch the shell was written against (all additive):
//! `Endpoint::is_lifecycle`, `EndpointSet::{empty, insert, remove, contains,
//! is_empty}`, `Warning::message`, `Machine::{config, current_stream,
//! retrying_len}`, `Backoff::ceiling` and `MAX_TIMER_MS`.

mod action;
mod backoff;
mod config;
mod delivery;
mod endpoint;
mod flight;
mod ids;
mod lifecycle;
mod machine;
mod outcome;
mod queue;
mod retry;
mod rng;
mod sessions;
mod stats;
mod timer;

pub use action::{Action, Body, Notice, SessionSeq, Warning};
pub use backoff::Backoff;
pub use config::{Config, ConfigError, MAX_TIMER_MS};
pub use endpoint::{Endpoint, EndpointSet};
pub use ids::{MsgId, PostId, StreamId};
pub use machine::Machine;
pub use outcome::{DropReason, EventVerdict, FailReason, Fate, PostOutcome, SendOutcome};
pub use stats::Stats;
