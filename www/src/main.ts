// The sse-courier demo: a chat page using the npm package the way the existing web
// client does (imported by name, bundled), against the reference server that serves
// this page. Fault buttons call the server's test API (/api/test/) so a visitor can
// watch a message survive a stale connection, dead streams, failing POSTs, a restart.
//
// What the end-to-end tests read is exposed as data attributes (#status, chat and fate
// entries) and as `window.__demo`; nothing needs scraping text.
//
// Query parameters: `session=ID` (default: random per load), `ordered=1`
// (orderedSends), `staleAfterMs=MS` (heartbeat watchdog, default 6000, 0 = off),
// `maxStaleRetries=N`, `maxSendRetries=N`, `maxPendingSends=N`, `backoffMaxMs=MS`.
// The persisted outbox (the "persist" switch): `persist=indexeddb` (or `1`; also
// `local`, `session`) builds the Connection with `persist: { store, key }`,
// `persistKey=K` (default "demo"); `storeFault=open` (IndexedDB refuses to open, as in
// some private modes) or `storeFault=quota` (every IndexedDB write throws
// QuotaExceededError) breaks the store on purpose, to watch the connection go on in
// memory. With persist on, the session id is kept in the URL so that a reload stays in
// the same chat.
// `outboxStorage=session` (or `local`) builds the Connection with the existing
// client's option `outboxStorage: sessionStorage` (or `localStorage`) instead: the
// outbox is one value in it, and prompts the existing client left there under
// `mitzo-send-outbox:/api/chat/events` are sent again (an upgrade in place).
// The existing client's current contract (the "strict" switch): `strict=1` builds the
// Connection with `strict: true` (receipts, prompts that do not wait for the stream,
// the outbox's rules, notices); each prompt's bubble then shows the state its notices
// give (pending, retrying, accepted, failed, uncertain) until its report. It also
// turns on the authentication latch: "Expire authentication" (the server's
// `expire-auth`) stops the page until "Sign in again" (`restore-auth`, then
// `restoreAuthentication()`).
// Acknowledged application (on with `strict`, or alone with `acknowledge=1`): the
// listener returns true for each session event it shows, so the package moves the
// session's applied cursor (shown in the header) and tells the server; the "refuse the
// next event" button makes the listener return false once, to watch the resync.
// The foreground probe (`foregroundProbe`, on with `strict` unless sharing): `probe=1`
// turns it on alone; the status bar shows the last probe's result (`lastProbe()`).
import { Connection as DefaultConnection, type DeliveryReport, type ServerMessage } from "sse-courier";
// The persisted outbox is its own entry (it is opt-in and larger): the demo takes it
// only with the switch on, so that with it off the page runs the default entry.
import { Connection as PersistConnection } from "sse-courier/persist";
// One stream for all tabs is its own entry too (the "share" switch), and both switches
// on take the entry that has both.
import { Connection as TabsConnection } from "sse-courier/tabs";
// The full entry's config types every option; the switches choose an entry that has
// the options they set (below).
import { Connection as FullConnection, type ConnectionConfig } from "sse-courier/full";

type Fate = Pick<DeliveryReport, "status" | "reason" | "httpStatus" | "endpoint">;
type TimelineKind = "stream" | "post" | "fault" | "event" | "state" | "store";
type PersistStore = "indexeddb" | "local" | "session";

const params = new URLSearchParams(location.search);
// `share=1`: one stream for all tabs of the demo (`shareAcrossTabs`).
const sharing = params.get("share") === "1";
// `strict=1`: the existing client's current contract as a whole (`strict`).
const strict = params.get("strict") === "1";
// `acknowledge=1`: acknowledged application alone (`acknowledgeEvents`).
const acknowledge = params.get("acknowledge") === "1";
// Whether events are applied by acknowledgement: `strict` turns it on unless sharing.
const acknowledging = acknowledge || (strict && !sharing);
// `probe=1`: the foreground liveness probe alone (`foregroundProbe`).
const probe = params.get("probe") === "1";
const persistParam = params.get("persist");
const persistStore: PersistStore | undefined =
  persistParam === "1" || persistParam === "true"
    ? "indexeddb"
    : (["indexeddb", "local", "session"] as const).find((store) => store === persistParam);
