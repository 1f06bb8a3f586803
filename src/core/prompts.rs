//! Prompts under the existing client's current contract (docs/delivery-rules.md,
//! rules 14 to 17): the `send`-type messages the app's user typed, with what the core
//! must know of each (its `clientMsgId`, its `sessionId` or none, its draft scope,
//! whether it was ever posted), and the machine's decisions that are theirs alone:
//! taking one in (or refusing it when the outbox is full), a receipt that confirms
//! one, and the draft scope's session.
//!
//! A message is a prompt when its endpoint is `send` and any part of the contract is
//! on ([`Machine::is_prompt`]); with the contract off no prompt exists and nothing here
//! runs.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::action::{Action, PromptNotice, Warning};
use super::endpoint::Endpoint;
use super::ids::MsgId;
use super::lifecycle::Phase;
use super::machine::Machine;
use super::outcome::{Fate, SendOutcome};
use super::persist::StoredPrompt;
use super::queue::Pending;
use super::receipt::Receipt;
use super::seq;

/// What the shell read from a prompt's body for [`Machine::send_prompt`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prompt<'a> {
    /// Its `clientMsgId`: only a receipt naming it confirms the prompt. The shell gives
    /// a prompt one when the app's message has none.
    pub client_msg_id: Option<&'a str>,
    /// Its `sessionId`; `None` for `null` or absent (a prompt of a new chat's draft).
    pub session_id: Option<&'a str>,
}

/// One prompt the machine holds and has not settled.
#[derive(Clone, Debug)]
struct Entry {
    msg: MsgId,
    client_msg_id: Option<String>,
    session_id: Option<String>,
    /// The draft scope it was sent in: a new one starts at `clear_pending_sends`.
    scope: u32,
    /// Posted at least once: its body is on the wire and must never change.
    posted: bool,
    /// Its draft's name in the persisted outbox, once stored (`StoredPrompt::draft`).
    draft: Option<String>,
}

/// The unsettled prompts, in send order, and the session each draft scope took.
#[derive(Clone, Debug, Default)]
pub(crate) struct Prompts {
    entries: Vec<Entry>,
    /// The current draft scope.
    scope: u32,
    /// The last scope given out: the current one, or a restored draft's.
    last_scope: u32,
    /// The session the first receipt naming one gave each scope (only scopes that
    /// still have prompts, and the current one).
    scope_sessions: Vec<(u32, String)>,
}

impl Prompts {
    /// Takes `msg` in, in the current scope. Returns the session it must take at once
    /// (its body has none and its scope already has one).
    fn register(&mut self, msg: MsgId, prompt: Prompt<'_>) -> Option<String> {
        let adopted = match prompt.session_id {
            Some(_) => None,
            None => self.session_of_scope(self.scope).map(ToOwned::to_owned),
        };
        self.entries.push(Entry {
            msg,
            client_msg_id: prompt.client_msg_id.map(ToOwned::to_owned),
            session_id: prompt.session_id.map(ToOwned::to_owned).or(adopted.clone()),
            scope: self.scope,
            posted: false,
            draft: None,
        });
        adopted
    }

    /// Takes in a prompt a stored record gave back: in a scope of its own draft (the
    /// one of an earlier prompt of the same draft, or a new one), never the current
    /// scope, since a new page's drafts are new.
    fn restore(&mut self, msg: MsgId, key: &str, stored: &StoredPrompt) {
        let same_draft = self
            .entries
            .iter()
            .find(|e| e.draft.as_ref() == Some(&stored.draft));
        let scope = match same_draft {
            Some(entry) => entry.scope,
            None => {
                self.last_scope = self.last_scope.wrapping_add(1);
                self.last_scope
            }
        };
        self.entries.push(Entry {
            msg,
            client_msg_id: Some(key.to_owned()),
            session_id: stored.session_id.clone(),
            scope,
            posted: stored.posted,
            draft: Some(stored.draft.clone()),
        });
    }

    /// Prompt `msg` is stored under `key`: it gets its draft's name, the one an
    /// earlier stored prompt of its scope has, else its own key. False when `msg` is
    /// no prompt.
    pub(crate) fn store(&mut self, msg: MsgId, key: &str) -> bool {
        let Some(scope) = self.entry(msg).map(|e| e.scope) else {
            return false;
        };
        let named = self
            .entries
            .iter()
            .find(|e| e.scope == scope && e.draft.is_some())
            .and_then(|e| e.draft.clone());
        if let Some(entry) = self.entries.iter_mut().find(|e| e.msg == msg) {
            entry.draft = Some(named.unwrap_or_else(|| key.to_owned()));
        }
        true
    }

    /// What the record of stored prompt `msg` says of it; `None` when it is not stored.
    pub(crate) fn stored(&self, msg: MsgId) -> Option<StoredPrompt> {
        let entry = self.entry(msg)?;
        Some(StoredPrompt {
            session_id: entry.session_id.clone(),
            draft: entry.draft.clone()?,
            posted: entry.posted,
        })
    }

