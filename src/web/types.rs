//! TypeScript types the generated `.d.ts` cannot express: the config, the message
//! shapes and the delivery report, so `Connection`'s signature has no `any`. Each
//! build's `.d.ts` carries the options of its own features (`persist`, `share-tabs`),
//! and so does the package entry built from it.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Endpoints a message `type` maps to (`POST {baseUrl}/api/chat/{endpoint}`). */
export type Endpoint =
  | "send" | "stop" | "interrupt" | "permission" | "mode" | "watch"
  | "unwatch" | "switch" | "suspend" | "close" | "reconnect";

/** Message types `send()` accepts; any other string makes it return false. */
export type OutgoingType =
  | "send" | "stop" | "interrupt" | "permission_response" | "set_mode" | "watch"
  | "unwatch" | "switch_session" | "session_suspend" | "session_close" | "reconnect";

/** A message to the server: a JSON-serialisable object with a string `type`. */
export interface OutgoingMessage {
  type: OutgoingType | (string & {});
  sessionId?: string;
  /** Kept unchanged on every retry, so the server can de-duplicate. */
  clientMsgId?: string;
  [key: string]: unknown;
}

/** A server event (or one of the `_open`, `_close`, `_foreground` notices, or
 * `_auth_lost` with `authLatch`). */
export interface ServerMessage {
  type: string;
  sessionId?: string;
  seq?: number;
  /** The seq of the session's event before this one: with `acknowledgeEvents`, events
   * that carry it are chained and applied in chain order. */
  prevSessionSeq?: number;
  [key: string]: unknown;
}

/** What the server offers after a reconnect instead of the whole replay, with
 * `acknowledgeEvents`: the app loads the session up to `cursor` its own way, then
 * calls `acknowledgeReconnectSnapshot(sessionId, cursor, offerId)`. Until the server
 * confirms, the session's chained events are held. */
export interface ReconnectSnapshotOffer extends ServerMessage {
  type: "session_reconnect_snapshot";
  sessionId: string;
  cursor: number;
  offerId?: string;
  /** The server's word on whether the cursor it was asked from was still valid. */
  cursorValid?: boolean;
}

/** The app's listener. With `acknowledgeEvents`, what it returns for a chained event
 * (one with `prevSessionSeq`) counts: `true` applied (the cursor moves and the server
 * is told), `false` (or a throw) refused (the events are asked for again), anything
 * else not applied yet. Otherwise what it returns is ignored, so any function of a
 * message fits (`unknown`: the existing client's listeners return what they like). */
export type ConnectionListener = (msg: ServerMessage) => unknown;

/** An event as the package reads it from its EventSource: `data` alone (the event's
 * text; anything but a string holding a JSON object is skipped and counted). */
export interface EventSourceEventLike {
  readonly data: unknown;
}

/** What the package uses of the EventSource `createEventSource` returns, and nothing
 * more, so that the DOM's `EventSource`, the `eventsource` npm package's (Node) and a
 * plain fake object all fit. The package listens for `welcome` with
 * `addEventListener`, gets every other event through `onmessage` and errors through
 * `onerror`, reading `readyState` (2: closed for good); on teardown it calls
 * `close()`, removes its `welcome` listener and sets both handlers to null. The two
 * handler properties are typed with method syntax (`{ handle(…): void }["handle"]`)
 * so that they are compared bivariantly: an EventSource whose handlers take a richer
 * event (the DOM's `MessageEvent`, the `eventsource` package's) fits under
 * `strictFunctionTypes`. */
export interface EventSourceLike {
  readonly readyState: number;
  onmessage: { handle(event: EventSourceEventLike): void }["handle"] | null;
  /** The package's handler ignores its argument, so it may be called with none. */
  onerror: { handle(event?: unknown): void }["handle"] | null;
  addEventListener(type: "welcome", listener: (event: EventSourceEventLike) => void, options: { passive: true }): void;
  removeEventListener(type: "welcome", listener: (event: EventSourceEventLike) => void, options: false): void;
  close(): void;
}

/** The fate of one message passed to `send()`. */
export interface DeliveryReport {
  /** `uncertain` only with `authLatch`: posted when authentication was lost, so the
   * server may or may not have it. */
  status: "delivered" | "dropped" | "failed" | "uncertain";
  /** Why it was dropped, failed or is uncertain. */
  reason?:
    | "queue_overflow" | "stale_retries_exhausted" | "cleared"
    | "rejected" | "stale_connection" | "server_error" | "network" | "timeout"
    | "expired" | "no_receipt" | "auth_lost";
  /** The HTTP status behind a failure, when there was one. */
  httpStatus?: number;
  endpoint: Endpoint;
  clientMsgId?: string;
  /** With `receipts`: the server's receipt that made a prompt `delivered`. */
  receipt?: Receipt;
  message: OutgoingMessage;
}