const outboxStorageParam = params.get("outboxStorage");
const outboxStorage =
  outboxStorageParam === "session" ? sessionStorage : outboxStorageParam === "local" ? localStorage : undefined;
// Either way the outbox persists.
const persisting = Boolean(persistStore || outboxStorage);
const persistKey = outboxStorage ? "default" : params.get("persistKey") || "demo";
const storeFault = persistStore ? params.get("storeFault") || undefined : undefined;
const sessionId = params.get("session") || `demo-${Math.random().toString(36).slice(2, 8)}`;
if ((persisting || sharing) && !params.get("session")) {
  // A reload must come back to the same chat (its restored messages belong to it), and
  // a tab opened on the same URL joins it (one stream for all tabs).
  params.set("session", sessionId);
  history.replaceState(null, "", `?${params}`);
}
// Message ids are `<session>-<n>`; with persist on, a page load's own tag goes in too,
// so that a reload (counting from 1 again) or a second tab never reuses the id of a
// stored message.
const idPrefix = persisting ? `${sessionId}-${Math.random().toString(36).slice(2, 6)}` : sessionId;

function intParam(name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === "") return undefined;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const started = performance.now();

// ---- timeline ------------------------------------------------------------------

const TIMELINE_SHOWN = 250;
const timeline: { t: number; kind: TimelineKind; text: string }[] = [];

function log(kind: TimelineKind, text: string) {
  const t = Math.round(performance.now() - started);
  timeline.push({ t, kind, text });
  if (timeline.length > 5000) timeline.splice(0, timeline.length - 5000);
  const li = document.createElement("li");
  li.className = kind;
  li.dataset.kind = kind;
  li.innerHTML = `<time>${(t / 1000).toFixed(2)}s</time> `;
  li.append(text);
  const list = $("timeline");
  list.prepend(li);
  while (list.childElementCount > TIMELINE_SHOWN) list.lastElementChild!.remove();
}

// ---- the package's warnings (a store that fails, ...), kept and shown ------------

const warnings: string[] = [];
const consoleWarn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  const text = args.map(String).join(" ");
  if (text.startsWith("[sse-courier]")) {
    warnings.push(text);
    log("store", text);
  }
  consoleWarn(...args);
};

// storeFault: break IndexedDB before the Connection opens it.
if (storeFault === "open") {
  IDBFactory.prototype.open = () => {
    throw new DOMException("IndexedDB is disabled here (the demo's storeFault=open)", "SecurityError");
  };
} else if (storeFault === "quota") {
  IDBObjectStore.prototype.put = () => {
    throw new DOMException("the quota is used up (the demo's storeFault=quota)", "QuotaExceededError");
  };
}

// ---- the connection, with its fetch and EventSource observed for the timeline ----

function endpointOf(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}

function clientMsgIdOf(init?: RequestInit): string | undefined {
  try {
    return typeof init?.body === "string" ? JSON.parse(init.body).clientMsgId : undefined;
  } catch {
    return undefined;
  }
}

// Called synchronously with (url, init) by the package, like window.fetch.
function observedFetch(url: string, init?: RequestInit): Promise<Response> {
  const what = [init?.method ?? "POST", endpointOf(url), clientMsgIdOf(init)].filter(Boolean).join(" ");
  log("post", `${what} →`);
  return fetch(url, init).then(
    (response) => {
      log("post", `${what} ← ${response.status}${response.status === 404 ? " (stale connection)" : ""}`);
      return response;
    },
    (error) => {
      log("post", `${what} ✕ network error`);
      throw error;
    },
  );
}

let streams = 0; // EventSources created
/** This tab's EventSource while the package holds one: with `share=1`, only the leader
 * tab has one (the followers' events come over BroadcastChannel). */
