//! Receipts (docs/delivery-rules.md, rule 14): what the body of a 2xx answer to a
//! prompt must say for the prompt to count as delivered, and the judgement of a body
//! against the prompt's own `clientMsgId`.
//!
//! The shell reads the body: `JSON.parse` of its text, then `serde_wasm_bindgen` into
//! [`ReceiptBody`]; either failing means "not a receipt". The core decides what the
//! parsed body means ([`AnswerBody::from_parsed`], [`AnswerBody::confirms`]), so the
//! rule is written once, in Rust, and tested natively (with `serde_json` standing in
//! for `JSON.parse`).

use alloc::string::String;
use serde::Deserialize;

/// A 2xx body as the server wrote it, when it has the receipt's shape:
/// `{ accepted: boolean, clientMsgId: string, sessionId: string | null }`. Other
/// fields are ignored. `sessionId` must be present (`null` is a value): a body without
/// it is not a receipt, so a server that forgot to say where the prompt went is asked
/// again rather than believed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptBody {
    pub accepted: bool,
    pub client_msg_id: String,
    /// `deserialize_with` makes the field required: serde would take a missing
    /// `Option` as `None`.
    #[serde(deserialize_with = "Option::deserialize")]
    pub session_id: Option<String>,
}

/// What a server's receipt says: the prompt `client_msg_id` is accepted, in
/// `session_id` (`None`: the server named no session).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub client_msg_id: String,
    pub session_id: Option<String>,
}

/// The body of a 2xx answer to a prompt, as far as delivery is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerBody {
    /// `accepted: true` with a `clientMsgId` and a `sessionId`.
    Receipt(Receipt),
    /// Anything else: HTML, an empty body, `accepted` not the boolean `true`, a
    /// missing field, a field of the wrong type.
    NotAReceipt,
}

impl AnswerBody {
    /// The judgement of a body the shell parsed (`None`: it was not JSON, or not of
    /// [`ReceiptBody`]'s shape).
    pub fn from_parsed(parsed: Option<ReceiptBody>) -> Self {
        match parsed {
            Some(ReceiptBody {
                accepted: true,
                client_msg_id,
                session_id,
            }) => AnswerBody::Receipt(Receipt {
                client_msg_id,
                session_id,
            }),
            _ => AnswerBody::NotAReceipt,
        }
    }

    /// The receipt, if this is the receipt of the prompt whose `clientMsgId` is
    /// `own` (`None`: the prompt has none, so no receipt can be its own).
    pub(crate) fn confirms(self, own: Option<&str>) -> Option<Receipt> {
        match self {
            AnswerBody::Receipt(receipt) if Some(receipt.client_msg_id.as_str()) == own => {
                Some(receipt)
            }
            _ => None,
        }
    }
}

// serde_json is a native dev-dependency only.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;

    /// What the shell does (`JSON.parse`, then serde into `ReceiptBody`), natively.
    fn judge(text: &str) -> AnswerBody {
        AnswerBody::from_parsed(serde_json::from_str::<ReceiptBody>(text).ok())
    }

    fn receipt(id: &str, session: Option<&str>) -> AnswerBody {
        AnswerBody::Receipt(Receipt {
            client_msg_id: id.to_owned(),
            session_id: session.map(ToOwned::to_owned),
        })
    }

    #[test]
    fn a_receipt_names_the_prompt_and_its_session_or_null() {
        assert_eq!(
            judge(r#"{"accepted":true,"clientMsgId":"m1","sessionId":"s1"}"#),
            receipt("m1", Some("s1"))
        );
        assert_eq!(
            judge(r#"{"accepted":true,"clientMsgId":"m1","sessionId":null}"#),
            receipt("m1", None)
        );
    }

    #[test]
    fn other_fields_are_ignored() {
        let text =
            r#"{"ok":true,"duplicate":true,"accepted":true,"clientMsgId":"m1","sessionId":"s"}"#;
        assert_eq!(judge(text), receipt("m1", Some("s")));
    }

    #[test]
    fn anything_else_is_not_a_receipt() {
        for text in [
            "",
            "<!doctype html><html><body>OK</body></html>",
            "null",
            "[]",
            r#"{"ok":true}"#,
            r#"{"accepted":"true","clientMsgId":"m1","sessionId":"s"}"#,
            r#"{"accepted":false,"clientMsgId":"m1","sessionId":"s"}"#,
            r#"{"accepted":1,"clientMsgId":"m1","sessionId":"s"}"#,
            r#"{"accepted":true,"sessionId":"s"}"#,
            r#"{"accepted":true,"clientMsgId":7,"sessionId":"s"}"#,
            r#"{"accepted":true,"clientMsgId":"m1"}"#,
            r#"{"accepted":true,"clientMsgId":"m1","sessionId":42}"#,
        ] {
            assert_eq!(judge(text), AnswerBody::NotAReceipt, "{text}");
        }
    }

    #[test]
    fn only_the_prompts_own_id_confirms_it() {
        let good = receipt("m1", Some("s"));
        assert_eq!(
            good.clone().confirms(Some("m1")).map(|r| r.session_id),
            Some(Some("s".to_owned()))
        );
        assert_eq!(good.clone().confirms(Some("m2")), None);
        assert_eq!(good.confirms(None), None);
        assert_eq!(AnswerBody::NotAReceipt.confirms(Some("m1")), None);
    }
}
