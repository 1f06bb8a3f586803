//! The persisted outbox (opt-in, off by default; docs/persisted-outbox.md): which
//! messages the shell keeps in its store, what a stored record holds, and what is
//! decided when the store is read back: which records to take, in what order, which
//! have expired, which belong to another live tab and which are left alone.
//!
//! The core never touches the store. It hands the shell [`OutboxAction`]s through
//! [`Machine::poll_outbox_action`] (drained before `poll_action`), and takes the
//! store's contents back through [`Machine::restore`]. Bodies stay with the shell: a
//! record is the message's delivery state, the shell stores the message's JSON body
//! beside it.
//!
//! Size: the machine reaches the outbox only through a trait object that
//! `with_persist` alone creates, and its gate is a plain flag, so a shell that never
//! turns it on links none of this (a few indirect calls remain); its warnings have
//! their own type for the same reason (every `Warning` arm is linked in).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use super::config::Config;
use super::delivery::is_retryable;
use super::endpoint::Endpoint;
use super::ids::MsgId;
use super::machine::Machine;
use super::outcome::SendOutcome;
use super::queue::Pending;
use super::seq;
use super::stats::bump;

mod legacy;
mod naming;
pub use legacy::{LegacyPrompt, LEGACY_KEY_PREFIX};
pub use naming::{Layout, OutboxNames, Whose};

/// The format version of the records this core writes. Version 2 added a prompt's
/// state (`Record::prompt`).
pub const RECORD_VERSION: u32 = 2;

/// The format versions this core takes back: its own, and version 1 (no prompt
/// state: such a record is a plain message). A record of any other version is left in
/// the store untouched (and warned about).
pub fn reads_version(version: u32) -> bool {
    version == 1 || version == RECORD_VERSION
}

/// `persist.maxAgeMs` by default: a day. A chat message a day old is more likely to
/// confuse than to help; the app can choose longer.
pub const DEFAULT_MAX_AGE_MS: u64 = 24 * 60 * 60 * 1000;

/// With [`PersistConfig::group_removals`], the most removals held back while messages
/// are in flight: a crash in a burst then re-sends at most this many delivered
/// messages (the server de-duplicates them), and a burst of answers costs a store
/// transaction per this many instead of one each.
pub const REMOVALS_HELD_AT_MOST: usize = 16;

/// Orders count 1/1024 ms: `Date.now()` × 1024 stays below 2^53 (a JS number holds
/// it exactly) until the year 2248.
const ORDER_TICKS_PER_MS: u64 = 1024;

/// A persisting machine's sends take ids from here up; the first restore takes the
/// ids just below, so restored messages sort before every message of this page
/// (ids are send order: docs/delivery-rules.md, rule 1).
pub const FIRST_SENT_ID: u32 = 1 << 31;

/// The outbox settings (`Machine::with_persist`). Kept apart from [`Config`], whose
/// fields the shell lists one by one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistConfig {
    /// This machine's owner id, written into every record it holds: unique to one
    /// page load of one tab (the shell makes it from `crypto.randomUUID()`), and the
    /// name under which the shell holds its owner Web Lock for the page's lifetime.
    pub owner: String,
    /// A record whose message was first sent more than this long ago is dropped at
    /// restore, with a report, instead of being sent late.
    pub max_age_ms: u64,
    /// Hold a delivered message's removal back while messages are in flight, and hand
    /// the removals out together: with the next record written, once no message is in
    /// flight, or when [`REMOVALS_HELD_AT_MOST`] are held. For a store whose writes
    /// commit later than the report anyway (IndexedDB), where each group of writes
    /// handed out together is one transaction: a crash between a report and its
    /// removal's commit already re-sends the message, and this makes that window
    /// last until the next answer (a message that failed or was dropped is removed at
    /// once: sent again, it would be delivered after the ones sent since). Off: every
    /// removal comes out at once, before its report (what a synchronous store needs to
    /// deliver exactly once).
    pub group_removals: bool,
}

