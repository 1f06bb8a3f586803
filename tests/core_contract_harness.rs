//! Test rig additions for the existing client's current contract (issue 22): sending
//! prompts, picking prompt POSTs, receipts, notices and session adoptions out of the
//! actions. Included with `#[path]` by the `core_*` tests of that contract, with
//! `core_harness.rs` inside it (`contract::harness`); built alone it holds no tests.
#![cfg(not(target_arch = "wasm32"))]
#![allow(dead_code)]

use sse_courier::core::{
    Action, AnswerBody, ControlFailure, Fate, MsgId, PostId, Prompt, PromptNotice, Receipt,
    ReceiptBody, SendOutcome,
};

#[path = "core_harness.rs"]
pub mod harness;

use harness::Rig;

/// A prompt with this `clientMsgId` and `sessionId` (`None`: `null`).
pub fn send_prompt(rig: &mut Rig, id: &str, session: Option<&str>) -> (SendOutcome, Vec<Action>) {
    let prompt = Prompt {
        client_msg_id: Some(id),
        session_id: session,
    };
    let outcome = rig.m.send_prompt(rig.now, prompt);
    (outcome, rig.drain())
}

/// Sends a prompt and returns its message id, whether posted or queued.
pub fn prompt_id(rig: &mut Rig, id: &str, session: Option<&str>) -> MsgId {
    match send_prompt(rig, id, session).0 {
        SendOutcome::Posted(msg) | SendOutcome::Queued(msg) => msg,
        SendOutcome::Refused => panic!("prompt {id} refused"),
    }
}

/// A prompt POST as the fake server sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptPost {
    pub id: PostId,
    pub msg: MsgId,
    pub connection_id: Option<String>,
    pub read_receipt: bool,
}

pub fn prompt_posts(actions: &[Action]) -> Vec<PromptPost> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::PostPrompt {
                id,
                msg,
                connection_id,
                read_receipt,
            } => Some(PromptPost {
                id: *id,
                msg: *msg,
                connection_id: connection_id.clone(),
                read_receipt: *read_receipt,
            }),
            _ => None,
        })
        .collect()
}

/// The messages of the prompt POSTs, in order.
pub fn posted_prompts(actions: &[Action]) -> Vec<MsgId> {
    prompt_posts(actions).iter().map(|p| p.msg).collect()
}

/// The latest POST of prompt `msg`.
pub fn prompt_post_of(actions: &[Action], msg: MsgId) -> PostId {
    prompt_posts(actions)
        .into_iter()
        .rev()
        .find(|p| p.msg == msg)
        .map(|p| p.id)
        .unwrap_or_else(|| panic!("{msg:?} was never posted in {actions:?}"))
}

/// What the shell hands the core for a 2xx body, from its text (`serde_json` in the
/// place of `JSON.parse` and `serde_wasm_bindgen`).
pub fn body(text: &str) -> AnswerBody {
    AnswerBody::from_parsed(serde_json::from_str::<ReceiptBody>(text).ok())
}

/// The receipt `{accepted: true, clientMsgId: id, sessionId: session}`.
pub fn receipt(id: &str, session: Option<&str>) -> AnswerBody {
    AnswerBody::Receipt(Receipt {
        client_msg_id: id.into(),
        session_id: session.map(Into::into),
    })
}

pub fn answer_body(rig: &mut Rig, post: PostId, answer: AnswerBody) -> Vec<Action> {
    rig.m.on_post_receipt(rig.now, post, answer);
    rig.drain()
}

/// Prompt `msg`'s latest POST answered 2xx with `answer`.
pub fn answer_prompt(rig: &mut Rig, msg: MsgId, answer: AnswerBody) -> Vec<Action> {
    let post = prompt_post_of(&rig.log, msg);
    answer_body(rig, post, answer)
}

pub fn receipts(actions: &[Action]) -> Vec<(MsgId, Receipt)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Receipt { msg, receipt } => Some((*msg, receipt.clone())),
            _ => None,
        })
        .collect()
}

pub fn prompt_notices(actions: &[Action]) -> Vec<(MsgId, PromptNotice)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Prompt { msg, notice } => Some((*msg, notice.clone())),
            _ => None,
        })
        .collect()
}

pub fn control_failures(actions: &[Action]) -> Vec<(MsgId, ControlFailure, Fate)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::ControlFailed { msg, event, fate } => Some((*msg, *event, *fate)),
            _ => None,
        })
        .collect()
}

pub fn adoptions(actions: &[Action]) -> Vec<(Vec<MsgId>, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::AdoptSession { msgs, session_id } => Some((msgs.clone(), session_id.clone())),
            _ => None,
        })
        .collect()
}

/// The index of the first action `which` picks; panics if none does.
pub fn position(actions: &[Action], which: impl Fn(&Action) -> bool) -> usize {
    actions
        .iter()
        .position(which)
        .unwrap_or_else(|| panic!("not found in {actions:?}"))
}