/** What a server answers a prompt with, under `receipts`: the body of its 2xx. */
export interface Receipt {
  accepted: true;
  clientMsgId: string;
  /** The session the prompt went to (`null`: the server named none). */
  sessionId: string | null;
}

/** What the listener hears of each prompt with `notices` (the `_send_*` events),
 * before the prompt's delivery report; `_send_uncertain` with `authLatch`, for a
 * prompt posted when authentication was lost. */
export type PromptNotice =
  | { type: "_send_pending"; clientMsgId: string; sessionId: string | null; retrying: boolean; message: OutgoingMessage }
  | { type: "_send_accepted"; clientMsgId: string; sessionId: string | null; receipt?: Receipt; message: OutgoingMessage }
  | { type: "_send_failed"; clientMsgId: string; sessionId: string | null; error: string; message: OutgoingMessage }
  | { type: "_send_uncertain"; clientMsgId: string; sessionId: string | null; message: OutgoingMessage };

/** What the listener hears, with `notices`, of a control message whose POST failed. */
export type ControlFailureNotice =
  | { type: "error"; sessionId?: string; error: string; message: OutgoingMessage }
  | { type: "permission_response_rejected"; sessionId?: string; permId?: unknown; error: string; message: OutgoingMessage };

/** Counters since the connection was made, for diagnostics (`stats()`). */
export interface ConnectionStats {
  /** Streams the connection set out to open, the first included: one for each
   * `connect()`, rebuild and reopen, counted when the EventSource is asked for, whether
   * or not it ever opened (a stream that failed before its welcome, or that
   * `createEventSource` could not make, counts too). A follower tab
   * (`shareAcrossTabs`) counts the same moments, though the stream is the leader's. */
  streamsOpened: number;
  /** Streams the connection rebuilt or reopened itself (checkAndReconnect, 404, watchdog, reconnect timer, online). */
  reconnects: number;
  reconnectPosts: number;
  reconnectPostFailures: number;
  /** Events not dispatched because their seq was not newer than the session's. */
  duplicatesSkipped: number;
  /** Events skipped because their data was not a JSON object within maxEventBytes. */
  malformedEvents: number;
  /** POSTs answered 404 (messages, suspends and reconnects). */
  stale404s: number;
  /** Retries scheduled after 5xx, 429, network errors and timeouts. */
  sendRetries: number;
  postTimeouts: number;
  /** Answers that came after the connection their POST was sent on was replaced. */
  lateAnswers: number;
  /** Streams rebuilt by the staleAfterMs watchdog. */
  staleStreams: number;
  delivered: number;
  /** Dropped messages, expired stored ones included. */
  dropped: number;
  failed: number;
  /** Stored messages read back and queued again (`persist`). */
  restored: number;
  /** Stored messages dropped when read back, being older than `persist.maxAgeMs`. */
  expired: number;
  /** Foreground probes posted (`foregroundProbe`). */
  probesSent: number;
  /** Foreground probes that failed (no echo within 1 s, or their POST failed); each
   * rebuilt the stream. */
  probesFailed: number;
  /** Streams rebuilt to ask for events again from the applied cursors: a gap not filled
   * in 15 s, too many events held, a refused event or a snapshot offer not applied in
   * 30 s (`acknowledgeEvents`). */
  resyncs: number;
  /** Acknowledgements of applied events posted (`acknowledgeEvents`). */
  acksPosted: number;
  /** Acknowledgements that failed or timed out; each rebuilt the stream. */
  ackFailures: number;
  /** Reconnect snapshots the server confirmed applied (`acknowledgeEvents`). */
  snapshotsApplied: number;
  /** Messages reported uncertain: posted when authentication was lost (`authLatch`). */
  uncertain: number;
  /** Times authentication was latched (`authLatch`). */
  authLosses: number;
}

/** How the last foreground probe ended (`lastProbe()`, `foregroundProbe`): `echoed`
 * (the stream proved alive and was kept), `no_echo` (no echo within 1 s), `refused`
 * (its POST answered non-2xx, `httpStatus`), `network` (its POST failed on the
 * network), `timeout` (its POST outlived `postTimeoutMs`): those four rebuilt the
 * stream; `cancelled`: the connection ended first (a rebuild, a stream error,
 * `disconnect()`). */
export type ProbeResult =
  | { result: "echoed"; ok: true; roundTripMs: number }
  | { result: "no_echo" | "network" | "timeout" | "cancelled"; ok: false }
  | { result: "refused"; ok: false; httpStatus: number };

