//! The stored record's format (version 1), as the shell writes it into every store:
//! pages of later versions read what earlier ones left, so a field's name or shape
//! never changes without a new `RECORD_VERSION`.

#![cfg(not(target_arch = "wasm32"))]

use serde_json::json;
use sse_courier::core::{Endpoint, Record, RECORD_VERSION};

#[test]
fn a_record_is_written_with_every_field_under_its_version_1_name() {
    let record = Record {
        version: RECORD_VERSION,
        key: "m:1".into(),
        endpoint: Endpoint::Send,
        order: 1_700_000_000_000 * 1024,
        enqueued_at: 1_700_000_000_000,
        stale_404s: 2,
        retries: 3,
        owner: "page-a".into(),
    };
    assert_eq!(
        serde_json::to_value(&record).unwrap(),
        json!({
            "version": 1,
            "key": "m:1",
            "endpoint": "send",
            "order": 1_740_800_000_000_000_u64,
            "enqueuedAt": 1_700_000_000_000_u64,
            "stale404s": 2,
            "retries": 3,
            "owner": "page-a",
        })
    );
}