impl PersistConfig {
    /// Defaults (`max_age_ms` a day) for the owner id `owner`.
    pub fn new(owner: &str) -> Self {
        PersistConfig {
            owner: owner.into(),
            max_age_ms: DEFAULT_MAX_AGE_MS,
            group_removals: false,
        }
    }

    pub fn validate(&self) -> Result<(), PersistConfigError> {
        if self.owner.is_empty() {
            return Err(PersistConfigError::Owner);
        }
        if self.max_age_ms == 0 {
            return Err(PersistConfigError::MaxAgeMs);
        }
        Ok(())
    }
}

/// A `PersistConfig` field out of range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersistConfigError {
    /// Made by the shell, not the app: a shell bug.
    Owner,
    MaxAgeMs,
}

impl PersistConfigError {
    pub fn message(&self) -> &'static str {
        match self {
            PersistConfigError::Owner => "the outbox owner id must not be empty",
            PersistConfigError::MaxAgeMs => {
                "persist.maxAgeMs must be a positive number of milliseconds"
            }
        }
    }
}

impl core::fmt::Display for PersistConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for PersistConfigError {}

/// One stored message's delivery state, format [`RECORD_VERSION`]. The shell stores
/// it under `key`, serialised (each field under its name in camelCase, the endpoint as
/// its path), with the message's JSON body beside it, and reads it back by the same
/// names (`src/web/store/record.rs`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// [`RECORD_VERSION`] when this core wrote it.
    pub version: u32,
    /// The message's `clientMsgId`: the store key, and what the server de-duplicates
    /// by. Unique among stored records.
    pub key: String,
    pub endpoint: Endpoint,
    /// Send order across page loads: a hybrid logical clock in 1/1024 ms,
    /// `max(now × 1024, last + 1)` over every order this machine wrote or read, so a
    /// page's sends are ordered after everything it restored even if the wall clock
    /// stepped back. It always matches the record's place in the queue of the page
    /// that last wrote it.
    pub order: u64,
    /// Wall-clock milliseconds of the first `send()`; what `max_age_ms` counts from.
    pub enqueued_at: u64,
    /// 404s met so far, across page loads (docs/delivery-rules.md, rule 5).
    pub stale_404s: u32,
    /// Retries after transient failures so far, across page loads (rule 6).
    pub retries: u32,
    /// The owner id of the machine that holds the message.
    pub owner: String,
    /// A prompt's state (version 2): `None` for a message stored under the rules of
    /// plain sends. Written only when `Some`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<StoredPrompt>,
}

/// What a stored prompt needs besides its delivery state to be sent again as a
/// prompt (docs/delivery-rules.md, rules 14 to 17): its session, its draft, and
/// whether its body may have reached the server.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredPrompt {
    /// Its `sessionId` (its draft's adopted one included); `None`: none yet. When the
    /// draft adopted it, the stored body may still say `null`: this field is what
    /// counts, and a restored prompt's body is given it before it is posted again.
    pub session_id: Option<String>,
    /// Its draft scope, the same for every prompt of one draft across page loads:
    /// the `clientMsgId` of the draft's first stored prompt (a page's scope numbers
    /// restart at every load, and an id is unique without the owner's help).
    pub draft: String,
    /// Posted at least once (or, from the existing client's outbox, `uncertain`):
    /// its body may be on the server and must never change, so it never adopts a
    /// session. Written when a prompt without a session is first posted.
    pub posted: bool,
}

/// One entry of the store as the shell read it, for [`Machine::restore`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// A record the shell could read (whatever its `version` says).
    Record(Record),
    /// A prompt the existing client's own outbox left (`mitzo-send-outbox:<url>`): an
    /// upgrade in place. Taken as a prompt first stored now, before every record, and
    /// left alone when its key is held or stored already (its record wins).
    Legacy(LegacyPrompt),
    /// An entry the shell could not read as a record: its key, and its format version
    /// when at least that much could be read.
    Unreadable { key: String, version: Option<u32> },
}

