//! Rule 14 (docs/delivery-rules.md): with `receipts`, a 2xx answer delivers a prompt
//! only with the prompt's own receipt; any other 2xx is ambiguous, and the same prompt
//! (same message, so the same body) is sent again under the retry rules.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_contract_harness.rs"]
mod contract;

use contract::harness::*;
use contract::*;
use sse_courier::core::{
    Action, AnswerBody, Config, Endpoint, FailReason, Fate, PostOutcome, Receipt, SendOutcome,
};

fn receipts_on() -> Config {
    Config {
        receipts: true,
        ..Config::default()
    }
}

#[test]
fn a_2xx_with_the_prompts_own_receipt_delivers_it_once_with_its_session() {
    let mut rig = Rig::connected(receipts_on());
    let (outcome, sent) = send_prompt(&mut rig, "m1", Some("s1"));
    let SendOutcome::Posted(msg) = outcome else {
        panic!("{outcome:?}")
    };
    let posted = prompt_posts(&sent);
    assert_eq!(posted.len(), 1);
    assert!(posted[0].read_receipt, "the shell reads the body");
    assert_eq!(posted[0].connection_id.as_deref(), Some("conn-abc"));

    let settled = answer_prompt(
        &mut rig,
        msg,
        body(r#"{"accepted":true,"clientMsgId":"m1","sessionId":"s1"}"#),
    );

    let expected = Receipt {
        client_msg_id: "m1".into(),
        session_id: Some("s1".into()),
    };
    assert_eq!(receipts(&settled), [(msg, expected)]);
    assert_eq!(reports(&settled), [(msg, Fate::Delivered)]);
    let receipt_at = position(&settled, |a| matches!(a, Action::Receipt { .. }));
    let report_at = position(&settled, |a| matches!(a, Action::Report { .. }));
    assert!(receipt_at < report_at, "the report carries the receipt");
    assert_eq!(rig.m.in_flight_len(), 0);
}

#[test]
fn a_2xx_without_its_receipt_is_ambiguous_and_the_same_prompt_is_sent_again() {
    let not_receipts = [
        body("<!doctype html><p>OK</p>"),
        body(""),
        body(r#"{"accepted":true,"clientMsgId":"another","sessionId":"s1"}"#),
        body(r#"{"accepted":"true","clientMsgId":"m1","sessionId":"s1"}"#),
        body(r#"{"accepted":true,"clientMsgId":"m1"}"#),
    ];
    for answer in not_receipts {
        let mut rig = Rig::connected(receipts_on());
        let msg = prompt_id(&mut rig, "m1", Some("s1"));

        let after = answer_prompt(&mut rig, msg, answer.clone());

        assert!(reports(&after).is_empty(), "{answer:?} kept, not reported");
        assert!(
            opened(&after).is_empty(),
            "{answer:?} is no stale connection"
        );
        assert_eq!(rig.m.retrying_len(), 1, "{answer:?}");
        let again = rig.run_timers();
        assert_eq!(posted_prompts(&again), [msg], "the same message, same body");
        let settled = answer_prompt(&mut rig, msg, receipt("m1", Some("s1")));
        assert_eq!(reports(&settled), [(msg, Fate::Delivered)]);
    }
}

#[test]
fn a_bare_2xx_through_on_post_answer_is_no_receipt() {
    let mut rig = Rig::connected(receipts_on());
    let msg = prompt_id(&mut rig, "m1", None);
    let post = prompt_post_of(&rig.log, msg);

    let after = rig.answer(post, PostOutcome::Accepted);

    assert!(reports(&after).is_empty());
    assert_eq!(rig.m.retrying_len(), 1);
}

#[test]
fn ambiguous_answers_count_against_the_retry_limit_then_fail_for_want_of_a_receipt() {
    let mut rig = Rig::connected(Config {
        max_send_retries: 1,
        ..receipts_on()
    });
    let msg = prompt_id(&mut rig, "m1", None);
    answer_prompt(&mut rig, msg, AnswerBody::NotAReceipt);
    rig.run_timers();

    let last = answer_prompt(&mut rig, msg, AnswerBody::NotAReceipt);

    assert_eq!(reports(&last), [(msg, Fate::Failed(FailReason::NoReceipt))]);
}

#[test]
fn a_receipt_for_a_prompt_without_a_client_msg_id_confirms_nothing() {
    let mut rig = Rig::connected(Config {
        max_send_retries: 0,
        ..receipts_on()
    });
    let (outcome, sent) = rig.send(Endpoint::Send);
    let SendOutcome::Posted(msg) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(posted_prompts(&sent), [msg], "a send is a prompt now");

    let after = answer_prompt(&mut rig, msg, receipt("", None));

    assert_eq!(
        reports(&after),
        [(msg, Fate::Failed(FailReason::NoReceipt))]
    );
}

#[test]
fn without_receipts_a_prompts_2xx_delivers_it_and_its_body_is_not_read() {
    let mut rig = Rig::connected(Config {
        prompt_outbox: true,
        ..Config::default()
    });
    let (_, sent) = send_prompt(&mut rig, "m1", None);
    let posted = prompt_posts(&sent);
    assert!(!posted[0].read_receipt);

    let settled = rig.answer(posted[0].id, PostOutcome::Status(204));

    assert_eq!(reports(&settled), [(posted[0].msg, Fate::Delivered)]);
    assert!(receipts(&settled).is_empty());
}

#[test]
fn a_receipt_answered_after_the_connection_ended_still_delivers_without_state_change() {
    let mut rig = Rig::connected(receipts_on());
    let msg = prompt_id(&mut rig, "m1", Some("s1"));
    rig.stream_error();

    let late = answer_prompt(&mut rig, msg, receipt("m1", Some("s1")));

    assert_eq!(reports(&late), [(msg, Fate::Delivered)]);
    assert!(opened(&late).is_empty() && notices(&late).is_empty());
    assert_eq!(rig.m.stats().late_answers, 1);
}

#[test]
fn with_the_contract_off_a_send_is_no_prompt() {
    let mut rig = Rig::connected(Config::default());
    assert!(!rig.m.is_prompt(Endpoint::Send));
    let (_, sent) = send_prompt(&mut rig, "m1", None);
    assert!(prompt_posts(&sent).is_empty());
    assert_eq!(endpoints(&sent), [Endpoint::Send], "a plain send");
    let on = Rig::connected(receipts_on());
    assert!(on.m.is_prompt(Endpoint::Send));
    assert!(!on.m.is_prompt(Endpoint::Watch), "only sends are prompts");
}
