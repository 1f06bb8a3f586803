//! Rule 17 (docs/delivery-rules.md): with `notices`, the app's listener hears about
//! each prompt (pending when taken in, pending and retrying at each retry, accepted
//! with its receipt, failed with its fate), and a failed control message becomes an
//! error event (a `permission_response`'s its own kind); each before the message's
//! report, while the shell still holds its body.
#![cfg(not(target_arch = "wasm32"))]

#[path = "core_contract_harness.rs"]
mod contract;

use contract::harness::*;
use contract::*;
use sse_courier::core::{
    Action, AnswerBody, Config, ControlFailure, DropReason, Endpoint, EndpointSet, FailReason,
    Fate, PostOutcome, PromptNotice, Receipt,
};

fn notices_on() -> Config {
    Config {
        notices: true,
        receipts: true,
        ..Config::default()
    }
}

fn is_report(action: &Action) -> bool {
    matches!(action, Action::Report { .. })
}

#[test]
fn a_prompt_is_pending_then_accepted_with_its_receipt() {
    let mut rig = Rig::connected(notices_on());
    let (_, sent) = send_prompt(&mut rig, "m1", Some("s1"));
    let msg = posted_prompts(&sent)[0];
    assert_eq!(
        prompt_notices(&sent),
        [(msg, PromptNotice::Pending { retrying: false })]
    );
    let pending_at = position(&sent, |a| matches!(a, Action::Prompt { .. }));
    let posted_at = position(&sent, |a| matches!(a, Action::PostPrompt { .. }));
    assert!(pending_at < posted_at);

    let settled = answer_prompt(&mut rig, msg, receipt("m1", Some("s1")));

    let accepted = PromptNotice::Accepted(Some(Receipt {
        client_msg_id: "m1".into(),
        session_id: Some("s1".into()),
    }));
    assert_eq!(prompt_notices(&settled), [(msg, accepted)]);
    let notice_at = position(&settled, |a| matches!(a, Action::Prompt { .. }));
    assert!(notice_at < position(&settled, is_report));
}

#[test]
fn each_retry_is_announced_pending_and_retrying() {
    let mut rig = Rig::connected(notices_on());
    let msg = prompt_id(&mut rig, "m1", None);
    let failed = rig.answer(prompt_post_of(&rig.log, msg), PostOutcome::Status(502));
    rig.run_timers();
    let ambiguous = answer_prompt(&mut rig, msg, AnswerBody::NotAReceipt);

    for after in [failed, ambiguous] {
        assert_eq!(
            prompt_notices(&after),
            [(msg, PromptNotice::Pending { retrying: true })]
        );
    }
}

#[test]
fn a_prompt_requeued_after_a_404_is_announced_retrying() {
    let mut rig = Rig::connected(Config {
        notices: true,
        ..Config::default()
    });
    let msg = prompt_id(&mut rig, "m1", None);

    let after = rig.answer(prompt_post_of(&rig.log, msg), PostOutcome::Status(404));

    assert_eq!(
        prompt_notices(&after),
        [(msg, PromptNotice::Pending { retrying: true })]
    );
    let delivered = rig.welcome("conn-def");
    let settled = rig.answer(prompt_post_of(&delivered, msg), PostOutcome::Accepted);
    assert_eq!(
        prompt_notices(&settled),
        [(msg, PromptNotice::Accepted(None))],
        "no receipt without receipts"
    );
}

#[test]
fn a_failed_prompt_is_announced_failed_with_its_fate() {
    let mut rig = Rig::connected(notices_on());
    let msg = prompt_id(&mut rig, "m1", None);

    let after = rig.answer(prompt_post_of(&rig.log, msg), PostOutcome::Status(400));

    let fate = Fate::Failed(FailReason::Rejected(400));
    assert_eq!(prompt_notices(&after), [(msg, PromptNotice::Failed(fate))]);
    assert!(
        control_failures(&after).is_empty(),
        "a prompt is no control message"
    );
    assert_eq!(reports(&after), [(msg, fate)]);
}

#[test]
fn a_failed_control_message_becomes_an_error_for_the_listener() {
    let mut rig = Rig::connected(notices_on());
    let stop = rig.send_id(Endpoint::Stop);
    let permission = rig.send_id(Endpoint::Permission);

    let stopped = rig.answer(post_of(&rig.log.clone(), stop), PostOutcome::Status(500));
    let refused = rig.answer(
        post_of(&rig.log.clone(), permission),
        PostOutcome::Status(403),
    );

    let server_error = Fate::Failed(FailReason::ServerError(500));
    assert_eq!(
        control_failures(&stopped),
        [(stop, ControlFailure::Error, server_error)]
    );
    let forbidden = Fate::Failed(FailReason::Rejected(403));
    assert_eq!(
        control_failures(&refused),
        [(permission, ControlFailure::PermissionRejected, forbidden)]
    );
    let error_at = position(&refused, |a| matches!(a, Action::ControlFailed { .. }));
    assert!(error_at < position(&refused, is_report));
}

#[test]
fn a_control_message_dropped_after_its_404s_is_an_error_too() {
    let mut retryable = EndpointSet::default_retryable();
    retryable.insert(Endpoint::Watch);
    let mut rig = Rig::connected(Config {
        retryable,
        max_stale_retries: 1,
        ..notices_on()
    });
    let watch = rig.send_id(Endpoint::Watch);

    let after = rig.answer(post_of(&rig.log.clone(), watch), PostOutcome::Status(404));

    let dropped = Fate::Dropped(DropReason::StaleRetriesExhausted);
    assert_eq!(
        control_failures(&after),
        [(watch, ControlFailure::Error, dropped)]
    );
}

#[test]
fn delivered_cleared_or_evicted_control_messages_are_no_errors() {
    let mut rig = Rig::new(Config {
        max_pending_sends: 1,
        ..notices_on()
    });
    rig.connect();
    rig.send_id(Endpoint::Watch);
    rig.send_id(Endpoint::Mode);
    rig.m.clear_pending_sends();
    rig.drain();
    rig.welcome("conn-abc");
    let stop = rig.send_id(Endpoint::Stop);
    rig.answer(post_of(&rig.log.clone(), stop), PostOutcome::Accepted);

    assert_eq!(reports(&rig.log).len(), 3);
    assert!(control_failures(&rig.log).is_empty());
}

#[test]
fn without_notices_nothing_is_announced() {
    let mut rig = Rig::connected(Config {
        receipts: true,
        ..Config::default()
    });
    let msg = prompt_id(&mut rig, "m1", None);
    answer_prompt(&mut rig, msg, AnswerBody::NotAReceipt);
    rig.run_timers();
    answer_prompt(&mut rig, msg, receipt("m1", None));
    let stop = rig.send_id(Endpoint::Stop);
    rig.answer(post_of(&rig.log.clone(), stop), PostOutcome::Status(500));

    assert!(prompt_notices(&rig.log).is_empty());
    assert!(control_failures(&rig.log).is_empty());
    assert_eq!(reports(&rig.log).len(), 2);
}
