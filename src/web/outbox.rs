//! The shell's half of the persisted outbox (the `persist` option): carries out the
//! core's store operations through `outbox.js`, and hands the core what a read of the
//! store gave back, then acts on its verdicts. What is stored, taken back, expired or
//! left alone is the core's decision (`crate::core::persist`).

use alloc::string::String;
use alloc::vec::Vec;

use js_sys::Array;
use wasm_bindgen::JsValue;

use super::boundary;
use super::config::PersistOptions;
use super::js;
use super::report::{self, Outcome};
use super::shell::{pump, Outgoing, Shared};
use crate::core::{
    Config, Driver, Endpoint, LeftAlone, Machine, OutboxAction, PersistConfig, Record, Restored,
    Stored,
};

/// A machine with the outbox on, and the outbox's JS half: a new owner id for this page
/// load, the store the app named, and the owner lock.
pub fn open(
    persist: &PersistOptions,
    config: Config,
    seed: u64,
    inbox: &JsValue,
) -> (Machine, JsValue) {
    let owner = js::new_owner_id();
    let persist_config = PersistConfig {
        owner: owner.as_string().unwrap_or_default(),
        max_age_ms: persist.max_age_ms,
    };
    let core = Machine::with_persist(config, persist_config, seed);
    let outbox = js::open_outbox(&persist.store, &persist.namespace, &owner, inbox);
    (core, outbox)
}

/// Whether a message to `endpoint` will be stored.
pub fn persists(shell: &Shared, endpoint: Endpoint) -> bool {
    shell.borrow().core.machine().persists(endpoint)
}

/// Starts reading the store back, at the first `connect()` (the core holds retryable
/// messages until then, so that the stored ones go first).
pub fn restore_at_first_connect(shell: &Shared) {
    let outbox = {
        let s = shell.borrow();
        s.core
            .machine()
            .awaiting_restore()
            .then(|| s.outbox.clone())
    };
    if let Some(outbox) = outbox {
        js::outbox_restore(&outbox);
    }
}

/// Appends to `list` the messages read back from the store that have no fate yet,
/// oldest first.
pub fn list_restored_pending(shell: &Shared, list: &Array) {
    let s = shell.borrow();
    for id in s.core.machine().restored_pending() {
        if let Some(outgoing) = s.outgoing.iter().find(|o| o.id == id) {
            list.push(&outgoing.message);
        }
    }
}

/// Carries out one store operation or warning of the core's.
pub fn perform(shell: &Shared, action: OutboxAction) {
    let outbox = shell.borrow().outbox.clone();
    match action {
        OutboxAction::Put { msg, record } => {
            let body = {
                let s = shell.borrow();
                let outgoing = s.outgoing.iter().find(|o| o.id == msg);
                outgoing.map_or(JsValue::UNDEFINED, |o| o.body.clone())
            };
            match boundary::to_js(&record) {
                Ok(fields) => js::outbox_put(&outbox, &js::string(&record.key), &fields, &body),
                Err(error) => js::warn(&error),
            }
        }
        OutboxAction::Remove { key } => js::outbox_remove(&outbox, &js::string(&key)),
        OutboxAction::Warn(warning) => js::warn(&js::string(warning.message())),
    }
}

/// A read of the store (`entries`, as `outbox.js`'s `decodeEntry` made them) with the
/// owner ids whose lock is held now: the core decides, then the taken messages join
/// the outgoing ones, the expired ones are reported, and the records of live pages
/// are awaited.
pub fn on_restore(shell: &Shared, entries: &JsValue, live_owners: &JsValue) {
    let entries = js::items(entries);
    let live: Vec<String> = js::items(live_owners)
        .iter()
        .filter_map(JsValue::as_string)
        .collect();
    let stored: Vec<Stored> = entries.iter().map(read_stored).collect();
    let verdicts = shell.borrow_mut().core.restore(js::now(), &stored, &live);
    let mut expired = Vec::new();
    for ((verdict, entry), stored) in verdicts.iter().zip(&entries).zip(&stored) {
        let Stored::Record(record) = stored else {
            continue;
        };
        match verdict {
            Restored::Taken(id) => shell.borrow_mut().outgoing.push(Outgoing {
                id: *id,
                message: js::get(entry, "message"),
                body: js::get(entry, "body"),
                endpoint: record.endpoint,
                client_msg_id: js::string(&record.key),
                session_id: None,
                receipt: None,
            }),
            Restored::Expired => expired.push((entry, record)),
            Restored::Left(LeftAlone::OwnedElsewhere) => {
                let outbox = shell.borrow().outbox.clone();
                js::outbox_await_owner(&outbox, &js::string(&record.owner));
            }
            Restored::Left(_) => {}
        }
    }
    // The claims and removals are written (outbox actions first), then the expired
    // messages are reported: a report follows its record's removal.
    pump(shell);
    let config = shell.borrow().config.clone();
    for (entry, record) in expired {
        let expired = Outgoing {
            id: crate::core::MsgId(0),
            message: js::get(entry, "message"),
            body: JsValue::UNDEFINED,
            endpoint: record.endpoint,
            client_msg_id: js::string(&record.key),
            session_id: None,
            receipt: None,
        };
        report::tell_app(&config, Outcome::EXPIRED, &expired);
    }
}

/// One decoded entry as the core takes it: a record when `outbox.js` could read every
/// field and the endpoint is one this library knows, else unreadable (with its format
/// version when that much was readable).
fn read_stored(entry: &JsValue) -> Stored {
    let key = js::get(entry, "key").as_string().unwrap_or_default();
    let version = js::as_count(&js::get(entry, "version")).map(|v| v.min(u32::MAX.into()) as u32);
    let count = |name: &str| js::as_count(&js::get(entry, name)).unwrap_or(0);
    let endpoint = js::get(entry, "endpoint")
        .as_string()
        .and_then(|path| Endpoint::from_path(&path));
    match (js::get(entry, "record").as_f64() == Some(1.0), endpoint) {
        (true, Some(endpoint)) => Stored::Record(Record {
            version: version.unwrap_or(0),
            key,
            endpoint,
            order: count("order"),
            enqueued_at: count("enqueuedAt"),
            stale_404s: count("stale404s").min(u32::MAX.into()) as u32,
            retries: count("retries").min(u32::MAX.into()) as u32,
            owner: js::get(entry, "owner").as_string().unwrap_or_default(),
        }),
        _ => Stored::Unreadable { key, version },
    }
}