    fn session_of_scope(&self, scope: u32) -> Option<&str> {
        let found = self.scope_sessions.iter().find(|(s, _)| *s == scope);
        found.map(|(_, session)| session.as_str())
    }

    fn entry(&self, msg: MsgId) -> Option<&Entry> {
        self.entries.iter().find(|e| e.msg == msg)
    }

    pub(crate) fn client_msg_id(&self, msg: MsgId) -> Option<&str> {
        self.entry(msg)?.client_msg_id.as_deref()
    }

    /// `msg` is being posted. True when its record must say so now: it is stored,
    /// posted for the first time and has no session (only such a prompt could adopt
    /// one, and after this it must not).
    pub(crate) fn posted(&mut self, msg: MsgId) -> bool {
        let Some(entry) = self.entries.iter_mut().find(|e| e.msg == msg) else {
            return false;
        };
        let first = !entry.posted;
        entry.posted = true;
        first && entry.session_id.is_none() && entry.draft.is_some()
    }

    /// `msg`'s fate is settled; false if it was not a prompt.
    pub(crate) fn settled(&mut self, msg: MsgId) -> bool {
        let Some(at) = self.entries.iter().position(|e| e.msg == msg) else {
            return false;
        };
        seq::remove_at(&mut self.entries, at);
        // A scope's session is kept while it can still be given to someone.
        let (entries, current) = (&self.entries, self.scope);
        self.scope_sessions
            .retain(|(scope, _)| *scope == current || entries.iter().any(|e| e.scope == *scope));
        true
    }

    /// A new draft scope: prompts sent from now on never take the session of a
    /// receipt of an earlier one.
    pub(crate) fn new_scope(&mut self) {
        self.last_scope = self.last_scope.wrapping_add(1);
        self.scope = self.last_scope;
    }

