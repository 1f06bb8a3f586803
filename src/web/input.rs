//! What the platform reports to the shell, as one type: a stream's welcome, events and
//! errors, a POST's answer, a page lifecycle event, the host timer, and in their builds
//! the tabs' channel and lock and the persisted outbox's reads. Each platform
//! module (`stream`, `post`, `lifecycle`, `timer`, `channel`, `outbox`) reports through an [`Inputs`]
//! handle and never reaches into the shell's state; the shell turns each input into the
//! core's (`shell::on_input`).

use alloc::rc::Rc;
use alloc::string::String;

use js_sys::Function;
use wasm_bindgen::JsValue;

#[cfg(feature = "persist")]
use super::store::ReadBack;
use crate::core::{AnswerBody, PostId, PostOutcome, StreamId};

/// One thing the platform reported.
pub enum Input {
    /// A stream's `welcome`: its connection id, `None` when its data was malformed.
    Welcome {
        stream: StreamId,
        connection_id: Option<String>,
    },
    /// A server event: its data parsed (`None` when it was not a JSON object within
    /// `maxEventBytes`).
    Event {
        stream: StreamId,
        event: Option<ServerEvent>,
    },
    /// The foreground probe's echo, `{type: "_probe", nonce}` (`foregroundProbe`): its
    /// `nonce` when it is a string.
    ProbeEcho {
        stream: StreamId,
        nonce: Option<String>,
    },
    /// A server event chained by `prevSessionSeq` (`acknowledgeEvents`).
    Chained {
        stream: StreamId,
        event: ChainedEvent,
    },
    /// A `session_reconnect_snapshot` offer on a stream (`acknowledgeEvents`).
    SnapshotOffer { stream: StreamId, message: JsValue },
    /// The answer to a `reconnect-snapshot-applied` POST was 2xx; `applied`: its body
    /// said `{ applied: true }`.
    SnapshotAnswer { post: PostId, applied: bool },
    /// The stream failed; `closed`: for good (`readyState` `CLOSED`).
    StreamError { stream: StreamId, closed: bool },
    /// A POST settled.
    PostAnswer { post: PostId, outcome: PostOutcome },
    /// An `auth_expired` event on a stream (`authLatch`).
    AuthExpired { stream: StreamId },
    /// The authentication check's GET settled (`authLatch`).
    AuthCheck { check: PostId, outcome: PostOutcome },
    /// A prompt's POST answered 2xx under `receipts`, with what its body said.
    PostReceipt { post: PostId, body: AnswerBody },
    /// A page lifecycle event.
    Page(PageEvent),
    /// The host timer fired.
    Timer,
    /// A message from another tab (`shareAcrossTabs`).
    #[cfg(feature = "share-tabs")]
    Channel(JsValue),
    /// What became of the tabs' Web Lock.
    #[cfg(feature = "share-tabs")]
    Lock(LockEvent),
    /// A read of the persisted outbox's store (`persist`).
    #[cfg(feature = "persist")]
    Restored(ReadBack),
}

/// What became of the tabs' Web Lock.
#[cfg(feature = "share-tabs")]
#[derive(Clone, Copy)]
pub enum LockEvent {
    Granted,
    /// Taken away (another tab stole it).
    Lost,
    /// The browser refused the request (an opaque origin, say).
    Refused,
}

/// A parsed server event: the object, and its `seq` when it carries a `sessionId` and
/// a `seq`; `new_session` is that `sessionId` when it differs from the last one handed
/// over (events come in runs of one session: the id crosses once a run).
pub struct ServerEvent {
    /// The event itself, which a leader tab relays to the others (`shareAcrossTabs`).
    #[cfg_attr(not(feature = "share-tabs"), allow(dead_code))]
    pub message: JsValue,
    pub seq: Option<u64>,
    pub new_session: Option<String>,
}

/// A chained event: the object, its `seq` and `prevSessionSeq`, its `sessionId` when
/// it differs from the last one handed over, and its data's length (UTF-16 units).
pub struct ChainedEvent {
    pub message: JsValue,
    pub seq: u64,
    pub prev: u64,
    pub new_session: Option<String>,
    pub length: usize,
}

/// A page lifecycle event, as the core hears it.
#[derive(Clone, Copy)]
pub enum PageEvent {
    Visible,
    Hidden,
    PageHide,
    PageShow { from_back_forward_cache: bool },
    Online,
}

/// Where the platform modules send what they hear: the shell's handler, which holds
/// the shell weakly (an input after the connection is gone reaches nobody). For a
/// server event it answers the app's listener when the event is to be handed to it
/// (the hot path calls the listener itself, see `inbound.js`).
#[derive(Clone)]
pub struct Inputs(Rc<dyn Fn(Input) -> Option<Function>>);

impl Inputs {
    pub fn new(handler: impl Fn(Input) -> Option<Function> + 'static) -> Inputs {
        Inputs(Rc::new(handler))
    }

    pub fn send(&self, input: Input) -> Option<Function> {
        (self.0)(input)
    }
}