export interface ConnectionConfig {
  /** Base URL for the API, no trailing slash ("" for same origin). */
  baseUrl: string;
  /** Injected fetch (auth headers); read at each POST. Default `globalThis.fetch`. */
  fetch?: (url: string, init?: RequestInit) => Promise<Response | { ok: boolean; status?: number }>;
  /** Injected EventSource factory (Node, tests), read at each (re)open. Default `new
   * EventSource(url)`. It may return anything with the members of `EventSourceLike`. */
  createEventSource?: (url: string) => EventSourceLike;
  /** Delay before rebuilding the stream after a failed reconnect POST. Default 500. */
  reconnectDelayMs?: number;
  /** URL for the `navigator.sendBeacon` suspend fallback. */
  suspendUrl?: string;
  /** Endpoints whose messages are re-queued on 404 and retried on 5xx/429/network errors. Default ["send"]. Lifecycle endpoints are refused. */
  retryableEndpoints?: Array<"send" | "interrupt" | "permission" | "mode" | "watch" | "switch">;
  /** Bound of the pending queue on every path into it; the oldest is evicted and reported. Default 100. */
  maxPendingSends?: number;
  /** A message meeting 404 this many times is dropped and reported. Default 3. */
  maxStaleRetries?: number;
  /** Retries of a retryable send after 5xx/429/network errors (and, with `receipts`,
   * 2xx answers without the receipt). Default 5; `Infinity` never gives up. */
  maxSendRetries?: number;
  /** Rebuild a stream silent for this long (heartbeat watchdog). Off by default. */
  staleAfterMs?: number;
  /** Abort a POST unanswered after this long (adds `signal` to the fetch init). Off by default. */
  postTimeoutMs?: number;
  /** Capped exponential backoff (with jitter) for send retries and repeated reconnect failures. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Each backoff delay drawn between half and all of its ceiling. Default true; false
   * waits exactly min(maxMs, initialMs × 2ⁿ). */
  retryJitter?: boolean;
  /** At most one retryable POST in flight, so the server accepts sends exactly in order. Default false. */
  orderedSends?: boolean;
  /** Events whose data is longer than this are skipped. Default 1 MiB. */
  maxEventBytes?: number;
  /** Called once with the fate of every message passed to `send()`, and of every
   * stored message read back (`persist`). */
  onDelivery?: (report: DeliveryReport) => void;
  /** The events URL, asked for at every (re)connection attempt (a refreshed token is
   * used). Default `${baseUrl}/api/chat/events`. */
  buildEventUrl?: () => string;
  /** The existing client's current contract as a whole: `receipts`,
   * `sendWithoutStream`, `promptOutbox`, `notices`, `replayEveryWelcome`, and
   * `acknowledgeEvents`, `authLatch` and `foregroundProbe` (unless `shareAcrossTabs`) on, its retry
   * policy (`maxSendRetries: Infinity`, `backoff` 1 s to 10 s, `retryJitter: false`,
   * `postTimeoutMs` 15,000). Each of those options, given, overrides its part. Default
   * false (docs/api.md, "The strict contract"). */
  strict?: boolean;
  /** A 2xx answer to a prompt (`type: "send"`) counts only with its receipt
   * (`Receipt`); any other 2xx is sent again, same body. Default false. */
  receipts?: boolean;
  /** Prompts go out at once, one at a time and in order, without waiting for the
   * stream; a 404 on one is final. Default false. */
  sendWithoutStream?: boolean;
  /** A full outbox refuses new prompts (`send()` returns false) instead of evicting;
   * `clearPendingSends()` keeps prompts; prompts of a new chat (`sessionId: null`)
   * take the session of its first receipt. Default false. */
  promptOutbox?: boolean;
  /** The listener hears of each prompt (`PromptNotice`) and of failed control
   * messages (`ControlFailureNotice`). Default false. */
  notices?: boolean;
  /** With tracked sessions, the first welcome too is followed by the replay request.
   * Default false. */
  replayEveryWelcome?: boolean;
  /** Back in the foreground on a connection that looks connected, probe it: a POST to
   * `/api/chat/probe` whose echo must come down the stream within 1 s, else the stream
   * is rebuilt (the echo is not passed to the listener); a page restored from the
   * back/forward cache rebuilds at once. Not with `shareAcrossTabs` (`strict` leaves it
   * off there). Default false (`lastProbe()`). */
  foregroundProbe?: boolean;
  /** Events that carry `prevSessionSeq` count as seen only when the listener returns
   * `true` for them: the session's cursor then moves and the server is told
   * (`/api/chat/session-event-applied`); gaps are held (at most 256 events or 2 MiB)
   * and asked for again after 15 s; reconnect snapshot offers wait for
   * `acknowledgeReconnectSnapshot`. Default false; on with `strict` unless
   * `shareAcrossTabs` (with which it is refused). */
  acknowledgeEvents?: boolean;
}
"#;

