//! What the tabs post on the channel: each `Wire` message serialised as the shell posts
//! it, an object tagged by its `kind` with every field under its own name, and read
//! back the same; a message of another shape is not one.

#![cfg(not(target_arch = "wasm32"))]

use serde_json::json;
use sse_courier::core::{SessionSeq, TabId, Term, Wire};

const TERM: Term = Term {
    epoch: 1_700_000_000_000,
    leader: TabId(42),
};

fn term() -> serde_json::Value {
    json!({ "epoch": 1_700_000_000_000_u64, "leader": 42 })
}

#[test]
fn each_message_is_tagged_by_its_kind_with_every_field_by_name() {
    let cases = [
        (
            Wire::Leader { term: TERM },
            json!({ "kind": "leader", "term": term() }),
        ),
        (
            Wire::State {
                term: TERM,
                n: 3,
                connection_id: Some("conn-1".into()),
                connected: true,
            },
            json!({ "kind": "state", "term": term(), "n": 3, "connectionId": "conn-1", "connected": true }),
        ),
        (
            Wire::Event {
                term: TERM,
                n: 4,
                session_id: Some("room-7".into()),
                seq: Some(41),
            },
            json!({ "kind": "event", "term": term(), "n": 4, "sessionId": "room-7", "seq": 41 }),
        ),
        (
            Wire::Heartbeat { term: TERM },
            json!({ "kind": "heartbeat", "term": term() }),
        ),
        (
            Wire::Sessions {
                term: TERM,
                from: TabId(7),
                seen: Some(2),
                sessions: vec![SessionSeq {
                    session_id: "room-7".into(),
                    last_seq: 40,
                }],
            },
            json!({
                "kind": "sessions", "term": term(), "from": 7, "seen": 2,
                "sessions": [{ "sessionId": "room-7", "lastSeq": 40 }],
            }),
        ),
        (
            Wire::Rebuild {
                term: TERM,
                connection_id: "conn-1".into(),
            },
            json!({ "kind": "rebuild", "term": term(), "connectionId": "conn-1" }),
        ),
        (
            Wire::Bye {
                term: TERM,
                from: TabId(7),
            },
            json!({ "kind": "bye", "term": term(), "from": 7 }),
        ),
    ];
    for (wire, expected) in cases {
        assert_eq!(serde_json::to_value(&wire).unwrap(), expected, "{wire:?}");
        assert_eq!(serde_json::from_value::<Wire>(expected).unwrap(), wire);
    }
}

#[test]
fn a_message_of_another_shape_is_not_one() {
    for stranger in [
        json!([2, 1, 42, 4, "room-7", 41, [], null]),
        json!({ "kind": "mutiny", "term": term() }),
        json!({ "kind": "event", "term": term(), "n": -1 }),
        json!({ "kind": "event", "term": term(), "n": 1.5 }),
        json!({ "kind": "rebuild", "term": term() }),
    ] {
        assert!(
            serde_json::from_value::<Wire>(stranger.clone()).is_err(),
            "{stranger}"
        );
    }
}