let liveSource: EventSource | null = null;
let welcomes = 0; // connections made (native EventSource reconnects included)
function observedEventSource(url: string): EventSource {
  const es = new EventSource(url);
  liveSource = es;
  const n = ++streams;
  log("stream", `stream #${n} opening`);
  es.addEventListener("open", () => log("stream", `stream #${n} open`));
  es.addEventListener("welcome", (event) => {
    welcomes++;
    const id = JSON.parse((event as MessageEvent).data).connectionId as string;
    log("stream", `stream #${n} welcome, connection ${id.slice(0, 8)}…`);
  });
  es.addEventListener("error", () =>
    log("stream", `stream #${n} error (${es.readyState === EventSource.CLOSED ? "closed" : "browser reconnects"})`),
  );
  const close = es.close.bind(es);
  es.close = () => {
    if (es.readyState !== EventSource.CLOSED) log("stream", `stream #${n} closed by the client`);
    if (liveSource === es) liveSource = null;
    close();
  };
  return es;
}

const ordered = params.get("ordered") === "1" || params.get("ordered") === "true";
const staleAfterMs = intParam("staleAfterMs") ?? 6000;
const config: ConnectionConfig = {
  baseUrl: "", // same origin: the reference server serves this page
  fetch: observedFetch,
  createEventSource: observedEventSource,
  orderedSends: ordered,
  onDelivery: onDelivery,
};
if (staleAfterMs > 0) config.staleAfterMs = staleAfterMs;
const maxStaleRetries = intParam("maxStaleRetries");
if (maxStaleRetries) config.maxStaleRetries = maxStaleRetries;
const maxSendRetries = intParam("maxSendRetries");
if (maxSendRetries !== undefined) config.maxSendRetries = maxSendRetries;
const maxPendingSends = intParam("maxPendingSends");
if (maxPendingSends) config.maxPendingSends = maxPendingSends;
const backoffMaxMs = intParam("backoffMaxMs");
if (backoffMaxMs) config.backoff = { initialMs: Math.min(500, backoffMaxMs), maxMs: backoffMaxMs };
if (persistStore) config.persist = { store: persistStore, key: persistKey };
else if (outboxStorage) config.outboxStorage = outboxStorage;
if (sharing) config.shareAcrossTabs = true;
if (strict) config.strict = true;
if (acknowledge) config.acknowledgeEvents = true;
if (probe) config.foregroundProbe = true;

const Connection =
  sharing && persisting ? FullConnection : sharing ? TabsConnection : persisting ? PersistConnection : DefaultConnection;
const conn = new Connection(config);

// ---- sends, fates, chat --------------------------------------------------------

const sent: string[] = []; // clientMsgIds send() accepted, in order
const mine = new Set<string>(); // the same, to look up
// clientMsgIds of messages this page did not send but read back from the store (sent
// before a reload, or left by a tab that closed), in the order they were first seen.
const restored: string[] = [];
const refused: string[] = [];
const fates: Record<string, Fate> = {};
const counts = { delivered: 0, failed: 0, dropped: 0, uncertain: 0 };
// `_auth_lost` (the authentication latch, with strict): until "Sign in again".
let authLost = false;
let reportedTwice = 0;
let nextId = 0;

const CHAT_SHOWN = 200;
const bubbles = new Map<string, HTMLElement>(); // clientMsgId -> user bubble

function bubble(cls: string): HTMLElement {
  const li = document.createElement("li");
  li.className = cls;
  const chat = $("chat");
  chat.append(li);
  while (chat.childElementCount > CHAT_SHOWN) chat.firstElementChild!.remove();
  chat.scrollTop = chat.scrollHeight;
  return li;
}

function userBubble(id: string, text: string): HTMLElement {
  let li = bubbles.get(id);
  if (!li || !li.isConnected) {
    li = bubble("user");
    li.dataset.clientMsgId = id;
    li.dataset.fate = "pending";
    li.innerHTML = `<span class="text"></span><span class="fate">sending…</span>`;
    li.querySelector(".text")!.textContent = text;
    bubbles.set(id, li);
  }
  return li;
}

