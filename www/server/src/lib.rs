//! Reference server for sse-courier's wire protocol ("protocol v2", docs/protocol.md).
//!
//! Events go down one SSE stream per connection (`GET /api/chat/events`); client
//! messages come up as JSON POSTs (`POST /api/chat/{endpoint}`) naming their
//! connection in `X-Connection-ID`. The server keeps a bounded per-session event store
//! so a client can reconnect and have what it missed replayed, and an idempotent
//! receipt of `send`s by `clientMsgId`, which is what lets a client retry a send it is
//! unsure about without the agent answering twice.
//!
//! Under `/api/test/` a control API lets browser tests, the demo and benchmarks inject
//! the faults the client library exists to survive: a connection the server forgot
//! while its stream stays open (the stale 404 of the seed PR), dead streams, failing or
//! slow POSTs, a restart, missing heartbeats and overlapping replays.
//!
//! The logic lives here rather than in `main.rs` so integration tests can run the real
//! server in-process on a free port.

mod agent;
mod applied;
mod auth;
mod chat;
mod cli;
mod control;
mod cors;
mod error;
mod faults;
mod receipt;
mod sse;
mod state;
mod static_files;

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

pub use agent::AgentOptions;
pub use cli::{parse_args, Cli, CliError, USAGE};
pub use state::AppState;

/// How a server instance behaves; the defaults are the production-like ones.
#[derive(Debug, Clone)]
pub struct Options {
    /// Interval between `{"type":"heartbeat"}` events on every known stream.
    pub heartbeat: Duration,
    /// Folder served at `/` (the demo page and the built package), if any.
    pub static_dir: Option<PathBuf>,
    /// The small agent that answers each accepted `send`.
    pub agent: AgentOptions,
    /// Sent as the SSE `retry:` field with each welcome: how long `EventSource` waits
    /// before its own reconnect after the stream ends (browser default when `None`).
    pub sse_retry: Option<Duration>,
    /// `--untied-sends`: a `send` with a `clientMsgId` naming a connection the server
    /// does not know is processed as if it came without `X-Connection-ID` (a server
    /// whose `/send` is not tied to a stream), instead of the stale 404.
    pub untied_sends: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            heartbeat: Duration::from_millis(15_000),
            static_dir: None,
            agent: AgentOptions::default(),
            sse_retry: None,
            untied_sends: false,
        }
    }
}

/// All routes of the server, CORS included, bound to `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/chat/events", get(sse::events))
        // A static segment wins over `{endpoint}` in axum's router, so the beacon gets
        // its own lenient handler (no custom headers, any content type).
        .route("/api/chat/suspend-beacon", post(chat::suspend_beacon))
        .route("/api/chat/{endpoint}", post(chat::post))
        .route("/api/auth/check", get(auth::check))
        .nest("/api/test", control::routes())
        .fallback(static_files::fallback)
        .with_state(state)
        // Outermost, so preflights and every answer (errors and fallback included) get
        // the CORS headers the cross-origin test pages need.
        .layer(axum::middleware::from_fn(cors::cors))
}

/// Serves on `listener` until SIGINT or SIGTERM, then ends every open stream and
/// returns.
pub async fn serve(listener: TcpListener, options: Options) -> io::Result<()> {
    serve_until(listener, AppState::new(options), shutdown_signal()).await
}

/// Serves `state` on `listener` until `shutdown` completes.
///
/// Open SSE streams never end on their own, so a plain graceful shutdown would wait
/// for them forever: they are ended first, and in-flight POSTs get a short grace
/// period before the server returns regardless.
pub async fn serve_until(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(state.clone());
    let stopping = state.clone();
    let graceful = async move {
        shutdown.await;
        stopping.shut_down();
        let _ = stopped_tx.send(());
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(graceful);
    let deadline = async {
        if stopped_rx.await.is_ok() {
            tokio::time::sleep(Duration::from_secs(3)).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result,
        () = deadline => Ok(()),
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        // If the handler cannot be installed, only the other signal stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