    /// A receipt for `msg` named `session`: the first such receipt of its scope gives
    /// the session to the scope's prompts that have none and were never posted (a
    /// posted body must stay the same). Returns those prompts.
    fn adopt(&mut self, msg: MsgId, session: &str) -> Vec<MsgId> {
        let Some(scope) = self.entry(msg).map(|e| e.scope) else {
            return Vec::new();
        };
        if self.session_of_scope(scope).is_some() {
            return Vec::new();
        }
        self.scope_sessions.push((scope, session.to_owned()));
        let mut adopters = Vec::new();
        for entry in self.entries.iter_mut() {
            let orphan = entry.session_id.is_none() && !entry.posted;
            if entry.scope == scope && entry.msg != msg && orphan {
                entry.session_id = Some(session.to_owned());
                adopters.push(entry.msg);
            }
        }
        adopters
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

impl Machine {
    /// Whether a message to `endpoint` is a prompt, to be sent with
    /// [`Machine::send_prompt`]: a `send` while any part of the existing client's
    /// current contract is on (receipts, sends without the stream, the outbox's rules,
    /// notices).
    pub fn is_prompt(&self, endpoint: Endpoint) -> bool {
        let c = &self.config;
        let contract = c.receipts || c.send_without_stream || c.prompt_outbox || c.notices;
        endpoint == Endpoint::Send && contract
    }

    /// `send` for a prompt, with what its body says. Refused when down and not
    /// recovering (as `send`), and, with `prompt_outbox`, when `max_pending_sends`
    /// prompts are unsettled (with a warning: the outbox never evicts what the user
    /// typed). Its POSTs are `Action::PostPrompt`s. With the contract off it is a plain
    /// `send` to `send`.
    pub fn send_prompt(&mut self, now: u64, prompt: Prompt<'_>) -> SendOutcome {
        if !self.is_prompt(Endpoint::Send) {
            return self.send(now, Endpoint::Send);
        }
        if matches!(self.phase, Phase::Idle | Phase::Disconnected) {
            return SendOutcome::Refused;
        }
        if self.config.prompt_outbox && self.prompts.len() >= self.config.max_pending_sends {
            self.push(Action::Warn(Warning::OutboxFull));
            return SendOutcome::Refused;
        }
        let msg = self.alloc_msg();
        if let Some(session_id) = self.prompts.register(msg, prompt) {
            self.push(Action::AdoptSession {
                msgs: vec![msg],
                session_id,
            });
        }
        self.tell_prompt(msg, PromptNotice::Pending { retrying: false });
        let outcome = self.admit(now, Pending::prompt(msg));
        // Stored after it was posted or queued, as `send_keyed` does (the shell writes
        // the record before it posts), so the record knows whether it was posted.
        if let Some(key) = prompt.client_msg_id {
            self.persist_new(now, msg, Endpoint::Send, key);
        }
        outcome
    }

    /// A stored prompt taken back by `restore` (`msg`, its record's `key`): a prompt
    /// of this machine again, in its draft, its listener told it is pending, and its
    /// body given the session its draft adopted before the page went.
    pub(super) fn restore_prompt(&mut self, msg: MsgId, key: &str, stored: &StoredPrompt) {
        self.prompts.restore(msg, key, stored);
        if let (Some(session_id), false) = (&stored.session_id, stored.posted) {
            let session_id = session_id.clone();
            self.push(Action::AdoptSession {
                msgs: vec![msg],
                session_id,
            });
        }
        self.tell_prompt(msg, PromptNotice::Pending { retrying: false });
    }

    /// A receipt confirmed prompt `msg`: with `prompt_outbox`, its session goes to the
    /// orphans of its draft and, if new, is tracked from seq 0 and replayed; then the
    /// receipt and the report.
    pub(super) fn accept_receipt(&mut self, now: u64, item: &Pending, receipt: Receipt) {
        if self.config.prompt_outbox {
            if let Some(session) = receipt.session_id.as_deref() {
                let msgs = self.prompts.adopt(item.msg, session);
                // Their records say their session from now on (the bodies in the
                // store may still say null: a restore gives it back to them).
                for &msg in &msgs {
                    let queued = self.queue.iter().find(|q| q.msg == msg).cloned();
                    if let Some(queued) = queued {
                        self.persist_attempt(&queued);
                    }
                }
                if !msgs.is_empty() {
                    let session_id = session.to_owned();
                    self.push(Action::AdoptSession { msgs, session_id });
                }
                if self.sessions.last_seq(session).is_none() {
                    self.sessions.track(session, 0);
                    self.request_replay(now);
                }
            }
        }
        self.conclude(item, Fate::Delivered, Some(receipt));
    }

    /// A per-prompt notice, when notices are on.
    pub(super) fn tell_prompt(&mut self, msg: MsgId, notice: PromptNotice) {
        if self.config.notices {
            self.push(Action::Prompt { msg, notice });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt<'a>(session_id: Option<&'a str>) -> Prompt<'a> {
        Prompt {
            client_msg_id: Some("m"),
            session_id,
        }
    }

    #[test]
    fn the_first_receipt_of_a_scope_gives_its_session_to_unposted_orphans_only() {
        let mut prompts = Prompts::default();
        prompts.register(MsgId(1), prompt(None));
        prompts.register(MsgId(2), prompt(None));
        prompts.register(MsgId(3), prompt(Some("other")));
        prompts.register(MsgId(4), prompt(None));
        prompts.posted(MsgId(2));
        assert_eq!(prompts.adopt(MsgId(1), "s"), [MsgId(4)]);
        assert_eq!(prompts.adopt(MsgId(3), "t"), [], "the first receipt wins");
        assert_eq!(
            prompts.register(MsgId(5), prompt(None)).as_deref(),
            Some("s"),
            "a later orphan of the scope takes it at once"
        );
        assert_eq!(prompts.register(MsgId(6), prompt(Some("u"))), None);
    }

    #[test]
    fn a_new_scope_does_not_take_an_earlier_scopes_session() {
        let mut prompts = Prompts::default();
        prompts.register(MsgId(1), prompt(None));
        prompts.register(MsgId(2), prompt(None));
        prompts.new_scope();
        prompts.register(MsgId(3), prompt(None));
        assert_eq!(prompts.adopt(MsgId(1), "s"), [MsgId(2)]);
        assert_eq!(prompts.register(MsgId(4), prompt(None)), None);
        assert_eq!(prompts.adopt(MsgId(3), "t"), [MsgId(4)]);
    }

    #[test]
    fn a_scope_keeps_its_session_while_it_has_prompts_or_is_current() {
        let mut prompts = Prompts::default();
        prompts.register(MsgId(1), prompt(None));
        prompts.register(MsgId(2), prompt(None));
        prompts.posted(MsgId(2));
        prompts.adopt(MsgId(1), "s");
        prompts.new_scope();
        assert!(prompts.settled(MsgId(1)));
        assert_eq!(prompts.session_of_scope(0), Some("s"), "2 is still held");
        assert!(prompts.settled(MsgId(2)));
        assert_eq!(prompts.session_of_scope(0), None);
        assert!(!prompts.settled(MsgId(2)), "settled once");
        prompts.register(MsgId(3), prompt(None));
        prompts.register(MsgId(4), prompt(None));
        prompts.adopt(MsgId(3), "t");
        prompts.settled(MsgId(3));
        prompts.settled(MsgId(4));
        assert_eq!(
            prompts.session_of_scope(1),
            Some("t"),
            "the current scope's"
        );
        assert_eq!(prompts.len(), 0);
    }

    #[test]
    fn an_unknown_prompt_adopts_nothing_and_has_no_id() {
        let mut prompts = Prompts::default();
        prompts.register(MsgId(1), prompt(None));
        assert_eq!(prompts.adopt(MsgId(9), "s"), []);
        assert_eq!(prompts.client_msg_id(MsgId(9)), None);
        assert_eq!(prompts.client_msg_id(MsgId(1)), Some("m"));
    }
}