/** A message read back from the store: shown as sending until its report comes. */
function restoredBubble(id: string, message: Record<string, unknown>) {
  if (mine.has(id) || restored.includes(id)) return;
  restored.push(id);
  const text = String(message.prompt ?? message.text ?? "");
  const other = message.sessionId !== undefined && message.sessionId !== sessionId ? ` (${message.sessionId})` : "";
  const li = userBubble(id, text + other);
  li.dataset.restored = "true";
  if (li.dataset.fate === "pending") li.querySelector(".fate")!.textContent = "sending… (restored after a reload)";
  log("store", `restored from the store: ${id}`);
}

function send(text: string): { clientMsgId: string; accepted: boolean } {
  const clientMsgId = `${idPrefix}-${++nextId}`;
  const accepted = conn.send({ type: "send", sessionId, prompt: text, clientMsgId });
  if (accepted) {
    sent.push(clientMsgId);
    mine.add(clientMsgId);
    userBubble(clientMsgId, text);
  } else {
    refused.push(clientMsgId);
    log("state", `send refused (${strict ? "the outbox is full, or " : ""}not connected and not recovering): ${clientMsgId}`);
  }
  render();
  return { clientMsgId, accepted };
}

function onDelivery(report: DeliveryReport) {
  const id = report.clientMsgId ?? (report.message.clientMsgId as string | undefined);
  const { status, reason, httpStatus, endpoint } = report;
  const detail = [reason, httpStatus].filter((x) => x !== undefined).join(" ");
  if (id) {
    if (fates[id]) {
      reportedTwice++; // once only (docs/delivery-rules.md, rule 10); the tests check this stays 0
      console.error(`second report for ${id}`, report);
    }
    fates[id] = { status, reason, httpStatus, endpoint };
    // A stored message of an earlier page, reported before the UI listed it.
    if (persisting && !mine.has(id)) restoredBubble(id, report.message as Record<string, unknown>);
  }
  counts[status]++;
  const li = document.createElement("li");
  li.className = status;
  li.dataset.status = status;
  if (id) li.dataset.clientMsgId = id;
  li.textContent = `${status === "delivered" ? "✓" : "✕"} ${status} ${endpoint} ${id ?? ""} ${detail}`;
  const list = $("fates");
  list.prepend(li);
  while (list.childElementCount > 500) list.lastElementChild!.remove();
  const user = id ? bubbles.get(id) : undefined;
  if (user) {
    user.dataset.fate = status;
    user.querySelector(".fate")!.textContent = status === "delivered" ? "delivered ✓" : `${status}: ${detail}`;
  }
  render();
}

// ---- server events -------------------------------------------------------------

let events = 0;
let duplicates = 0; // session events at or below a seq already shown (must stay 0)
let lastHeartbeat = 0;
const shownSeq = new Map<string, number>();
// Acknowledged application: the seqs of this chat's events in the order shown, how
// many more events the listener refuses (the button), and those it refused.
const shownOrder: number[] = [];
let refuseEvents = 0;
const refusedSeqs: number[] = [];
// Replies being streamed, oldest first. The reference agent names the message each
// delta answers; a delta that names none goes to the oldest reply not yet done.
const streaming: { id: string; li: HTMLElement }[] = [];

conn.onMessage((msg: ServerMessage) => {
  // With acknowledged application the package asks whether a chained event was
  // applied: the demo refuses one on demand, else applies (shows) it.
  if (acknowledging && typeof msg.prevSessionSeq === "number" && refuseEvents > 0) {
    refuseEvents--;
    refusedSeqs.push(Number(msg.seq));
    log("event", `refused event ${msg.sessionId}#${msg.seq}: the package asks for it again`);
    return false;
  }
  switch (msg.type) {
    case "_open":
      log("state", `connected (connection ${String(conn.getConnectionId()).slice(0, 8)}…)`);
      break;
    case "_close":
      log("state", "disconnected, recovering");
      break;
    case "_foreground":
      log("state", "page visible again");
      break;
    case "_auth_lost":
      authLost = true;
      log("state", "authentication lost: nothing reconnects until you sign in again");
      break;
    case "heartbeat":
      lastHeartbeat = performance.now();
      break;
    case "_send_pending":
    case "_send_accepted":
    case "_send_failed":
    case "_send_uncertain":
      onPromptNotice(msg);
      break;
    case "error":
    case "permission_response_rejected":
      log("post", `${msg.type}: ${String(msg.error)}`);
      break;
    case "session_reconnect_snapshot":
      onSnapshotOffer(msg);
      break;
    default:
      onSessionEvent(msg);
  }
  render();
  return true;
});

