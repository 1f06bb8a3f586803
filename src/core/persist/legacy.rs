//! An upgrade in place from the existing client: the prompts its own outbox left in
//! the app's storage (`mitzo-send-outbox:` followed by its events URL, a JSON array of
//! `{ body, scope, uncertain? }`), taken into this outbox so that nothing a user typed
//! is lost when the app moves to this package (docs/persisted-outbox.md, "Upgrading
//! from the existing client").
//!
//! The shell reads the array and each body's `clientMsgId` and `sessionId`; the core
//! decides here what each becomes: a prompt first stored now, before every record of
//! this outbox (the existing client's outbox predates them), in the order of the
//! array, its draft named after the existing client's scope; or nothing, when its key
//! is held or stored already (then the record wins: it was written later).

use alloc::string::String;

use super::{Persist, Record, StoredPrompt, Verdict, RECORD_VERSION};
use crate::core::endpoint::Endpoint;
use crate::core::persist::{LeftAlone, Stored};

/// What every key of the existing client's outbox starts with; its events URL follows.
pub const LEGACY_KEY_PREFIX: &str = "mitzo-send-outbox:";

/// What a draft of the existing client's outbox is named after its scope, so that it
/// never meets a draft of this one (named after a `clientMsgId`).
const LEGACY_DRAFT_PREFIX: &str = "mitzo-scope:";

/// One prompt of the existing client's outbox, as the shell read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyPrompt {
    /// Its body's `clientMsgId` (what the server de-duplicates the resend by).
    pub key: String,
    /// Its body's `sessionId`; `None` for `null` or absent.
    pub session_id: Option<String>,
    /// Its `scope`, as JSON text (`"3"`, `"\"draft-1\""`): prompts of one scope are
    /// one draft.
    pub scope: String,
    /// `uncertain`: it may have reached the server, so its body must not change.
    pub posted: bool,
}

impl LegacyPrompt {
    /// Its record as if this outbox had stored it: `place` (1, 2, … in the array)
    /// orders it before every record this core writes (whose orders are clock
    /// ticks), and its age counts from now (the existing client kept no time).
    pub(super) fn record(&self, place: u64, now: u64, owner: &str) -> Record {
        Record {
            version: RECORD_VERSION,
            key: self.key.clone(),
            endpoint: Endpoint::Send,
            order: place,
            enqueued_at: now,
            stale_404s: 0,
            retries: 0,
            owner: owner.into(),
            prompt: Some(StoredPrompt {
                session_id: self.session_id.clone(),
                draft: [LEGACY_DRAFT_PREFIX, &self.scope].concat(),
                posted: self.posted,
            }),
        }
    }
}

impl Persist {
    /// Whether to take legacy `prompt`, given the whole read and the records of it
    /// chosen so far: not without a key, and not when that key is held, chosen, or
    /// stored in this outbox (a page that took it earlier, maybe alive in another tab).
    pub(super) fn judge_legacy(
        &self,
        prompt: &LegacyPrompt,
        read: &[Stored],
        taken: &[(Record, usize)],
    ) -> Verdict {
        if prompt.key.is_empty() {
            return Verdict::Leave(LeftAlone::Corrupt);
        }
        let stored = read.iter().any(|entry| match entry {
            Stored::Record(record) => record.key == prompt.key,
            Stored::Unreadable { key, .. } => *key == prompt.key,
            Stored::Legacy(_) => false,
        });
        let chosen = taken.iter().any(|(record, _)| record.key == prompt.key);
        if stored || chosen || self.holds_key(&prompt.key) {
            return Verdict::Leave(LeftAlone::Duplicate);
        }
        Verdict::Take
    }
}