/// What the shell must do for the outbox, in order: store operations, and warnings.
/// Drained through `poll_outbox_action`, always before `poll_action`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutboxAction {
    /// Insert or replace the record under `record.key`, with the body of message
    /// `msg` (the one the shell keeps for it). A new persisted message, a record
    /// taken at restore (now owned by this machine), or new attempt counts.
    Put { msg: MsgId, record: Record },
    /// Delete the record under `key`: its fate is settled. Its report follows
    /// (`Action::Report`, or the `Restored::Expired` verdict `restore` returned),
    /// unless [`PersistConfig::group_removals`] held it back.
    Remove { key: String },
    /// Something worth a `console.warn` (not a store operation).
    Warn(OutboxWarning),
}

/// Warnings of the outbox, apart from [`Warning`](super::Warning) so that a shell
/// without the outbox does not carry their text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxWarning {
    /// Stored messages older than `max_age_ms` were dropped at restore (each reported
    /// by the shell from its `Restored::Expired` verdict).
    RecordsExpired,
    /// Stored records of a format version this library does not know were left in
    /// the store.
    UnknownRecordVersion,
    /// Unreadable stored records were left in the store.
    CorruptRecords,
    /// A persisted message's `clientMsgId` is already pending: this one is kept in
    /// memory only.
    DuplicateKey,
}

impl OutboxWarning {
    pub fn message(&self) -> &'static str {
        match self {
            OutboxWarning::RecordsExpired => {
                "stored messages older than persist.maxAgeMs dropped at restore"
            }
            OutboxWarning::UnknownRecordVersion => {
                "stored messages of an unknown format version left in the store"
            }
            OutboxWarning::CorruptRecords => "unreadable stored messages left in the store",
            OutboxWarning::DuplicateKey => {
                "clientMsgId already pending: message kept in memory only, not stored"
            }
        }
    }
}

/// What `restore` decided about one stored entry (same index as its input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restored {
    /// Now a message of this machine under this id: the shell keeps the stored body
    /// (and the message parsed from it, for its report) under the id. A `Put`
    /// claiming the record for this machine is among the store actions.
    Taken(MsgId),
    /// Older than `max_age_ms`: given up without being sent. A `Remove` is among the
    /// store actions; the shell reports it `dropped` / `expired`.
    Expired,
    /// Left in the store untouched, for the reason given.
    Left(LeftAlone),
}

/// Why a stored entry was left alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeftAlone {
    /// Written by this machine: held in memory, or already settled (a read that
    /// raced this machine's own writes).
    Mine,
    /// Its key is already held by this machine (or by an earlier entry of the same
    /// read): the same `clientMsgId` is one message to the server.
    Duplicate,
    /// Its owner is alive (holds its owner lock): that tab sends it and reports it.
    OwnedElsewhere,
    /// A format this core does not know, likely written by a newer version of the
    /// library in another tab. Warned about.
    UnknownVersion(u32),
    /// Unreadable, or not something this core would have written (no key, a
    /// lifecycle endpoint). Warned about; never deleted.
    Corrupt,
}

/// A persisted message this machine holds and has not settled: what its record needs
/// besides the attempt counts the message itself carries.
#[derive(Clone, Debug)]
struct Held {
    msg: MsgId,
    key: String,
    order: u64,
    enqueued_at: u64,
    /// Taken back by `restore`, not sent by this page.
    restored: bool,
}

/// The outbox state of a persisting machine.
#[derive(Clone, Debug)]
pub(crate) struct Persist {
    config: PersistConfig,
    held: Vec<Held>,
    last_order: u64,
    out: Vec<OutboxAction>,
    /// Keys of settled messages whose removal is held back (`group_removals`).
    removals: Vec<String>,
}

impl Persist {
    fn new(config: PersistConfig) -> Self {
        Persist {
            config,
            held: Vec::new(),
            last_order: 0,
            out: Vec::new(),
            removals: Vec::new(),
        }
    }

    /// The next send order: later than every order written or read, and than `now`
    /// (in 1/1024 ms, so a burst of sends does not run ahead of the next page load's
    /// clock).
    fn stamp(&mut self, now: u64) -> u64 {
        let clock = now.saturating_mul(ORDER_TICKS_PER_MS);
        self.last_order = clock.max(self.last_order.saturating_add(1));
        self.last_order
    }

