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

#[test]
fn a_record_is_read_back_from_its_version_1_fields_whatever_else_the_entry_holds() {
    let stored = json!({
        "version": 1,
        "key": "m:1",
        "endpoint": "permission",
        "order": 1_740_800_000_000_000_u64,
        "enqueuedAt": 1_700_000_000_000_u64,
        "stale404s": 2,
        "retries": 3,
        "owner": "page-a",
        "body": "{\"type\":\"permission_response\"}",
    });
    let record: Record = serde_json::from_value(stored).unwrap();
    assert_eq!(
        record,
        Record {
            version: RECORD_VERSION,
            key: "m:1".into(),
            endpoint: Endpoint::Permission,
            order: 1_740_800_000_000_000,
            enqueued_at: 1_700_000_000_000,
            stale_404s: 2,
            retries: 3,
            owner: "page-a".into(),
        }
    );
}

#[test]
fn an_entry_missing_a_field_or_naming_no_endpoint_is_no_record() {
    let whole = json!({
        "version": 1, "key": "k", "endpoint": "send", "order": 1, "enqueuedAt": 1,
        "stale404s": 0, "retries": 0, "owner": "o",
    });
    assert!(serde_json::from_value::<Record>(whole.clone()).is_ok());
    for field in [
        "version",
        "key",
        "endpoint",
        "order",
        "enqueuedAt",
        "stale404s",
        "retries",
        "owner",
    ] {
        let mut partial = whole.clone();
        partial.as_object_mut().unwrap().remove(field);
        assert!(
            serde_json::from_value::<Record>(partial).is_err(),
            "without {field}"
        );
    }
    for endpoint in ["permission_response", "Send", "", "/api/chat/send"] {
        let mut other = whole.clone();
        other["endpoint"] = json!(endpoint);
        assert!(
            serde_json::from_value::<Record>(other).is_err(),
            "endpoint {endpoint}"
        );
    }
    let mut negative = whole;
    negative["retries"] = json!(-1);
    assert!(serde_json::from_value::<Record>(negative).is_err());
}
