//! Receipts: what a `send` is answered with once the server has it, and the ways a
//! test can break one (`POST /api/test/break-receipts`).
//!
//! A receipt is `{"accepted": true, "clientMsgId", "sessionId"}` beside the older
//! `{"ok": true, "duplicate"}` fields, for a new send and for a repeat alike: a client
//! that resends a prompt it is unsure about must hear the same receipt again, or it
//! could never settle it. A broken receipt is an answer a client must not believe:
//! the send is still processed (as if a proxy mangled the answer on its way back), so
//! the client's resend meets the de-duplication.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The answer to an accepted `send`: the receipt, and whether it was a repeat.
pub(crate) fn receipt(client_msg_id: Option<&str>, session_id: &str, duplicate: bool) -> Value {
    json!({
        "ok": true,
        "duplicate": duplicate,
        "accepted": true,
        "clientMsgId": client_msg_id,
        "sessionId": session_id,
    })
}

/// How an armed fault breaks the next receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReceiptFault {
    /// A 200 `text/html` page instead of JSON (a captive portal, a proxy's page).
    Html,
    /// The receipt of another message: `clientMsgId` is not the one sent.
    WrongId,
    /// No `sessionId` field at all.
    MissingSession,
}

impl ReceiptFault {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "html" => ReceiptFault::Html,
            "wrong_id" => ReceiptFault::WrongId,
            "missing_session" => ReceiptFault::MissingSession,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ReceiptFault::Html => "html",
            ReceiptFault::WrongId => "wrong_id",
            ReceiptFault::MissingSession => "missing_session",
        }
    }

    /// The 200 answer this fault makes of `receipt`.
    pub fn answer(self, mut receipt: Value) -> Response {
        match self {
            ReceiptFault::Html => html_page(),
            ReceiptFault::WrongId => {
                let wrong = format!(
                    "{}-not-this-one",
                    receipt["clientMsgId"].as_str().unwrap_or("")
                );
                receipt["clientMsgId"] = json!(wrong);
                crate::error::ok(receipt)
            }
            ReceiptFault::MissingSession => {
                if let Some(fields) = receipt.as_object_mut() {
                    fields.remove("sessionId");
                }
                crate::error::ok(receipt)
            }
        }
    }
}

fn html_page() -> Response {
    let page = "<!doctype html><title>OK</title><p>Request received.</p>";
    let mut response = (StatusCode::OK, page).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(response: Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn a_receipt_names_the_message_and_its_session() {
        let answer = receipt(Some("m1"), "s", false);
        assert_eq!(answer["accepted"], true);
        assert_eq!(answer["clientMsgId"], "m1");
        assert_eq!(answer["sessionId"], "s");
        assert_eq!(answer["duplicate"], false);
    }

    #[test]
    fn fault_names_round_trip_and_unknown_ones_are_refused() {
        for fault in [
            ReceiptFault::Html,
            ReceiptFault::WrongId,
            ReceiptFault::MissingSession,
        ] {
            assert_eq!(ReceiptFault::parse(fault.name()), Some(fault));
        }
        assert_eq!(ReceiptFault::parse("HTML"), None);
    }

    #[tokio::test]
    async fn each_fault_breaks_the_receipt_its_own_way() {
        let good = || receipt(Some("m1"), "s", false);
        let html = ReceiptFault::Html.answer(good());
        assert_eq!(html.status(), StatusCode::OK);
        assert!(body_of(html).await.starts_with("<!doctype html>"));
        let wrong: Value =
            serde_json::from_str(&body_of(ReceiptFault::WrongId.answer(good())).await).unwrap();
        assert_eq!(wrong["accepted"], true);
        assert_ne!(wrong["clientMsgId"], "m1");
        let missing: Value =
            serde_json::from_str(&body_of(ReceiptFault::MissingSession.answer(good())).await)
                .unwrap();
        assert_eq!(missing["clientMsgId"], "m1");
        assert!(missing.get("sessionId").is_none());
    }
}