/** A reconnect snapshot offer: the demo's transcript is what it shows, so it takes the
 * snapshot as applied at once and asks the package to say so. */
function onSnapshotOffer(msg: ServerMessage) {
  const { sessionId: session, cursor, offerId } = msg;
  if (typeof session !== "string" || typeof cursor !== "number") return;
  const asked = conn.acknowledgeReconnectSnapshot(session, cursor, typeof offerId === "string" ? offerId : undefined);
  log("event", `reconnect snapshot of ${session} at #${cursor}: ${asked ? "acknowledged" : "no open offer"}`);
}

// The states a prompt's notices give it (`strict`), in the order it meets them.
const PROMPT_STATES = {
  _send_pending: "pending",
  _send_accepted: "accepted",
  _send_failed: "failed",
  _send_uncertain: "uncertain",
} as const;
const promptStates: Record<string, string[]> = {}; // clientMsgId -> every state shown

/** A `_send_*` notice (`strict`): the prompt's bubble shows its state until the report. */
function onPromptNotice(msg: ServerMessage) {
  const id = String(msg.clientMsgId);
  const base = PROMPT_STATES[msg.type as keyof typeof PROMPT_STATES];
  const state = base === "pending" && msg.retrying ? "retrying" : base;
  (promptStates[id] ??= []).push(state);
  log("post", `${id}: ${state}${msg.error ? ` (${String(msg.error)})` : ""}`);
  const li = bubbles.get(id);
  if (!li || (li.dataset.fate !== "pending" && li.dataset.fate !== undefined)) return;
  li.dataset.prompt = state;
  const receipt = msg.receipt as { sessionId?: string | null } | undefined;
  const shown = {
    pending: "sending…",
    retrying: "retrying…",
    accepted: `accepted ✓${receipt?.sessionId ? ` (${receipt.sessionId})` : ""}`,
    failed: `failed: ${String(msg.error)}`,
    uncertain: "uncertain: it may or may not have reached the server",
  }[state];
  li.querySelector(".fate")!.textContent = shown ?? state;
}