// The authentication latch (docs/delivery-rules.md, rule 24), an option of every
// entry, in a section of its own.
#[wasm_bindgen(typescript_custom_section)]
const AUTH_TYPES: &'static str = r#"
export interface ConnectionConfig {
  /** The authentication latch: an `auth_expired` event, or a 401 from `authCheckUrl`
   * after a stream error, closes the stream, settles every message (queued: failed or
   * dropped; posted: uncertain), tells the listener `{ type: "_auth_lost" }` and
   * holds every reconnect until `restoreAuthentication()`. `disconnect()` forgets the
   * connection id. Default false; on with `strict` (not with `shareAcrossTabs`). */
  authLatch?: boolean;
  /** With `authLatch`: the URL GET after a stream error (through `fetch`); a 401
   * latches. Default `${baseUrl}/api/auth/check`. */
  authCheckUrl?: string;
}
"#;

// The opt-in options are typed only in the builds that have them, so that each
// entry's typings refuse what its build refuses at run time (src/web/options.rs)
// instead of type-checking and then throwing. Each section below adds its members to
// `ConnectionConfig` by TypeScript's interface declaration merging. A merged member
// cannot redeclare one with another type, so `shareAcrossTabs` is in no common
// section: each build declares it once, with its own type.

#[cfg(feature = "persist")]
#[wasm_bindgen(typescript_custom_section)]
const PERSIST_TYPES: &'static str = r#"
/** One entry of an app's own outbox store: `key` is the entry's name. */
export interface OutboxStoreEntry {
  key: string;
  value: string;
}

/** An app's own place for the persisted outbox: string values under string names. Each
 * method may return a promise; a throw or a rejection is a warning, never an error.
 * One store may serve the outboxes of several `persist.key`s: the names say whose an
 * entry is (`sse-courier:<key>:<clientMsgId>`, the id's `%` and `:` escaped), and each
 * page reads back only its own. */
export interface OutboxStore {
  /** Every entry this store holds (entries that are not an outbox's are ignored). */
  load(): OutboxStoreEntry[] | Promise<OutboxStoreEntry[]>;
  put(name: string, value: string): void | Promise<void>;
  remove(name: string): void | Promise<void>;
}

/** The existing client's `outboxStorage`: `sessionStorage`, `localStorage` (in an iOS
 * WKWebView shell, say) or anything with these two synchronous methods. It cannot list
 * its names, so the whole outbox is one JSON value under
 * `sse-courier-outbox:<persist.key>`. */
export interface OutboxStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** Keeps every retryable message in a store until its fate is known, so that it
 * survives a reload, a crash or a closed tab and is sent by the next page. */
export interface PersistOptions {
  /** "indexeddb", "local" (`localStorage`), "session" (`sessionStorage`), the app's
   * own store, or an `OutboxStorage`. A store that cannot be used is a warning and
   * memory only. */
  store: "indexeddb" | "local" | "session" | OutboxStore | OutboxStorage;
  /** The outbox's name: pages with the same key share their stored messages (for
   * example one per signed-in user), and a page reads back only those of its own key,
   * in every kind of store. Default "default". */
  key?: string;
  /** A stored message first sent longer ago than this is not sent when read back but
   * reported `dropped` / `expired`. Default 86,400,000 (a day). */
  maxAgeMs?: number;
}

export interface ConnectionConfig {
  /** Keep retryable messages in a store until delivered (off by default). */
  persist?: PersistOptions;
  /** The existing client's option: `persist: { store: outboxStorage }` in short (not
   * with `persist`). Prompts the existing client left in it, under
   * `mitzo-send-outbox:{baseUrl}/api/chat/events`, are sent again and moved into this
   * outbox. */
  outboxStorage?: OutboxStorage;
}
"#;

#[cfg(feature = "share-tabs")]
#[wasm_bindgen(typescript_custom_section)]
const SHARING_TYPES: &'static str = r#"
export interface ConnectionConfig {
  /** One stream for all tabs of the app (off by default): one tab holds the stream
   * and relays every event to the others over a BroadcastChannel, a Web Lock choosing
   * it; `true`, or the channel's name (default: from `baseUrl`). Without Web Locks or
   * BroadcastChannel: a warning and a stream per tab. */
  shareAcrossTabs?: boolean | string;
}
"#;

// Every entry accepts `false` at run time (off, as if absent: src/web/options.rs), so
// the builds without the option type it as `false` alone.
#[cfg(not(feature = "share-tabs"))]
#[wasm_bindgen(typescript_custom_section)]
const NO_SHARING_TYPES: &'static str = r#"
export interface ConnectionConfig {
  /** Only `false` (off) here: one stream for all tabs is the `sse-courier/tabs` and
   * `sse-courier/full` entries'. */
  shareAcrossTabs?: false;
}
"#;