    fn holds_key(&self, key: &str) -> bool {
        self.held.iter().any(|h| h.key == key)
    }

    /// What to do with one readable record, taking nothing yet. `taken` are the
    /// records of the same read already chosen.
    fn judge(
        &self,
        now: u64,
        record: &Record,
        live: &[String],
        taken: &[(Record, usize)],
    ) -> Verdict {
        if !reads_version(record.version) {
            return Verdict::Leave(LeftAlone::UnknownVersion(record.version));
        }
        if record.key.is_empty() || record.endpoint.is_lifecycle() {
            // Never written by this core: a lifecycle signal must never be replayed
            // (docs/delivery-rules.md, rule 3).
            return Verdict::Leave(LeftAlone::Corrupt);
        }
        if record.owner == self.config.owner {
            return Verdict::Leave(LeftAlone::Mine);
        }
        if self.holds_key(&record.key) || taken.iter().any(|(t, _)| t.key == record.key) {
            return Verdict::Leave(LeftAlone::Duplicate);
        }
        if live.contains(&record.owner) {
            return Verdict::Leave(LeftAlone::OwnedElsewhere);
        }
        // A record from the future (the clock stepped back) is not old.
        if now.saturating_sub(record.enqueued_at) > self.config.max_age_ms {
            return Verdict::Expire;
        }
        Verdict::Take
    }
}

/// The outbox as the machine sees it. Only `with_persist` makes one, so without it
/// the linker drops every method (see the module documentation). Not `Debug` as a
/// supertrait: a `Debug` method in the vtable would link the whole formatting
/// machinery into the shipped wasm (about 6 KB); `dyn Outbox` is `Debug` below.
pub(crate) trait Outbox {
    fn state(&mut self) -> &mut Persist;
    fn state_ref(&self) -> &Persist;
    /// Writes the record of `item` (a prompt's with its state), if it is persisted.
    fn put(&mut self, item: &Pending, prompt: Option<StoredPrompt>);
    /// `msg`'s fate is settled (`delivered`: the server has it): its record goes.
    fn settled(&mut self, msg: MsgId, delivered: bool);
    /// Hands out every removal held back, after the actions already out.
    fn release_removals(&mut self);
    fn clone_box(&self) -> Box<dyn Outbox>;
}

impl core::fmt::Debug for dyn Outbox {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.state_ref().fmt(f)
    }
}

impl Clone for Box<dyn Outbox> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

impl Outbox for Persist {
    fn state(&mut self) -> &mut Persist {
        self
    }

    fn state_ref(&self) -> &Persist {
        self
    }

    fn put(&mut self, item: &Pending, prompt: Option<StoredPrompt>) {
        let Some(held) = self.held.iter().find(|h| h.msg == item.msg) else {
            return;
        };
        let record = Record {
            version: RECORD_VERSION,
            key: held.key.clone(),
            endpoint: item.endpoint,
            order: held.order,
            enqueued_at: held.enqueued_at,
            stale_404s: item.stale_404s,
            retries: item.retries,
            owner: self.config.owner.clone(),
            prompt,
        };
        // The removals held back ride along: the same store write (and a removal of
        // this key, a message sent again under a settled one's id, goes before it).
        self.release_removals();
        self.out.push(OutboxAction::Put {
            msg: item.msg,
            record,
        });
    }

    fn settled(&mut self, msg: MsgId, delivered: bool) {
        if let Some(at) = self.held.iter().position(|h| h.msg == msg) {
            if let Some(held) = seq::remove_at(&mut self.held, at) {
                self.removals.push(held.key);
                // Only a delivered message may wait: sent again after a crash, the
                // server de-duplicates it. One that failed or was dropped would come
                // back from the dead, delivered after the messages sent since.
                if !(delivered && self.config.group_removals) {
                    self.release_removals();
                }
            }
        }
    }