function onSessionEvent(msg: ServerMessage) {
  events++;
  const session = msg.sessionId ?? "";
  if (typeof msg.seq === "number") {
    const shown = shownSeq.get(session) ?? 0;
    if (msg.seq <= shown) {
      duplicates++;
      log("event", `duplicate event ${session}#${msg.seq} not shown`);
      return;
    }
    shownSeq.set(session, msg.seq);
  }
  if (session !== sessionId) return;
  if (typeof msg.seq === "number") shownOrder.push(msg.seq);
  const id = (msg.clientMsgId as string | undefined) ?? `seq-${msg.seq}`;
  switch (msg.type) {
    case "user_message": {
      const user = userBubble(id, String(msg.text ?? ""));
      user.dataset.echoed = "true";
      const reply = document.createElement("li");
      reply.className = "agent";
      reply.dataset.streaming = "true";
      user.after(reply);
      streaming.push({ id, li: reply });
      break;
    }
    case "block_delta": {
      const reply = streaming.find((r) => r.id === id) ?? streaming[0];
      if (reply) reply.li.textContent += String(msg.delta ?? "");
      break;
    }
    case "message_done": {
      const at = streaming.findIndex((r) => r.id === id);
      const [reply] = at >= 0 ? streaming.splice(at, 1) : [];
      if (reply) {
        delete reply.li.dataset.streaming;
        reply.li.dataset.replyTo = id;
      }
      break;
    }
    default:
      log("event", `event ${msg.type}${msg.seq !== undefined ? ` #${msg.seq}` : ""}`);
  }
  const chat = $("chat");
  chat.scrollTop = chat.scrollHeight;
}

// ---- status --------------------------------------------------------------------

let everConnected = false;
function connectionState(): string {
  if (authLost) return "auth-lost";
  if (conn.isConnected()) {
    everConnected = true;
    return "connected";
  }
  return everConnected ? "reconnecting" : "connecting";
}

/** The last foreground probe's result, as the status bar shows it. */
function probeText(): string {
  const last = conn.lastProbe();
  if (!last) return "–";
  switch (last.result) {
    case "echoed":
      return `echoed in ${last.roundTripMs} ms: stream kept`;
    case "refused":
      return `refused (HTTP ${last.httpStatus}): rebuilt`;
    case "no_echo":
      return "no echo within 1 s: rebuilt";
    case "cancelled":
      return "cancelled (the connection ended first)";
    default:
      return `${last.result}: rebuilt`;
  }
}

function render() {
  if (persisting) {
    for (const message of conn.restoredPending()) {
      const id = message.clientMsgId;
      if (typeof id === "string") restoredBubble(id, message as Record<string, unknown>);
    }
  }
  const state = connectionState();
  const status = $("status");
  const id = conn.getConnectionId();
  status.dataset.state = state;
  status.dataset.connectionId = id ?? "";
  status.dataset.pending = String(conn.pendingCount);
  status.dataset.inFlight = String(conn.inFlightCount);
  status.dataset.sent = String(sent.length);
  status.dataset.delivered = String(counts.delivered);
  status.dataset.failed = String(counts.failed);
  status.dataset.dropped = String(counts.dropped);
  status.dataset.uncertain = String(counts.uncertain);
  status.dataset.duplicates = String(duplicates);
  status.dataset.restored = String(restored.length);
  status.dataset.probe = conn.lastProbe()?.result ?? "";
  $("state").textContent = state;
  $("state").className = `pill ${state}`;
  $("connection-id").textContent = id ? `${id.slice(0, 12)}…` : "–";
  $("pending").textContent = String(conn.pendingCount);
  $("in-flight").textContent = String(conn.inFlightCount);
  $("count-sent").textContent = String(sent.length);
  $("count-delivered").textContent = String(counts.delivered);
  $("count-failed").textContent = String(counts.failed);
  $("count-dropped").textContent = String(counts.dropped);
  $("count-uncertain").textContent = String(counts.uncertain);
  $("auth").textContent = authLost ? "lost (sends refused, nothing reconnects)" : "ok";
  $("auth").dataset.auth = authLost ? "lost" : "ok";
  $("count-duplicates").textContent = String(duplicates);
  $("count-restored").textContent = String(restored.length);
  $("applied").textContent = acknowledging ? String(conn.getLastSeq(sessionId)) : "–";
  $("last-probe").textContent = probeText();
}

// ---- the persisted outbox: what the store holds, the switch, reload ------------

/** The keys (clientMsgIds) the outbox's store holds now: read from the store the
 * package writes (docs/persisted-outbox.md), without ever creating it. */
async function stored(): Promise<string[]> {
  if (outboxStorage) {
    // One JSON value: the records by clientMsgId (docs/persisted-outbox.md).
    return Object.keys(JSON.parse(outboxStorage.getItem(`sse-courier-outbox:${persistKey}`) ?? "{}"));
  }
  if (persistStore === "local" || persistStore === "session") {
    const storage = persistStore === "local" ? localStorage : sessionStorage;
    const prefix = `sse-courier:${persistKey}:`;
    const keys: string[] = [];
    for (let i = 0; i < storage.length; i++) {
      const name = storage.key(i);
      if (name?.startsWith(prefix)) keys.push(name.slice(prefix.length));
    }
    return keys;
  }
  if (persistStore !== "indexeddb") return [];
  const database = await new Promise<IDBDatabase | null>((resolve, reject) => {
    const request = indexedDB.open(`sse-courier:${persistKey}`);
    // Not there yet: leave it to the package to create.
    request.onupgradeneeded = () => request.transaction!.abort();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => (request.error?.name === "AbortError" ? resolve(null) : reject(request.error));
  });
  if (!database) return [];
  try {
    if (!database.objectStoreNames.contains("records")) return [];
    return await new Promise<string[]>((resolve, reject) => {
      const request = database.transaction("records").objectStore("records").getAllKeys();
      request.onsuccess = () => resolve(request.result.map(String));
      request.onerror = () => reject(request.error);
    });
  } finally {
    database.close();
  }
}

let storedShown: Promise<void> | undefined;
function showStored() {
  if (!persisting || storedShown) return;
  storedShown = stored()
    .then(
      (keys) => void ($("stored").textContent = String(keys.length)),
      (error) => void ($("stored").textContent = `unreadable (${error?.name ?? error})`),
    )
    .finally(() => setTimeout(() => (storedShown = undefined), 1000));
}

const persistSwitch = $<HTMLInputElement>("persist");
persistSwitch.checked = persisting;
persistSwitch.addEventListener("change", () => {
  // The choice lives in the URL: a reload keeps it, the switch rebuilds the page.
  const next = new URLSearchParams(location.search);
  if (persistSwitch.checked) {
    next.set("persist", "indexeddb");
    next.set("session", sessionId);
  } else {
    next.delete("persist");
    next.delete("storeFault");
  }
  location.search = `?${next}`;
});
$("reload").addEventListener("click", () => location.reload());

/** With `share=1`: "leader" when this tab holds the stream, else "follower". */
function tabRole(): string {
  if (!sharing) return "";
  return liveSource && liveSource.readyState !== EventSource.CLOSED ? "leader" : "follower";
}

const shareSwitch = $<HTMLInputElement>("share");
shareSwitch.checked = sharing;
shareSwitch.addEventListener("change", () => {
  const next = new URLSearchParams(location.search);
  if (shareSwitch.checked) {
    next.set("share", "1");
    next.set("session", sessionId);
  } else {
    next.delete("share");
  }
  location.search = `?${next}`;
});

const probeSwitch = $<HTMLInputElement>("probe");
probeSwitch.checked = probe;
probeSwitch.addEventListener("change", () => {
  const next = new URLSearchParams(location.search);
  if (probeSwitch.checked) next.set("probe", "1");
  else next.delete("probe");
  location.search = `?${next}`;
});

const strictSwitch = $<HTMLInputElement>("strict");
strictSwitch.checked = strict;
strictSwitch.addEventListener("change", () => {
  const next = new URLSearchParams(location.search);
  if (strictSwitch.checked) next.set("strict", "1");
  else next.delete("strict");
  location.search = `?${next}`;
});

// ---- faults (the server's test API) --------------------------------------------

async function control(path: string, body: object = {}): Promise<unknown> {
  const response = await fetch(`/api/test/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  log("fault", `${path} ${JSON.stringify(body)} → ${response.status}`);
  return answer;
}

const faults: Record<string, () => Promise<unknown>> = {
  forget: () => control("forget", { connectionId: conn.getConnectionId() ?? undefined }),
  "kill-streams": () => control("kill-streams"),
  "fail-next": () => control("fail-next", { count: Number($<HTMLInputElement>("fail-count").value) || 1, status: 500 }),
  delay: () => control("delay", { ms: Number($<HTMLInputElement>("delay-ms").value) || 0 }),
  restart: () => control("restart"),
  "break-receipts": () => control("break-receipts", { count: 3, kind: "html" }),
  "drop-events": () => control("drop-events", { count: 2 }),
  "heartbeats-off": () => control("heartbeats", { enabled: false }),
  "heartbeats-on": () => control("heartbeats", { enabled: true }),
  silence: () => control("silence-streams", { connectionId: conn.getConnectionId() ?? undefined }),
  "swallow-probe": () => control("swallow-probes", { count: 1 }),
  clear: async () => {
    await control("fail-next", { count: 0 });
    await control("delay", { ms: 0 });
    await control("heartbeats", { enabled: true });
    await control("swallow-probes", { count: 0 });
  },
  reconnect: async () => {
    log("state", "checkAndReconnect(true)");
    conn.checkAndReconnect(true);
  },
  "expire-auth": () => control("expire-auth"),
  "restore-auth": async () => {
    await control("restore-auth");
    restoreAuthentication();
  },
};

/** Signed in again: the latch opens and the stream is rebuilt (`authLatch`, on with
 * strict; without it the package throws, naming the option). */
function restoreAuthentication() {
  try {
    conn.restoreAuthentication();
    authLost = false;
    log("state", "restoreAuthentication()");
  } catch (error) {
    log("state", String(error));
  }
  render();
}

for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-fault]")) {
  button.addEventListener("click", () => void faults[button.dataset.fault!]());
}

$("refuse-event").addEventListener("click", () => {
  refuseEvents = 1;
  log("state", "the listener will refuse the next event");
});

let tries = 0;
$("try-stale").addEventListener("click", async () => {
  await faults.forget();
  send(`hello after a stale connection (${++tries})`);
});

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>("text");
  if (!input.value.trim()) return;
  send(input.value);
  input.value = "";
});

// ---- start ---------------------------------------------------------------------

$("session").textContent = `session ${sessionId}`;
$("options").textContent = [
  ordered ? "orderedSends" : "",
  staleAfterMs ? `staleAfterMs ${staleAfterMs}` : "",
  persistStore ? `persist ${persistStore} (key ${persistKey})` : outboxStorage ? `outboxStorage ${outboxStorageParam}` : "",
  sharing ? "shareAcrossTabs" : "",
  probe ? "foregroundProbe" : "",
  storeFault ? `storeFault ${storeFault}` : "",
]
  .filter(Boolean)
  .join(", ");
conn.connect();
render();
// The messages an earlier page left unsent, as soon as the store is read back (render
// keeps showing them afterwards, and those adopted later from a tab that closes).
void conn.whenRestored().then(render);
setInterval(() => {
  render();
  showStored();
  const role = tabRole();
  $("tab-role").textContent =
    role === "leader"
      ? "this tab is the leader: it holds the one stream"
      : role === "follower"
        ? "this tab is a follower: the leader tab relays its events"
        : "";
  $("tab-role").dataset.role = role;
  const silent = lastHeartbeat ? Math.round((performance.now() - lastHeartbeat) / 1000) : null;
  $("status").dataset.heartbeatAgeS = silent === null ? "" : String(silent);
}, 200);

// With share on, how many streams the server holds open (its test API): however many
// tabs show this chat, one. Off, the page makes no such request.
async function showServerStreams() {
  const state = await fetch("/api/test/state")
    .then((response) => response.json() as Promise<{ openStreams?: number }>)
    .catch(() => null);
  $("server-streams").textContent = typeof state?.openStreams === "number" ? String(state.openStreams) : "–";
}
if (sharing) {
  setInterval(showServerStreams, 1000);
  showServerStreams();
}

/** What the end-to-end tests read and drive. */
const demo = {
  ready: true,
  sessionId,
  config: { ordered, staleAfterMs, maxStaleRetries, maxSendRetries, maxPendingSends, backoffMaxMs, persistStore, persistKey, storeFault, strict, acknowledging, probe },
  conn,
  send,
  control,
  restoreAuthentication,
  sent,
  restored,
  refused,
  warnings,
  stored,
  fates,
  promptStates,
  timeline,
  shownOrder,
  refusedSeqs,
  /** The listener refuses the next `count` chained events (acknowledged application). */
  refuseNextEvents(count: number) {
    refuseEvents = count;
  },
  /** Everything a test polls, in one JSON-safe object. */
  snapshot() {
    return {
      state: connectionState(),
      connectionId: conn.getConnectionId(),
      pending: conn.pendingCount,
      inFlight: conn.inFlightCount,
      sent: sent.length,
      restored: restored.length,
      restoredPending: persisting ? conn.restoredPending().length : 0,
      role: tabRole(),
      refused: refused.length,
      warnings: warnings.length,
      ...counts,
      authLost,
      authLosses: conn.stats().authLosses,
      reported: Object.keys(fates).length,
      reportedTwice,
      events,
      duplicates,
      streams,
      welcomes,
      appliedCursor: acknowledging ? conn.getLastSeq(sessionId) : null,
      resyncs: conn.stats().resyncs,
      lastProbe: conn.lastProbe(),
    };
  },
};
declare global {
  interface Window {
    __demo: typeof demo;
  }
}
window.__demo = demo;
document.documentElement.dataset.ready = "true";
