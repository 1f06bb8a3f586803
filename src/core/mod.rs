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
//! The API, all on [`Machine`] (built by `new(config, seed)`):
//! - inputs: `connect`, `disconnect`, `check_and_reconnect`, `send` (gives a
//!   [`SendOutcome`]), `send_suspend`, `clear_pending_sends`, `on_welcome`,
//!   `on_event` (gives an [`EventVerdict`]), `on_malformed_event`, `on_stream_error`,
//!   `on_post_answer` (takes a [`PostOutcome`]), `on_timeout`, `on_visibility`,
//!   `on_page_hide`, `on_page_show`, `on_online`, `track_seq`, `clear_session`;
//! - outputs: `poll_action` ([`Action`]: a message's [`Fate`] comes as a `Report`)
//!   and `poll_timeout`;
//! - reads: `is_connected`, `connection_id`, `current_stream`, `pending_len` (in the
//!   send queue), `in_flight_len` (posted and unsettled: awaiting an answer or a
//!   retry), `retrying_len` (of those, waiting on a retry), `last_seq`,
//!   `tracked_sessions`, `stats` ([`Stats`]).
//!
//! The persisted outbox (opt-in, off by default; docs/persisted-outbox.md): a machine
//! built by `with_persist(config, `[`PersistConfig`]`, seed)` also takes
//! `send_keyed` (a message with its `clientMsgId`; `persists(endpoint)` says whether
//! it will be stored) and `restore` (the store's [`Stored`] entries and the live
//! owners, giving a [`Restored`] verdict per entry), and hands out
//! `poll_outbox_action` ([`OutboxAction`]: put or remove a [`Record`], or an
//! [`OutboxWarning`]), drained before `poll_action`; reads: `awaiting_restore`,
//! `restored_pending`, `persisted_len`.
//! With `Machine::new` none of it exists: no store action, no gate, ids from 1.
//!
//! The existing client's current contract (opt-in, each part a field of [`Config`],
//! all of it [`Config::current_contract`]; docs/delivery-rules.md, rules 14 to 19):
//! `is_prompt(endpoint)` says whether a message is a prompt, sent with `send_prompt`
//! (a [`Prompt`]: its `clientMsgId` and `sessionId`) and posted as
//! `Action::PostPrompt`; a 2xx answer whose receipt was asked for comes back through
//! `on_post_receipt` (an [`AnswerBody`], from the [`ReceiptBody`] the shell parsed);
//! the other actions of the contract are `Receipt`, `AdoptSession`, `Prompt` (a
//! [`PromptNotice`]) and `ControlFailed` (a [`ControlFailure`]).
//!
//! The foreground liveness probe (opt-in, `Config::foreground_probe`;
//! docs/delivery-rules.md, rule 23): `on_visibility` posts it (`Action::PostProbe`),
//! the stream's echo comes back through `on_probe_echo` (the shell hands it over only
//! when `takes_probe_echoes`), and `last_probe` reads how the last one ended (a
//! [`ProbeOutcome`]).
//!
//! The authentication latch (opt-in, `Config::auth_latch`, on in the current contract;
//! docs/delivery-rules.md, rule 24): inputs `on_auth_expired`, `on_auth_check` (the
//! answer to an `Action::CheckAuth`), `block_authentication`,
//! `invalidate_authentication`, `restore_authentication`; reads `auth_latched`,
//! `auth_latch_on`. Latching settles every message (`Fate::Uncertain` for those
//! posted) and tells `Notice::AuthLost`.
//!
//! The shell is written against the [`Driver`] trait, which the `Machine` and the
//! tab of the shared stream (`Tab`, docs/shared-stream.md) both implement: a feature
//! wraps the machine and intercepts the inputs it needs, instead of the shell
//! repeating the machine's input methods for each.
//!
//! Settings are a [`Config`] (with a [`Backoff`]; its `Default` is the existing
//! client's, and the shell checks the options before building one). Endpoints map to
//! message types and paths through [`Endpoint`] (`from_message_type`, `from_path`,
//! `path`, `is_lifecycle`) and form an [`EndpointSet`] (`empty`,
//! `default_retryable`, `insert`, `remove`, `contains`, `is_empty`).
//!
//! Where the core knowingly differs from the existing client (all in edge cases
//! its tests never reach):
//! - The connection *generation* also bumps on a stream error, so a reconnect POST
//!   answered after the stream errored is ignored (the stream's next welcome starts
//!   a fresh one) instead of declaring a dead connection connected.
//! - A welcome while connected starts a new handshake: sends queue until the
//!   reconnect POST succeeds (the existing client kept posting with the new id).
//! - Welcomes and events from a stream that is no longer current are ignored.
//! - A 404 on any POST of the current connection (a suspend included) rebuilds the
//!   stream; a 404 on a POST of an older connection never does.
//! - `clear_pending_sends` also drops messages waiting on a retry; `disconnect`
//!   moves them into the queue, so no timer outlives `disconnect()`.
//! - `on_online` reopens at once when a reconnect is scheduled or the stream is
//!   erroring; it never resurrects a connection the app did not `connect()`.

mod action;
mod auth;
mod backoff;
mod chain;
mod config;
mod delivery;
mod driver;
mod endpoint;
mod flight;
mod ids;
mod lifecycle;
mod machine;
mod outcome;
mod persist;
mod probe;
mod prompts;
mod queue;
mod receipt;
mod replay;
mod retry;
mod rng;
mod seq;
mod sessions;
mod stats;
// In the wasm only with the `share-tabs` feature (the `sse-courier/tabs` entry):
// merely compiled in, it changes LLVM's inlining of the other builds (+491 B raw)
// though nothing calls it there (docs/shared-stream.md, "Size").
#[cfg(any(not(target_arch = "wasm32"), feature = "share-tabs"))]
mod tabs;
mod timer;

pub use action::{Action, Body, ControlFailure, Notice, PromptNotice, SessionSeq, Warning};
pub use backoff::Backoff;
pub use chain::{Applied, ChainVerdict, GAP_TIMEOUT_MS, MAX_HELD_BYTES, MAX_HELD_EVENTS};
pub use chain::{ACK_TIMEOUT_MS, OFFER_TIMEOUT_MS};
pub use config::Config;
pub use driver::Driver;
pub use endpoint::{Endpoint, EndpointSet};
pub use ids::{EventKey, MsgId, PostId, StreamId};
pub use machine::Machine;
pub use outcome::{DropReason, EventVerdict, FailReason, Fate, PostOutcome, SendOutcome};
pub use persist::{
    reads_version, Layout, LeftAlone, LegacyPrompt, OutboxAction, OutboxNames, OutboxWarning,
    PersistConfig, PersistConfigError, Record, Restored, Stored, StoredPrompt, Whose,
    DEFAULT_MAX_AGE_MS, FIRST_SENT_ID, LEGACY_KEY_PREFIX, RECORD_VERSION, REMOVALS_HELD_AT_MOST,
};
pub use probe::{ProbeOutcome, PROBE_DEADLINE_MS};
pub use prompts::Prompt;
pub use receipt::{AnswerBody, Receipt, ReceiptBody};
pub use stats::Stats;
#[cfg(any(not(target_arch = "wasm32"), feature = "share-tabs"))]
pub use tabs::{
    Tab, TabAction, TabConfig, TabId, Term, Wire, DEFAULT_HEARTBEAT_MS, DEFAULT_LEADER_SILENCE_MS,
};
