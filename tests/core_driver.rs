//! The `Driver` trait the shell is written against: an input given through it reaches
//! the machine as if given to the machine itself, in the machine alone and in a tab
//! around it (`tests/core_tab_alone.rs` checks the rest of the machine's inputs).
#![cfg(not(target_arch = "wasm32"))]

use sse_courier::core::{
    Config, Driver, Endpoint, Machine, OutboxAction, PersistConfig, Record, Restored, Stored, Tab,
    TabConfig, TabId, RECORD_VERSION,
};

/// A record a page that is gone (`owner`) left in the store.
fn left_by(owner: &str, key: &str, order: u64) -> Stored {
    Stored::Record(Record {
        version: RECORD_VERSION,
        key: key.into(),
        endpoint: Endpoint::Send,
        order,
        enqueued_at: 1_000,
        stale_404s: 0,
        retries: 0,
        owner: owner.into(),
        prompt: None,
    })
}

fn persisting_machine() -> Machine {
    Machine::with_persist(Config::default(), PersistConfig::new("this-page"), 7)
}

/// The store read back through `driver`, after `connect()`.
fn restore_through(driver: &mut impl Driver) -> Vec<Restored> {
    driver.input(2_000, |m| m.connect(2_000));
    let stored = [left_by("gone", "k1", 1), left_by("gone", "k2", 2)];
    driver.restore(2_000, &stored, &[])
}

#[test]
fn the_store_read_back_through_the_driver_is_the_machines_restore() {
    let mut bare = persisting_machine();
    bare.connect(2_000);
    let stored = [left_by("gone", "k1", 1), left_by("gone", "k2", 2)];
    let expected = bare.restore(2_000, &stored, &[]);
    assert_eq!(expected.len(), 2);
    assert!(expected.iter().all(|v| matches!(v, Restored::Taken(_))));

    let mut machine = persisting_machine();
    assert_eq!(restore_through(&mut machine), expected);
    assert_eq!(machine.restored_pending().count(), 2);

    let mut tab = Tab::alone(persisting_machine(), TabConfig::new(TabId(1)));
    assert_eq!(restore_through(&mut tab), expected);
    assert_eq!(tab.machine().restored_pending().count(), 2);
}

/// A keyed send through `driver`, then its store operations as the shell drains them.
fn store_operations_through(driver: &mut impl Driver) -> Vec<OutboxAction> {
    driver.input(2_000, |m| m.connect(2_000));
    driver.restore(2_000, &[], &[]);
    driver.input(2_000, |m| m.send_keyed(2_000, Endpoint::Send, "k1"));
    core::iter::from_fn(|| driver.poll_outbox_action()).collect()
}

#[test]
fn the_outbox_operations_come_out_of_the_driver_as_out_of_the_machine() {
    let mut bare = persisting_machine();
    bare.connect(2_000);
    bare.restore(2_000, &[], &[]);
    bare.send_keyed(2_000, Endpoint::Send, "k1");
    let expected: Vec<OutboxAction> = core::iter::from_fn(|| bare.poll_outbox_action()).collect();
    assert!(
        matches!(expected.as_slice(), [OutboxAction::Put { .. }]),
        "the record is put: {expected:?}"
    );

    assert_eq!(
        store_operations_through(&mut persisting_machine()),
        expected
    );
    let mut tab = Tab::alone(persisting_machine(), TabConfig::new(TabId(1)));
    assert_eq!(store_operations_through(&mut tab), expected);
}