    fn release_removals(&mut self) {
        let removals = self.removals.drain(..);
        self.out
            .extend(removals.map(|key| OutboxAction::Remove { key }));
    }

    fn clone_box(&self) -> Box<dyn Outbox> {
        Box::new(self.clone())
    }
}

enum Verdict {
    Take,
    Expire,
    Leave(LeftAlone),
}

impl Machine {
    /// A machine with the persisted outbox on. Until the first [`Machine::restore`],
    /// retryable messages wait in the queue (so the stored ones go first).
    pub fn with_persist(config: Config, persist: PersistConfig, seed: u64) -> Self {
        let mut m = Machine::new(config, seed);
        m.start_ids_at(FIRST_SENT_ID);
        m.persist = Some(Box::new(Persist::new(persist)));
        m.restore_gate = true;
        m
    }

    /// Whether a message to `endpoint` is persisted (sent with
    /// [`Machine::send_keyed`]): the outbox is on and the message is retryable. The
    /// shell asks before serialising the body, to give the message a `clientMsgId`
    /// when it has none.
    ///
    /// Prompts of the existing client's current contract ([`Machine::is_prompt`]) are
    /// stored too, with their state (`Record::prompt`), by `send_prompt`, whose
    /// `clientMsgId` is their key.
    pub fn persists(&self, endpoint: Endpoint) -> bool {
        self.persist.is_some() && is_retryable(&self.config, endpoint)
    }

    /// `send` for a message whose body carries `key` as its `clientMsgId`. When
    /// [`Machine::persists`] its endpoint, the message is stored (a `Put` among the
    /// outbox actions, which the shell carries out before the POST) unless `key` is
    /// empty or already held (kept in memory only, with a warning).
    pub fn send_keyed(&mut self, now: u64, endpoint: Endpoint, key: &str) -> SendOutcome {
        // `send` itself links nothing of the outbox. Stored after it was posted or
        // queued, which changes nothing: the shell carries out the outbox's actions
        // first, and nothing settles a message inside `send`.
        let outcome = self.send(now, endpoint);
        if let SendOutcome::Posted(msg) | SendOutcome::Queued(msg) = outcome {
            self.persist_new(now, msg, endpoint, key);
        }
        outcome
    }

    /// The next thing to do for the outbox, in order. Drain it before `poll_action`
    /// after every input (the store first: a record is written before its POST, and
    /// removed before its report, unless `group_removals` holds the removal back
    /// while messages are in flight).
    pub fn poll_outbox_action(&mut self) -> Option<OutboxAction> {
        let flights = &self.flights;
        let p = self.persist.as_mut()?.state();
        // Called after every action the shell carries out: the flights are looked at
        // only while a removal is held.
        if !p.removals.is_empty()
            && (p.removals.len() >= REMOVALS_HELD_AT_MOST || flights.messages().next().is_none())
        {
            p.release_removals();
        }
        seq::pop_front(&mut p.out)
    }

    /// Hands out every removal `group_removals` holds back: the shell asks before it
    /// lets go of the store (`free()`), so that a page that closes cleanly leaves no
    /// delivered message's record behind.
    pub fn release_removals(&mut self) {
        if let Some(p) = self.persist.as_mut() {
            p.release_removals();
        }
    }

    /// The outbox is on and `restore` has not been called yet.
    pub fn awaiting_restore(&self) -> bool {
        self.restore_gate
    }

