//! The stored record's format, as the shell writes it into every store: pages of later
//! versions read what earlier ones left, so a field's name or shape never changes
//! without a new `RECORD_VERSION`. Version 2 added a prompt's state (`prompt`); a
//! version 1 record (no `prompt`) is still read, as a plain message.

#![cfg(not(target_arch = "wasm32"))]

use serde_json::json;
use sse_courier::core::{reads_version, Endpoint, Record, StoredPrompt, RECORD_VERSION};

fn record(prompt: Option<StoredPrompt>) -> Record {
    Record {
        version: RECORD_VERSION,
        key: "m:1".into(),
        endpoint: Endpoint::Send,
        order: 1_700_000_000_000 * 1024,
        enqueued_at: 1_700_000_000_000,
        stale_404s: 2,
        retries: 3,
        owner: "page-a".into(),
        prompt,
    }
}

#[test]
fn a_record_is_written_with_every_field_under_its_version_2_name() {
    assert_eq!(RECORD_VERSION, 2);
    assert_eq!(
        serde_json::to_value(record(None)).unwrap(),
        json!({
            "version": 2,
            "key": "m:1",
            "endpoint": "send",
            "order": 1_740_800_000_000_000_u64,
            "enqueuedAt": 1_700_000_000_000_u64,
            "stale404s": 2,
            "retries": 3,
            "owner": "page-a",
        }),
        "a plain message's record is version 1's fields under a new version"
    );
}

#[test]
fn a_prompts_record_carries_its_session_draft_and_whether_it_was_posted() {
    let prompt = StoredPrompt {
        session_id: Some("s-1".into()),
        draft: "m:0".into(),
        posted: true,
    };
    let value = serde_json::to_value(record(Some(prompt))).unwrap();
    assert_eq!(
        value["prompt"],
        json!({ "sessionId": "s-1", "draft": "m:0", "posted": true })
    );
    let orphan = StoredPrompt {
        session_id: None,
        draft: "m:1".into(),
        posted: false,
    };
    // serde_json writes no session as `null`; the shell's serde-wasm-bindgen leaves
    // `sessionId` out: its reader takes both as none (src/web/store/record.rs).
    let value = serde_json::to_value(record(Some(orphan))).unwrap();
    assert_eq!(
        value["prompt"],
        json!({ "sessionId": null, "draft": "m:1", "posted": false })
    );
}

#[test]
fn version_1_records_are_still_read_and_no_other_version_is() {
    assert!(reads_version(1));
    assert!(reads_version(2));
    assert!(!reads_version(0));
    assert!(!reads_version(3));
}