    /// Messages taken back by `restore` and not settled yet, oldest first: what the
    /// UI shows as "sending…" after a reload.
    pub fn restored_pending(&self) -> impl Iterator<Item = MsgId> + '_ {
        self.persist
            .iter()
            .flat_map(|p| p.state_ref().held.iter())
            .filter(|h| h.restored)
            .map(|h| h.msg)
    }

    /// Persisted messages this machine holds (its records in the store).
    pub fn persisted_len(&self) -> usize {
        self.persist
            .as_ref()
            .map_or(0, |p| p.state_ref().held.len())
    }

    /// The store's contents, read back at start (and again when a tab that owned
    /// records is gone). `live_owners` are the owner ids whose owner lock is held
    /// now. Returns one verdict per entry, in input order; the outbox actions say
    /// what to write. Taken records go back into the queue in their original order
    /// (by `order`), under the normal rules; on the first call before every message
    /// this page sent, which waited for it. Expired records are removed, and reported
    /// by the shell from the verdict. Unknown versions and unreadable entries are
    /// left alone with a warning. Nothing happens when the outbox is off.
    pub fn restore(
        &mut self,
        now: u64,
        stored: &[Stored],
        live_owners: &[String],
    ) -> Vec<Restored> {
        let Some(p) = self.persist.as_mut() else {
            return Vec::new();
        };
        let p = p.state();
        let first = self.restore_gate;
        self.restore_gate = false;
        let mut verdicts = Vec::with_capacity(stored.len());
        // The records chosen, each with its index in `stored`.
        let mut taken: Vec<(Record, usize)> = Vec::new();
        let (mut expired, mut unknown, mut corrupt) = (0u32, 0u32, 0u32);
        let mut legacy_place = 0u64;
        for (index, entry) in stored.iter().enumerate() {
            let verdict = match entry {
                Stored::Unreadable {
                    version: Some(v), ..
                } if !reads_version(*v) => Verdict::Leave(LeftAlone::UnknownVersion(*v)),
                Stored::Unreadable { .. } => Verdict::Leave(LeftAlone::Corrupt),
                Stored::Record(record) => {
                    let verdict = p.judge(now, record, live_owners, &taken);
                    if reads_version(record.version) {
                        p.last_order = p.last_order.max(record.order);
                    }
                    if matches!(verdict, Verdict::Take) {
                        taken.push((record.clone(), index));
                    }
                    if matches!(verdict, Verdict::Expire) {
                        p.out.push(OutboxAction::Remove {
                            key: record.key.clone(),
                        });
                    }
                    verdict
                }
                Stored::Legacy(prompt) => {
                    legacy_place += 1;
                    let verdict = p.judge_legacy(prompt, stored, &taken);
                    if matches!(verdict, Verdict::Take) {
                        let record = prompt.record(legacy_place, now, &p.config.owner);
                        taken.push((record, index));
                    }
                    verdict
                }
            };
            verdicts.push(match verdict {
                // Filled in below, once the order is known.
                Verdict::Take => Restored::Taken(MsgId(0)),
                Verdict::Expire => {
                    expired += 1;
                    Restored::Expired
                }
                Verdict::Leave(left) => {
                    match left {
                        LeftAlone::UnknownVersion(_) => unknown += 1,
                        LeftAlone::Corrupt => corrupt += 1,
                        _ => {}
                    }
                    Restored::Left(left)
                }
            });
        }
        // Original order; ties (never from one page) by enqueue time, then key. An
        // insertion sort (a read holds at most a few hundred records): std's sort, or
        // indexing here and below, would link panic formatting into the shipped wasm.
        let restore_order = |r: &Record| (r.order, r.enqueued_at, r.key.clone());
        let mut sorted: Vec<(Record, usize)> = Vec::with_capacity(taken.len());
        for (record, place) in taken {
            let key = restore_order(&record);
            let at = sorted
                .iter()
                .position(|(other, _)| restore_order(other) > key)
                .unwrap_or(sorted.len());
            seq::insert_at(&mut sorted, at, (record, place));
        }
        let taken = sorted;
        let count = u32::try_from(taken.len()).unwrap_or(u32::MAX);
        // The first restore slots in below every id this page gave out.
        let mut below = (first && count < FIRST_SENT_ID).then(|| FIRST_SENT_ID - count);
        let any_taken = !taken.is_empty();
        for (mut record, place) in taken {
            let msg = match below.as_mut() {
                Some(id) => {
                    let msg = MsgId(*id);
                    *id += 1;
                    msg
                }
                None => {
                    // Adopted after this page's own messages: stamped after them too.
                    if let Some(p) = self.persist.as_mut() {
                        record.order = p.state().stamp(now);
                    }
                    self.alloc_msg()
                }
            };
            if let Some(verdict) = verdicts.get_mut(place) {
                *verdict = Restored::Taken(msg);
            }
            self.take_record(record, msg);
        }
        if first && any_taken {
            self.restamp_waiting(now);
        }
        self.stats.expired = self.stats.expired.saturating_add(expired);
        self.stats.dropped = self.stats.dropped.saturating_add(expired);
        if let Some(p) = self.persist.as_mut() {
            for (count, warning) in [
                (expired, OutboxWarning::RecordsExpired),
                (unknown, OutboxWarning::UnknownRecordVersion),
                (corrupt, OutboxWarning::CorruptRecords),
            ] {
                if count > 0 {
                    p.state().out.push(OutboxAction::Warn(warning));
                }
            }
        }
        self.flush(now);
        verdicts
    }

    /// Makes a stored record a message of this machine: claimed in the store, then
    /// queued at its place (which may evict the oldest, reported as always).
    fn take_record(&mut self, record: Record, msg: MsgId) {
        // A prompt's record is a prompt again (its receipt awaited, its notices told)
        // when this machine has prompts; any other is a plain message.
        let prompt = record
            .prompt
            .as_ref()
            .filter(|_| self.is_prompt(record.endpoint));
        let item = Pending {
            msg,
            endpoint: record.endpoint,
            stale_404s: record.stale_404s,
            retries: record.retries,
            prompt: prompt.is_some(),
        };
        if let Some(prompt) = prompt {
            self.restore_prompt(msg, &record.key, prompt);
        }
        if let Some(p) = self.persist.as_mut() {
            p.state().held.push(Held {
                msg,
                key: record.key,
                order: record.order,
                enqueued_at: record.enqueued_at,
                restored: true,
            });
        }
        bump(&mut self.stats.restored);
        self.persist_attempt(&item);
        self.enqueue(item);
    }

    /// After the first restore: the messages this page stored while waiting for it
    /// were stamped before the restored orders were known; they go after them, in
    /// the store as in the queue.
    fn restamp_waiting(&mut self, now: u64) {
        let Some(p) = self.persist.as_mut() else {
            return;
        };
        let p = p.state();
        let waiting: Vec<MsgId> = p
            .held
            .iter()
            .filter(|h| !h.restored)
            .map(|h| h.msg)
            .collect();
        for &msg in &waiting {
            let order = p.stamp(now);
            if let Some(held) = p.held.iter_mut().find(|h| h.msg == msg) {
                held.order = order;
            }
        }
        for msg in waiting {
            // Retryable messages wait in the queue until the first restore.
            let item = self.queue.iter().find(|q| q.msg == msg).cloned();
            if let Some(item) = item {
                self.persist_attempt(&item);
            }
        }
    }

    /// A message `send_keyed` or `send_prompt` accepted: stored if it persists.
    pub(super) fn persist_new(&mut self, now: u64, msg: MsgId, endpoint: Endpoint, key: &str) {
        if !self.persists(endpoint) || key.is_empty() {
            return;
        }
        let Some(p) = self.persist.as_mut() else {
            return;
        };
        let p = p.state();
        if p.holds_key(key) {
            p.out.push(OutboxAction::Warn(OutboxWarning::DuplicateKey));
            return;
        }
        let order = p.stamp(now);
        p.held.push(Held {
            msg,
            key: key.into(),
            order,
            enqueued_at: now,
            restored: false,
        });
        let item = Pending {
            // A prompt's record says its draft from now on.
            prompt: self.is_prompt(endpoint) && self.prompts.store(msg, key),
            ..Pending::new(msg, endpoint)
        };
        self.persist_attempt(&item);
    }

    /// Writes the record of `item`, if it is persisted: when claimed, whenever its
    /// attempt counts change, so the retry limits hold across reloads, and for a
    /// prompt whenever what its record says of it changes.
    pub(super) fn persist_attempt(&mut self, item: &Pending) {
        let prompt = item.prompt.then(|| self.prompts.stored(item.msg)).flatten();
        if let Some(p) = self.persist.as_mut() {
            p.put(item, prompt);
        }
    }

    /// `msg`'s fate is settled (its report is being pushed): its record goes.
    pub(super) fn persist_settled(&mut self, msg: MsgId, delivered: bool) {
        if let Some(p) = self.persist.as_mut() {
            p.settled(msg, delivered);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

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

    fn outbox() -> Persist {
        Persist::new(PersistConfig {
            max_age_ms: 1_000,
            ..PersistConfig::new("me")
        })
    }

    fn left(verdict: Verdict) -> Option<LeftAlone> {
        match verdict {
            Verdict::Leave(left) => Some(left),
            _ => None,
        }
    }

    #[test]
    fn default_persist_config_is_valid_and_keeps_a_day() {
        let config = PersistConfig::new("tab-1");
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.max_age_ms, 86_400_000);
        let no_owner = PersistConfig::new("");
        assert_eq!(no_owner.validate(), Err(PersistConfigError::Owner));
        let zero = PersistConfig {
            max_age_ms: 0,
            ..PersistConfig::new("tab-1")
        };
        assert_eq!(zero.validate(), Err(PersistConfigError::MaxAgeMs));
        assert!(PersistConfigError::MaxAgeMs
            .to_string()
            .contains("persist.maxAgeMs"));
        assert!(!PersistConfigError::Owner.message().is_empty());
        let one = PersistConfig {
            max_age_ms: 1,
            ..PersistConfig::new("x")
        };
        assert_eq!(one.validate(), Ok(()));
    }

    #[test]
    fn judging_checks_version_shape_owner_key_liveness_then_age() {
        let p = outbox();
        let live = vec!["other".to_string()];
        let mut future = record("k", "dead", 1, 5_000);
        future.version = 3;
        assert_eq!(
            left(p.judge(0, &future, &live, &[])),
            Some(LeftAlone::UnknownVersion(3))
        );
        let mut first = record("k", "dead", 1, 0);
        first.version = 1;
        assert!(
            matches!(p.judge(0, &first, &live, &[]), Verdict::Take),
            "version 1 is read"
        );
        let mut stop = record("k", "dead", 1, 0);
        stop.endpoint = Endpoint::Stop;
        assert_eq!(
            left(p.judge(0, &stop, &live, &[])),
            Some(LeftAlone::Corrupt)
        );
        assert_eq!(
            left(p.judge(0, &record("", "dead", 1, 0), &live, &[])),
            Some(LeftAlone::Corrupt)
        );
        assert_eq!(
            left(p.judge(9_999, &record("k", "me", 1, 0), &live, &[])),
            Some(LeftAlone::Mine),
            "never expires its own"
        );
        let earlier = record("k", "dead", 1, 0);
        assert_eq!(
            left(p.judge(0, &record("k", "dead2", 2, 0), &live, &[(earlier, 0)])),
            Some(LeftAlone::Duplicate)
        );
        assert_eq!(
            left(p.judge(9_999, &record("k", "other", 1, 0), &live, &[])),
            Some(LeftAlone::OwnedElsewhere),
            "a live tab's record is never expired by another"
        );
        assert!(matches!(
            p.judge(1_000, &record("k", "dead", 1, 0), &live, &[]),
            Verdict::Take
        ));
        assert!(matches!(
            p.judge(1_001, &record("k", "dead", 1, 0), &live, &[]),
            Verdict::Expire
        ));
        assert!(
            matches!(
                p.judge(0, &record("k", "dead", 1, 50_000), &live, &[]),
                Verdict::Take
            ),
            "from the future: not old"
        );
    }

    #[test]
    fn send_order_stamps_increase_even_when_the_clock_steps_back() {
        let mut p = outbox();
        assert_eq!(p.stamp(100), 102_400);
        assert_eq!(p.stamp(100), 102_401);
        assert_eq!(p.stamp(50), 102_402);
        assert_eq!(p.stamp(500), 512_000);
        assert_eq!(p.stamp(u64::MAX), u64::MAX, "saturates");
    }
}
