// The bench page: the npm package (bundled by esbuild from pkg/, bench/build.mjs) and
// the plain-JS baselines it is compared with, side by side in one page, against the
// reference server that serves this page (same origin, 127.0.0.1).
//
// bench/run.mjs drives it over WebDriver: each call below is one timed run of one
// variant and resolves with its figures; the driver alternates variants and repeats
// them, so every ratio compares runs made in the same page, a moment apart.
//
// Timing never waits on a fixed delay: every wait is on an event (a listener, a
// delivery report, a POST answer), bounded by a timeout that only turns a hang into
// an error.
import { Connection } from "sse-courier";
// The same class from the `sse-courier/persist` entry (its own build, the persisted
// outbox compiled in, wasm embedded): the outbound and restore runs of issue 15.
import { Connection as PersistConnection } from "sse-courier/persist";
// The `sse-courier/tabs` entry (its own build, one stream for all tabs, wasm
// embedded): the tab-sharing runs of issue 16, each tab of the run on this page.
import { Connection as TabsConnection } from "sse-courier/tabs";
// The package's own wasm instance (the same module the glue imports): its linear
// memory and externref table, read for the memory figures. Not public API.
import * as wasm from "sse-courier/wasm";
// The baseline build (issue 21's before/after figures; bench/baseline.mjs): another
// build's `sse-courier/bundler` entry, its own wasm instance, run as the "baseline"
// variant of the inbound and outbound groups. Both null when the bench was built
// without one (bench/build.mjs).
import { Connection as BaselineConnection, info as baselineInfo } from "sse-courier-baseline";

// ---- instrumentation, installed before any Connection exists ---------------------

// The page's own waits use the original timer functions, so the live-timer count
// below is the package's (and the page's Connection callbacks') alone.
const realSetTimeout = globalThis.setTimeout.bind(globalThis);
const realClearTimeout = globalThis.clearTimeout.bind(globalThis);
const liveTimers = new Set();
globalThis.setTimeout = function (handler, ms, ...args) {
  const id = realSetTimeout(
    (...a) => {
      liveTimers.delete(id);
      if (typeof handler === "function") handler(...a);
    },
    ms,
    ...args,
  );
  liveTimers.add(id);
  return id;
};
globalThis.clearTimeout = function (id) {
  liveTimers.delete(id);
  realClearTimeout(id);
};

// Live event listeners: (target, type, capture, callback) registrations added and
// not removed, on any EventTarget (window, document, EventSources).
const realAdd = EventTarget.prototype.addEventListener;
const realRemove = EventTarget.prototype.removeEventListener;
const registrations = new WeakMap();
let liveListeners = 0;
const captureOf = (options) => (typeof options === "boolean" ? options : Boolean(options?.capture));
EventTarget.prototype.addEventListener = function (type, callback, options) {
  if (callback) {
    let byKey = registrations.get(this);
    if (!byKey) registrations.set(this, (byKey = new Map()));
    const key = `${type}|${captureOf(options)}`;
    let set = byKey.get(key);
    if (!set) byKey.set(key, (set = new Set()));
    if (!set.has(callback)) {
      set.add(callback);
      liveListeners++;
    }
  }
  return realAdd.call(this, type, callback, options);
};
EventTarget.prototype.removeEventListener = function (type, callback, options) {
  const set = registrations.get(this)?.get(`${type}|${captureOf(options)}`);
  if (set?.delete(callback)) liveListeners--;
  return realRemove.call(this, type, callback, options);
};

// EventSources made through `tracedEventSource` (the Connection's injected factory
// where a run needs it): how many are open, and a trace of their life for the
// recovery runs.
let openSources = 0;
let trace = null; // [{ t, what, ... }] while a recovery run records
const mark = (what, extra = {}) => trace?.push({ t: performance.now(), what, ...extra });

function tracedEventSource(url) {
  const es = new EventSource(url);
  openSources++;
  mark("stream-open");
  // Observers added with the unpatched addEventListener: not counted as live listeners.
  realAdd.call(es, "welcome", () => mark("welcome"));
  let lastMessageAt = null;
  realAdd.call(es, "message", () => {
    lastMessageAt = performance.now();
  });
  const close = es.close.bind(es);
  let closed = false;
  es.close = () => {
    if (!closed) {
      closed = true;
      openSources--;
      mark("stream-close", { lastMessageAt });
    }
    close();
  };
  return es;
}

function endpointOf(url) {
  return url.slice(url.lastIndexOf("/") + 1);
}

function tracedFetch(url, init) {
  const endpoint = endpointOf(url);
  mark("post", { endpoint });
  return fetch(url, init).then(
    (response) => {
      mark("answer", { endpoint, status: response.status });
      return response;
    },
    (error) => {
      mark("answer", { endpoint, status: 0 });
      throw error;
    },
  );
}

// The package's warnings (`[sse-courier] ...`, e.g. a store it could not use and
// replaced by memory): kept, so that a persisted run that silently fell back to
// memory is an error rather than a figure.
const packageWarnings = [];
const realWarn = console.warn.bind(console);
console.warn = (...args) => {
  if (typeof args[0] === "string" && args[0].startsWith("[sse-courier]")) packageWarnings.push(args[0]);
  realWarn(...args);
};

// ---- helpers ---------------------------------------------------------------------

const now = () => performance.now();
let uidCounter = 0;
const uid = (prefix) => `${prefix}-${Date.now().toString(36)}-${++uidCounter}`;

/** A promise with its resolve/reject, and a timeout that turns a hang into an error. */
function deferred(what, timeoutMs = 30000) {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = realSetTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
  promise.then(
    () => realClearTimeout(timer),
    () => realClearTimeout(timer),
  );
  return { promise, resolve, reject };
}

async function control(path, body = {}) {
  const response = await fetch(`/api/test/${path}`, { method: "POST", body: JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) throw new Error(`control ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function accepted(sessionId) {
  const response = await fetch(`/api/test/accepted?sessionId=${encodeURIComponent(sessionId)}`);
  return (await response.json()).accepted;
}

const HEADERS = (connectionId) => ({ "Content-Type": "application/json", "X-Connection-ID": connectionId });

/** The bare-JS side: an EventSource and its connection id once welcomed. */
async function bareStream() {
  const es = new EventSource("/api/chat/events");
  const welcomed = deferred("the bare EventSource's welcome", 15000);
  // The page's own listener, not counted among the live ones (see realAdd).
  realAdd.call(es, "welcome", (event) => welcomed.resolve(JSON.parse(event.data).connectionId), { once: true });
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) welcomed.reject(new Error("bare EventSource closed"));
  };
  const connectionId = await welcomed.promise;
  return { es, connectionId };
}

function closeBare(es) {
  es.onmessage = null;
  es.onerror = null;
  es.close();
}

async function barePost(connectionId, endpoint, message) {
  const response = await fetch(`/api/chat/${endpoint}`, {
    method: "POST",
    headers: HEADERS(connectionId),
    body: JSON.stringify(message),
  });
  if (!response.ok) throw new Error(`bare POST ${endpoint}: ${response.status}`);
  return response;
}

/**
 * A Connection and promises for what the runs wait on: `opened()` (the next `_open`),
 * `reportOf(clientMsgId)`, and every event dispatched to `onEvent`.
 */
function courier(extra = {}, Class = Connection) {
  const waiters = new Map(); // clientMsgId -> deferred
  let openWaiter = null;
  const handle = {
    reports: 0,
    failures: [],
    onEvent: null,
    onReport: null,
  };
  const conn = new Class({
    baseUrl: "",
    ...extra,
    onDelivery(report) {
      handle.reports++;
      if (report.status !== "delivered") handle.failures.push({ status: report.status, reason: report.reason });
      handle.onReport?.(report);
      const waiter = waiters.get(report.clientMsgId ?? report.message?.sessionId);
      if (waiter) {
        waiters.delete(report.clientMsgId ?? report.message?.sessionId);
        if (report.status === "delivered") waiter.resolve(report);
        else waiter.reject(new Error(`message ${report.clientMsgId}: ${report.status} ${report.reason}`));
      }
    },
  });
  conn.onMessage((message) => {
    if (message.type === "_open") {
      handle.openedAt = now();
      openWaiter?.resolve();
      openWaiter = null;
    } else {
      handle.onEvent?.(message);
    }
    // Applied (read only with `acknowledgeEvents`, the "applied" variant).
    return true;
  });
  handle.conn = conn;
  handle.opened = () => {
    openWaiter = deferred("the Connection's _open", 15000);
    return openWaiter.promise;
  };
  /** Resolves with the delivery report of the message keyed `key` (its clientMsgId). */
  handle.reportOf = (key) => {
    const waiter = deferred(`the delivery report of ${key}`);
    waiters.set(key, waiter);
    return waiter.promise;
  };
  handle.connect = async () => {
    const open = handle.opened();
    conn.connect();
    await open;
  };
  /** Watches `sessionId` (a POST the Connection makes) and waits until it is accepted. */
  handle.watch = async (sessionId) => {
    const report = handle.reportOf(sessionId);
    if (!conn.send({ type: "watch", sessionId })) throw new Error("watch refused");
    await report;
  };
  handle.close = () => {
    conn.disconnect();
    conn.free();
  };
  return handle;
}

/** The Connection class of a package variant: this tree's build ("courier") or the
 * baseline build ("baseline"), which must then have been bundled in. */
function connectionClass(variant) {
  if (variant !== "baseline") return Connection;
  if (!BaselineConnection) throw new Error("no baseline build in this page (BENCH_BASELINE, bench/build.mjs)");
  return BaselineConnection;
}

// ---- 2. inbound: events/s from the server to the app's listener -------------------

/**
 * The server appends `count` events (`bytes`-long delta) to a fresh session this
 * page watches, in `emit` calls of at most `batch` events (the server caps one call at
 * 10,000); the time from the first event's arrival at the app's listener to the last
 * one's (performance.now()). `variant`: "courier" (Connection.onMessage), "baseline"
 * (the same with the baseline build's Connection), "bare" (EventSource onmessage +
 * JSON.parse), "raw" (EventSource onmessage, no parsing: the ceiling of browser +
 * server on this machine), "applied" (the Connection with `acknowledgeEvents`: each
 * event chained by its `prevSessionSeq`, applied by the listener's `true`, and
 * acknowledged to the server).
 *
 * The batches are emitted back to back so the stream never runs dry: the first call
 * goes out before timing starts, each next one as soon as the previous one is
 * answered and it keeps at most `ahead` events emitted and not yet received (so the
 * server's queue for the stream stays far below its 100,000-frame limit). The same
 * page code issues the same calls at the same points for every variant; the
 * listener's only extra work is one compare.
 */
async function inbound({ variant, count, batch = 10000, ahead = 2 * batch, bytes, courierOptions = {} }) {
  await control("reset");
  const sessionId = uid("in");
  const fields = { delta: "x".repeat(bytes) };
  let received = 0;
  let first = 0;
  let last = 0;
  const all = deferred(`${count} events (${variant})`, 60000);
  // Batches: `emitted` events asked for so far; the next call goes out when the
  // previous one was answered and `received` reached `refillAt`.
  let emitted = 0;
  let emitting = false;
  let emits = 0;
  let refillAt = -1;
  const emitMore = () => {
    const n = Math.min(batch, count - emitted);
    if (emitting || n <= 0 || emitted + n - received > ahead) return;
    emitted += n;
    emitting = true;
    emits++;
    control("emit", { sessionId, count: n, fields }).then(
      () => {
        emitting = false;
        refillAt = emitted + Math.min(batch, count - emitted) - ahead;
        emitMore();
      },
      (error) => all.reject(error),
    );
  };
  const onEvent = (message) => {
    if (message.type !== "block_delta") return;
    const t = now();
    if (received === 0) first = t;
    if (typeof message.delta !== "string") all.reject(new Error("an event without its delta"));
    if (++received === refillAt) emitMore();
    if (received === count) {
      last = t;
      all.resolve();
    }
  };
  let teardown;
  if (variant === "courier" || variant === "baseline" || variant === "applied") {
    const options = variant === "applied" ? { ...courierOptions, acknowledgeEvents: true } : courierOptions;
    const c = courier(options, connectionClass(variant));
    c.onEvent = onEvent;
    await c.connect();
    await c.watch(sessionId);
    teardown = () => c.close();
  } else {
    const { es, connectionId } = await bareStream();
    if (variant === "bare") {
      es.onmessage = (event) => onEvent(JSON.parse(event.data));
    } else {
      // No parsing: a block_delta is recognised by its length (heartbeats are short).
      es.onmessage = (event) => {
        if (event.data.length > bytes) onEvent({ type: "block_delta", delta: event.data });
      };
    }
    await barePost(connectionId, "watch", { type: "watch", sessionId });
    teardown = () => closeBare(es);
  }
  const start = now();
  try {
    emitMore();
    await all.promise;
  } finally {
    teardown();
  }
  if (received !== count) throw new Error(`${variant}: ${received} events, not ${count}`);
  const ms = last - first;
  return {
    variant,
    count,
    batch,
    emits,
    bytes,
    ms,
    perSecond: ((count - 1) * 1000) / ms,
    fromEmitMs: last - start,
  };
}

/**
 * The listener's cost alone, without the network: the same stream set-up as
 * `inbound` (a Connection, or a bare EventSource, watching a fresh session), then
 * `count` events the server would have sent for that session (same JSON, keys in the
 * server's order, seq 1, 2, ...)
 * dispatched synchronously on that EventSource as `message` events, prebuilt before
 * timing; the time of the whole loop. What the network run cannot show when the
 * browser's delivery of the stream, not the page, is the bottleneck.
 */
async function inboundDispatch({ variant, count, bytes, courierOptions = {} }) {
  await control("reset");
  const sessionId = uid("disp");
  let received = 0;
  const onEvent = (message) => {
    if (message.type !== "block_delta") return;
    if (typeof message.delta !== "string") throw new Error("an event without its delta");
    received++;
  };
  let source;
  let teardown;
  if (variant === "courier" || variant === "baseline") {
    const c = courier(
      {
        ...courierOptions,
        createEventSource: (url) => (source = new EventSource(url)),
      },
      connectionClass(variant),
    );
    c.onEvent = onEvent;
    await c.connect();
    await c.watch(sessionId);
    teardown = () => c.close();
  } else {
    const bare = await bareStream();
    source = bare.es;
    if (variant === "bare") {
      source.onmessage = (event) => onEvent(JSON.parse(event.data));
    } else {
      source.onmessage = (event) => {
        if (event.data.length > bytes) onEvent({ type: "block_delta", delta: event.data });
      };
    }
    await barePost(bare.connectionId, "watch", { type: "watch", sessionId });
    teardown = () => closeBare(source);
  }
  const delta = "x".repeat(bytes);
  const events = Array.from(
    { length: count },
    (_, i) => new MessageEvent("message", { data: JSON.stringify({ delta, seq: i + 1, sessionId, type: "block_delta" }) }),
  );
  let ms;
  try {
    const start = now();
    for (const event of events) source.dispatchEvent(event);
    ms = now() - start;
  } finally {
    teardown();
  }
  if (received !== count) throw new Error(`${variant}: ${received} events reached the listener, not ${count}`);
  return { variant, count, bytes, ms, perSecond: (count * 1000) / ms };
}

// ---- 3. outbound: sends/s until the server accepted all ----------------------------

/** The `persist.store` of each variant of the `sse-courier/persist` entry ("off": none). */
const PERSIST_STORES = { off: null, indexeddb: "indexeddb", local: "local" };

/**
 * How many entries the outbox `namespace` holds in `store` (the outbox's layout, src/web/store/:
 * IndexedDB database `sse-courier:<namespace>`, object store `records`; Web Storage
 * keys `sse-courier:<namespace>:<key>`). An IndexedDB read waits for every readwrite
 * transaction begun before it on that store, so it sees every write already started.
 */
async function storedCount(store, namespace) {
  if (store === "local") {
    const prefix = `sse-courier:${namespace}:`;
    let n = 0;
    for (let i = 0; i < localStorage.length; i++) if (localStorage.key(i)?.startsWith(prefix)) n++;
    return n;
  }
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open(`sse-courier:${namespace}`);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  try {
    if (!db.objectStoreNames.contains("records")) return 0;
    return await new Promise((resolve, reject) => {
      const request = db.transaction("records", "readonly").objectStore("records").count();
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

/** Removes what a run left of the outbox `namespace` (untimed). The connection's own
 * IndexedDB handle stays open until it is collected, so the deletion is not awaited. */
function dropStore(store, namespace) {
  if (store === "local") {
    const prefix = `sse-courier:${namespace}:`;
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (key?.startsWith(prefix)) localStorage.removeItem(key);
    }
  } else if (store === "indexeddb") {
    indexedDB.deleteDatabase(`sse-courier:${namespace}`);
  }
}

function checkNoWarnings(what) {
  if (packageWarnings.length) {
    const warnings = packageWarnings.splice(0);
    throw new Error(`${what}: the package warned: ${warnings.slice(0, 3).join(" | ")}`);
  }
}

/**
 * `count` `send` messages to a fresh session; the time from the first send to the
 * last acceptance (the last delivery report / the last POST answer), then a check
 * (untimed) that the server accepted each once (and in order when `ordered`).
 * `variant`: "courier" (Connection.send; `orderedSends: ordered`), "receipts" (the
 * same with `receipts: true`), "baseline" (the
 * same with the baseline build's Connection), "bare" (fetch POSTs: each awaited in turn
 * when `ordered`, all at once otherwise); and the
 * `sse-courier/persist` entry's Connection: "off" (no `persist` option), "indexeddb"
 * and "local" (`persist: { store, key }`, a fresh `key` per run, so the store starts
 * empty). Those three first send one message (to another session) and wait for its
 * report, untimed: the store's read at `connect()` is then done (retryable sends wait
 * for it) and the database open; after the run the store must be empty again.
 */
async function outbound({ variant, count, ordered }) {
  await control("reset");
  packageWarnings.length = 0;
  const sessionId = uid("out");
  const messages = Array.from({ length: count }, (_, i) => ({
    type: "send",
    sessionId,
    clientMsgId: `${sessionId}-${i}`,
    text: `message ${i} of the outbound benchmark`,
  }));
  let ms;
  // The send() loop alone (concurrent: every message handed over, the store's
  // synchronous writes included; ordered: every send() call, one POST started).
  let sendLoopMs;
  if (variant !== "bare") {
    // orderedSends keeps one send POST in flight and queues the rest: the queue must
    // hold the whole burst (default maxPendingSends 100 would drop the oldest).
    const options = { orderedSends: ordered, maxPendingSends: Math.max(100, count) };
    // "receipts": a 2xx counts only with its receipt, read from the answer's body.
    if (variant === "receipts") options.receipts = true;
    const persistEntry = variant in PERSIST_STORES;
    const store = PERSIST_STORES[variant] ?? null;
    const namespace = uid("bench-out");
    if (store) options.persist = { store, key: namespace };
    const c = courier(options, persistEntry ? PersistConnection : connectionClass(variant));
    await c.connect();
    if (persistEntry) {
      const warmId = `${sessionId}-warm`;
      const warm = c.reportOf(warmId);
      if (!c.conn.send({ type: "send", sessionId: `${sessionId}-w`, clientMsgId: warmId, text: "warm-up" })) {
        throw new Error("send refused");
      }
      await warm;
      c.reports = 0;
    }
    const all = deferred(`${count} delivery reports`);
    c.onReport = () => {
      if (c.reports === count) all.resolve();
    };
    const start = now();
    try {
      for (const message of messages) {
        if (!c.conn.send(message)) throw new Error("send refused");
      }
      sendLoopMs = now() - start;
      await all.promise;
      ms = now() - start;
    } finally {
      c.close();
    }
    if (c.failures.length) throw new Error(`not delivered: ${JSON.stringify(c.failures.slice(0, 3))}`);
    if (store) {
      const left = await storedCount(store, namespace);
      dropStore(store, namespace);
      if (left !== 0) throw new Error(`${variant}: ${left} records left in the store after every delivery`);
    }
    checkNoWarnings(variant);
  } else {
    const { es, connectionId } = await bareStream();
    const start = now();
    try {
      if (ordered) {
        for (const message of messages) await barePost(connectionId, "send", message);
      } else {
        await Promise.all(messages.map((message) => barePost(connectionId, "send", message)));
      }
      ms = now() - start;
    } finally {
      closeBare(es);
    }
  }
  const ids = await accepted(sessionId);
  const expected = messages.map((m) => m.clientMsgId);
  const sameSet = ids.length === count && new Set(ids).size === count && expected.every((id) => ids.includes(id));
  if (!sameSet) throw new Error(`${variant}: the server accepted ${ids.length} of ${count}`);
  const inOrder = ids.every((id, i) => id === expected[i]);
  if (ordered && !inOrder) throw new Error(`${variant}: accepted out of order`);
  return { variant, count, ordered, ms, perSecond: (count * 1000) / ms, inOrder, sendLoopMs };
}

/**
 * Restoring `count` stored messages at start (`sse-courier/persist`, issue 15).
 *
 * Untimed set-up ("indexeddb", "local"): a first Connection (`persist: { store, key }`,
 * a fresh `key`) connects, sends `count` messages whose POSTs its injected `fetch`
 * never answers (no request is made), so all stay stored; once the store holds all of
 * them it is freed, as a page that died with them in flight, and its owner lock is
 * awaited until released.
 *
 * Timed: a second Connection on the same store; from its `connect()` call to
 * - `openMs`: `_open` (its stream is welcomed; no POST can go out before that);
 * - `firstSentMs`: the first restored message handed to `fetch` (the store is read
 *   and the stream open: all go out in that same task);
 * - `resentMs` (the headline): the last of the `count` restored messages handed to
 *   `fetch` (all re-sent; `restoredPending()` is read just after the first one and must
 *   list all `count`);
 * - `deliveredMs`: the last of their delivery reports (the server accepted all).
 * "fresh", the baseline without persistence: the persist entry with no `persist`,
 * and the same `count` messages passed to `send()` right after `connect()` (they wait
 * in the queue for the stream, as restored ones do); the same three times.
 */
async function restore({ variant, count }) {
  await control("reset");
  packageWarnings.length = 0;
  const sessionId = uid("rst");
  const namespace = uid("bench-restore");
  const store = PERSIST_STORES[variant] ?? null;
  const messages = Array.from({ length: count }, (_, i) => ({
    type: "send",
    sessionId,
    clientMsgId: `${sessionId}-${i}`,
    text: `message ${i} of the restore benchmark`,
  }));
  const isSend = (url) => endpointOf(url) === "send";

  if (store) {
    let posted = 0;
    const allPosted = deferred(`${count} POSTs of the first page`);
    const hang = (url, init) => {
      if (!isSend(url)) return fetch(url, init);
      if (++posted === count) allPosted.resolve();
      return new Promise(() => {});
    };
    const first = courier({ fetch: hang, maxPendingSends: Math.max(100, count), persist: { store, key: namespace } }, PersistConnection);
    await first.connect();
    for (const message of messages) if (!first.conn.send(message)) throw new Error("send refused");
    await allPosted.promise;
    const held = await storedCount(store, namespace);
    first.close();
    if (held !== count) throw new Error(`${variant}: the store holds ${held} of ${count} records`);
    // Until the first page's owner lock is released, its records are another live
    // tab's: wait for it as the next page would not have to.
    const ownerPrefix = `sse-courier:${namespace}:owner:`;
    const { held: locks } = await navigator.locks.query();
    await Promise.all(
      locks
        .filter((lock) => lock.name.startsWith(ownerPrefix))
        .map((lock) => navigator.locks.request(lock.name, { mode: "shared" }, () => {})),
    );
  }

  let posted = 0;
  let firstSentAt = 0;
  let resentAt = 0;
  let listed = null;
  let c;
  const allResent = deferred(`${count} POSTs after connect()`);
  const counting = (url, init) => {
    if (isSend(url)) {
      if (++posted === 1) {
        firstSentAt = now();
        queueMicrotask(() => (listed = c.conn.restoredPending().length));
      }
      if (posted === count) {
        resentAt = now();
        allResent.resolve();
      }
    }
    return fetch(url, init);
  };
  const options = { fetch: counting, maxPendingSends: Math.max(100, count) };
  if (store) options.persist = { store, key: namespace };
  c = courier(options, PersistConnection);
  const delivered = deferred(`${count} delivery reports`);
  let deliveredAt = 0;
  c.onReport = () => {
    if (c.reports === count) {
      deliveredAt = now();
      delivered.resolve();
    }
  };
  let openMs;
  let listedAtOpen;
  let restoredStat;
  let start;
  try {
    const open = c.opened();
    start = now();
    c.conn.connect();
    if (!store) for (const message of messages) if (!c.conn.send(message)) throw new Error("send refused");
    await open;
    openMs = c.openedAt - start;
    listedAtOpen = c.conn.restoredPending().length;
    await allResent.promise;
    await delivered.promise;
    restoredStat = c.conn.stats().restored;
  } finally {
    c.close();
  }
  if (c.failures.length) throw new Error(`${variant}: not delivered: ${JSON.stringify(c.failures.slice(0, 3))}`);
  if (store && listed !== count) throw new Error(`${variant}: restoredPending() listed ${listed}, not ${count}`);
  if (restoredStat !== (store ? count : 0)) throw new Error(`${variant}: stats().restored is ${restoredStat}`);
  const ids = await accepted(sessionId);
  if (ids.length !== count || new Set(ids).size !== count) throw new Error(`${variant}: the server accepted ${ids.length} of ${count}`);
  if (store) {
    const left = await storedCount(store, namespace);
    dropStore(store, namespace);
    if (left !== 0) throw new Error(`${variant}: ${left} records left in the store after every delivery`);
  }
  checkNoWarnings(variant);
  return {
    variant,
    count,
    openMs,
    firstSentMs: firstSentAt - start,
    resentMs: resentAt - start,
    deliveredMs: deliveredAt - start,
    listedAtOpen: store ? listedAtOpen : null,
    inOrder: ids.every((id, i) => id === messages[i].clientMsgId),
  };
}

// ---- 4. recovery -----------------------------------------------------------------

/**
 * One Connection with a tracked session (so every reconnect includes the reconnect
 * POST, as in a chat app). Times a send on the healthy connection, then a send after
 * the server silently forgot the connection (`forget`): from send() to the delivery
 * report, which comes when the server accepted the message; and the steps between,
 * from the page's trace of its streams and POSTs.
 */
async function recovery() {
  await control("reset");
  const sessionId = uid("rec");
  const c = courier({ fetch: tracedFetch, createEventSource: tracedEventSource });
  try {
    await c.connect();
    await c.watch(sessionId);
    // Two events so the session is tracked (lastSeq 2): reconnects replay from there.
    const seen = deferred("two session events");
    let events = 0;
    c.onEvent = (m) => {
      if (m.type === "block_delta" && ++events === 2) seen.resolve();
    };
    await control("emit", { sessionId, count: 2 });
    await seen.promise;

    const sendTimed = async (label) => {
      const clientMsgId = uid(label);
      const report = c.reportOf(clientMsgId);
      trace = [];
      const start = now();
      if (!c.conn.send({ type: "send", sessionId, clientMsgId, text: label })) throw new Error("send refused");
      await report;
      const end = now();
      const steps = trace.map((e) => ({ ...e, t: e.t - start }));
      trace = null;
      return { ms: end - start, steps };
    };

    const healthy = await sendTimed("healthy");
    const connectionId = c.conn.getConnectionId();
    await control("forget", { connectionId });
    const stale = await sendTimed("stale");
    if (c.conn.getConnectionId() === connectionId) throw new Error("the stale send did not reconnect");

    // Steps of the stale send: 404 answer, new stream, welcome, reconnect answer, resend answer.
    const s = stale.steps;
    const at = (pred) => s.find(pred)?.t ?? null;
    const answer404 = at((e) => e.what === "answer" && e.status === 404);
    const newStream = at((e) => e.what === "stream-open");
    const welcome = at((e) => e.what === "welcome");
    const reconnectPost = at((e) => e.what === "post" && e.endpoint === "reconnect");
    const reconnectAnswer = at((e) => e.what === "answer" && e.endpoint === "reconnect");
    const resends = s.filter((e) => e.what === "post" && e.endpoint === "send");
    const resend = resends[1]?.t ?? null;
    const resendAnswer = s.filter((e) => e.what === "answer" && e.endpoint === "send")[1]?.t ?? null;
    return {
      healthyMs: healthy.ms,
      staleMs: stale.ms,
      streamsOpened: s.filter((e) => e.what === "stream-open").length,
      posts: s.filter((e) => e.what === "answer").map((e) => `${e.endpoint} ${e.status}`),
      steps: { answer404, newStream, welcome, reconnectPost, reconnectAnswer, resend, resendAnswer },
      // Time between a step's cause and the next step: all ~0 when nothing waits on a timer.
      gapsMs: {
        afterAnswer404: newStream - answer404,
        afterWelcome: reconnectPost - welcome,
        afterReconnectAnswer: resend - reconnectAnswer,
      },
    };
  } finally {
    c.close();
    trace = null;
  }
}

/**
 * A dead stream: the server forgets the connection, so its stream stays open but goes
 * silent (no events, no heartbeats). With `staleAfterMs`, the watchdog should rebuild
 * the stream `staleAfterMs` after the last event; measured from that last event, and
 * from the moment the server forgot, to the old stream's close, and on to `_open`.
 */
async function deadStream({ staleAfterMs }) {
  await control("reset");
  const c = courier({ staleAfterMs, createEventSource: tracedEventSource });
  try {
    await c.connect();
    // Two heartbeats first, so the stream is in its steady state.
    const beats = deferred("two heartbeats", 15000);
    let heartbeats = 0;
    c.onEvent = (m) => {
      if (m.type === "heartbeat" && ++heartbeats === 2) beats.resolve();
    };
    await beats.promise;
    trace = [];
    const reopened = c.opened();
    const forgetAt = now();
    await control("forget", { connectionId: c.conn.getConnectionId() });
    await reopened;
    const openAt = now();
    const events = trace;
    trace = null;
    const close = events.find((e) => e.what === "stream-close");
    if (!close) throw new Error("the dead stream was not closed");
    return {
      staleAfterMs,
      // From the dead stream's last event (a heartbeat) to its close by the watchdog.
      silenceMs: close.t - close.lastMessageAt,
      detectAfterForgetMs: close.t - forgetAt,
      reconnectedMs: openAt - close.t,
    };
  } finally {
    c.close();
    trace = null;
  }
}

// ---- 5. memory -------------------------------------------------------------------

function metrics() {
  return {
    wasmMemoryBytes: wasm.memory.buffer.byteLength,
    externrefTableLength: wasm.__wbindgen_externrefs?.length ?? null,
    liveListeners,
    liveTimers: liveTimers.size,
    openEventSources: openSources,
    jsHeapBytes: performance.memory?.usedJSHeapSize ?? null,
  };
}

/**
 * One Connection through a warm-up, then `messages` events received and `messages`
 * sends delivered, then `cycles` connect/disconnect cycles (each waits for `_open`),
 * then `cycles` whole lifetimes (new Connection, connect, `_open`, disconnect, free);
 * the figures after each stage, beside the ones after the warm-up.
 */
async function memory({ messages, cycles, batch, warmup }) {
  await control("reset");
  const before = metrics();
  const sessionId = uid("mem");
  const c = courier({ createEventSource: tracedEventSource, fetch: tracedFetch });
  trace = [];
  let received = 0;
  let want = 0;
  let enough = null;
  c.onEvent = (m) => {
    if (m.type === "block_delta" && ++received === want) enough.resolve();
  };
  const receive = async (count) => {
    want = received + count;
    enough = deferred(`${count} events`);
    // One session throughout (seqs keep rising; the server's store keeps the newest).
    for (let left = count; left > 0; left -= 10000) {
      await control("emit", { sessionId, count: Math.min(left, 10000), fields: { delta: "x".repeat(100) } });
    }
    await enough.promise;
  };
  let sent = 0;
  const sendAll = async (count) => {
    for (let left = count; left > 0; left -= batch) {
      const n = Math.min(left, batch);
      const target = c.reports + n;
      const done = deferred(`${n} delivery reports`);
      done.promise.catch((error) => {
        const tail = (trace ?? []).filter((e) => e.what !== "message" && !(e.what === "post" && e.endpoint === "send") && !(e.what === "answer" && e.status === 200)).slice(-30);
        error.message += ` trace: ${JSON.stringify(tail)} (reports ${c.reports}/${target}, pending ${c.conn.pendingCount}, in flight ${c.conn.inFlightCount}, connected ${c.conn.isConnected()}, failures ${JSON.stringify(c.failures.slice(0, 3))})`;
      });
      c.onReport = () => {
        if (c.reports === target) done.resolve();
      };
      for (let i = 0; i < n; i++) {
        if (!c.conn.send({ type: "send", sessionId, clientMsgId: `${sessionId}-${sent++}`, text: "memory" }))
          throw new Error("send refused");
      }
      await done.promise;
    }
    c.onReport = null;
  };
  const connectCycles = async (count) => {
    for (let i = 0; i < count; i++) {
      c.conn.disconnect();
      await c.connect();
    }
  };
  const lifetimes = async (count) => {
    for (let i = 0; i < count; i++) {
      const other = courier({ createEventSource: tracedEventSource });
      await other.connect();
      other.close();
    }
  };
  const t0 = now();
  try {
    await c.connect();
    await c.watch(sessionId);
    await receive(warmup.messages);
    await sendAll(warmup.messages);
    await connectCycles(warmup.cycles);
    await lifetimes(warmup.cycles);
    const afterWarmup = metrics();
    await receive(messages);
    await sendAll(messages);
    const afterMessages = metrics();
    await connectCycles(cycles);
    const afterCycles = metrics();
    await lifetimes(cycles);
    const afterLifetimes = metrics();
    if (c.failures.length) throw new Error(`not delivered: ${JSON.stringify(c.failures.slice(0, 3))}`);
    return {
      messages,
      cycles,
      before,
      afterWarmup,
      afterMessages,
      afterCycles,
      afterLifetimes,
      ms: now() - t0,
    };
  } finally {
    c.close();
  }
}

// ---- 6. one stream for all tabs (issue 16) ---------------------------------------

// bench/run.mjs opens this page in several tabs of one browser session. Each tab holds
// one `sse-courier/tabs` Connection with `shareAcrossTabs` set to the run's channel
// name (`tabsConnect`): the first to connect leads (it holds the Web Lock and the one
// EventSource), the others follow (the leader relays every event to them over the
// package's BroadcastChannel). A run is armed in every tab (`tabsArm`), then the tab
// the driver focuses gathers every tab's figures (`tabsGather`): the tabs report to
// each other over a BroadcastChannel of the bench's own, so the driver never has to
// switch tabs (and so change which one is visible) while a run is going on.

/** Wall-clock time with performance.now()'s resolution, comparable between tabs. */
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * How far this page's `epochNow()` is ahead of `Date.now()` (ms): sampled at the
 * moments Date.now() steps to its next whole millisecond, for `ms`. Every tab's
 * timeOrigin is taken from the wall clock when its page loads, so two tabs' clocks
 * may disagree by a little; the difference of their offsets is that disagreement.
 */
function clockOffset(ms = 100) {
  const offsets = [];
  const end = performance.now() + ms;
  let last = Date.now();
  while (performance.now() < end) {
    const d = Date.now();
    if (d !== last) {
      offsets.push(epochNow() - d);
      last = d;
    }
  }
  offsets.sort((a, b) => a - b);
  return offsets.length ? offsets[offsets.length >> 1] : null;
}

/**
 * Where a tab's time goes in the tabs runs, reset when a run is armed: time inside the
 * package's handler of its own stream's events (`stream`: the leader's, or a lone
 * tab's; it includes relaying each event), inside its handler of the sharing channel's
 * messages (`channel`: a follower's relayed events), and inside
 * `BroadcastChannel.postMessage` on the sharing channel (`post`: the relaying itself,
 * structured clone included). Measured by wrapping those handlers and that method.
 */
const tabsCost = { streamMs: 0, streamEvents: 0, channelMs: 0, channelMessages: 0, postMs: 0, posts: 0 };
const SHARING = "sse-courier/tabs/"; // the package's channel names start so (src/web/tabs.js)

function timed(handler, msKey, countKey) {
  return function (event) {
    const t = now();
    try {
      return handler.call(this, event);
    } finally {
      tabsCost[msKey] += now() - t;
      tabsCost[countKey]++;
    }
  };
}

const realPostMessage = BroadcastChannel.prototype.postMessage;
BroadcastChannel.prototype.postMessage = function (message) {
  if (!this.name.startsWith(SHARING)) return realPostMessage.call(this, message);
  const t = now();
  try {
    return realPostMessage.call(this, message);
  } finally {
    tabsCost.postMs += now() - t;
    tabsCost.posts++;
  }
};
const channelOnmessage = Object.getOwnPropertyDescriptor(BroadcastChannel.prototype, "onmessage");
Object.defineProperty(BroadcastChannel.prototype, "onmessage", {
  ...channelOnmessage,
  set(handler) {
    const sharing = typeof handler === "function" && this.name.startsWith(SHARING);
    channelOnmessage.set.call(this, sharing ? timed(handler, "channelMs", "channelMessages") : handler);
  },
});

/** An EventSource whose `onmessage` handler (the package's) is timed into `tabsCost`. */
function timedEventSource(url) {
  const es = new EventSource(url);
  const sourceOnmessage = Object.getOwnPropertyDescriptor(EventSource.prototype, "onmessage");
  Object.defineProperty(es, "onmessage", {
    configurable: true,
    get: () => sourceOnmessage.get.call(es),
    set: (handler) =>
      sourceOnmessage.set.call(es, typeof handler === "function" ? timed(handler, "streamMs", "streamEvents") : handler),
  });
  return es;
}

const tabsPage = {
  name: null, // the run's shareAcrossTabs name
  shared: null, // courier() handle of the shared Connection
  lone: null, // courier() handle of a Connection without sharing (this tab only)
  streams: [], // this tab's own EventSources: { es, openedAt, welcomeAt, closed }
  bench: null, // the bench's own BroadcastChannel (figures, "go", the leader leaving)
  armed: null, // the run this tab takes part in
  results: new Map(), // run -> [figures of each tab], in the gathering tab
  gather: null, // { run, expected, deferred } while this tab gathers
};

/** Whether this tab leads: its own EventSource is open (a follower's never opens). */
const tabsIsLeader = () => tabsPage.streams.some((s) => !s.closed);

function tabsVisibility() {
  return { visibility: document.visibilityState, focused: document.hasFocus() };
}

/** A figure of this tab's for the run, to the gathering tab (this one or another). */
function tabsReport(figures) {
  const message = { kind: "result", run: figures.run, figures };
  tabsOnBench(message);
  tabsPage.bench.postMessage(message);
}

function tabsOnBench(message) {
  const armed = tabsPage.armed;
  if (message.kind === "result") {
    if (!tabsPage.results.has(message.run)) tabsPage.results.set(message.run, []);
    tabsPage.results.get(message.run).push(message.figures);
    const g = tabsPage.gather;
    if (g && g.run === message.run && tabsPage.results.get(g.run).length >= g.expected) g.deferred.resolve();
  } else if (message.kind === "go" && armed?.run === message.run) {
    armed.go?.();
  } else if (message.kind === "leaving" && armed?.kind === "failover") {
    armed.leaderLeftAt ??= message.at;
  }
}

/**
 * Makes this tab's Connection: `share` the channel name (`shareAcrossTabs`), and
 * connects it, waiting for `_open` (a follower's comes with the leader's welcome).
 * `lone: true`: also a second Connection without sharing, for the lone-tab baseline.
 */
async function tabsConnect({ share, lone = false }) {
  if (!tabsPage.bench) {
    tabsPage.name = share;
    tabsPage.bench = new BroadcastChannel(`sse-courier bench ${share}`);
    tabsPage.bench.onmessage = (event) => tabsOnBench(event.data);
    // The leader's page going away (the failover runs), stamped in that page.
    window.addEventListener("pagehide", () => {
      if (tabsIsLeader()) tabsPage.bench.postMessage({ kind: "leaving", at: epochNow() });
    });
  }
  const createEventSource = (url) => {
    const es = timedEventSource(url);
    const stream = { es, openedAt: epochNow(), welcomeAt: null, closed: false };
    tabsPage.streams.push(stream);
    realAdd.call(es, "welcome", () => (stream.welcomeAt ??= epochNow()));
    const close = es.close.bind(es);
    es.close = () => {
      stream.closed = true;
      close();
    };
    return es;
  };
  tabsPage.shared = courier({ shareAcrossTabs: share, createEventSource }, TabsConnection);
  await tabsPage.shared.connect();
  if (lone) {
    tabsPage.lone = courier({ createEventSource: timedEventSource }, TabsConnection);
    await tabsPage.lone.connect();
  }
  checkNoWarnings("tabsConnect");
  return { leader: tabsIsLeader(), connectionId: tabsPage.shared.conn.getConnectionId(), ...tabsVisibility() };
}

/**
 * Arms run `run` in this tab. Every kind resolves once armed; the tab reports its
 * figures on the bench channel when its part is done.
 *
 * - `latency`: watches `sessionId` (a POST of this tab's); then for each of the
 *   `count` events of that session (emitted by the driver, each with `sentAt`, the
 *   driver's wall-clock time at its emit call) records `epochNow()` when this tab's
 *   listener gets it.
 * - `burst`: watches `sessionId`; counts `count` events at this tab's listener, the
 *   first's and the last one's times. The tab with `emitter` (the leader, whose stream
 *   the server fills) emits them on "go", as `inbound` does (batches of `batch`, at
 *   most `ahead` not yet received by it). `lone`: this tab's unshared Connection.
 * - `failover`: (a follower) records when its own EventSource opens (it took the
 *   lock), is welcomed, and its `_open`, and when the leader's page said it was leaving.
 */
async function tabsArm({ run, kind, sessionId, count, batch, ahead, bytes, emitter = false, lone = false }) {
  const c = lone ? tabsPage.lone : tabsPage.shared;
  const role = lone ? "lone" : tabsIsLeader() ? "leader" : "follower";
  const armedAt = { clockOffsetMs: clockOffset(), ...tabsVisibility() };
  const armed = { run, kind };
  tabsPage.armed = armed;
  for (const key of Object.keys(tabsCost)) tabsCost[key] = 0;
  const report = (figures) => {
    c.onEvent = null;
    tabsPage.armed = null;
    const cost = { ...tabsCost };
    tabsReport({ run, kind, role, armedAt, doneAt: tabsVisibility(), clockOffsetMs: clockOffset(), cost, ...figures });
  };
  if (kind === "failover") {
    const streamsBefore = tabsPage.streams.length;
    const open = c.opened();
    open.then(
      () => {
        const stream = tabsPage.streams[streamsBefore];
        report({
          leaderLeftAt: armed.leaderLeftAt ?? null,
          streamOpenedAt: stream?.openedAt ?? null,
          welcomeAt: stream?.welcomeAt ?? null,
          openAt: performance.timeOrigin + c.openedAt,
          leader: tabsIsLeader(),
          visibilityAtOpen: tabsVisibility(),
        });
      },
      (error) => report({ error: String(error) }),
    );
    return { armed: run, role };
  }
  await c.watch(sessionId);
  if (kind === "latency") {
    const at = new Array(count).fill(null);
    const wall = new Array(count).fill(null); // Date.now(): one clock for every tab, in whole ms
    const sentAt = new Array(count).fill(null);
    let received = 0;
    c.onEvent = (message) => {
      if (message.type !== "block_delta" || message.sessionId !== sessionId) return;
      const i = message.seq - 1;
      if (at[i] !== null) return;
      at[i] = epochNow();
      wall[i] = Date.now();
      sentAt[i] = message.sentAt;
      if (++received === count) report({ at, wall, sentAt });
    };
    return { armed: run, role };
  }
  // burst
  let received = 0;
  let first = 0;
  let firstAt = 0;
  c.onEvent = (message) => {
    if (message.type !== "block_delta" || message.sessionId !== sessionId) return;
    const t = now();
    if (received === 0) {
      first = t;
      firstAt = epochNow();
    }
    if (++received === armed.refillAt) armed.emitMore();
    if (received === count) {
      const ms = t - first;
      report({ count, ms, perSecond: ((count - 1) * 1000) / ms, firstAt, lastAt: epochNow() });
    }
  };
  if (emitter) {
    const fields = { delta: "x".repeat(bytes) };
    let emitted = 0;
    let emitting = false;
    armed.refillAt = -1;
    armed.emitMore = () => {
      const n = Math.min(batch, count - emitted);
      if (emitting || n <= 0 || emitted + n - received > ahead) return;
      emitted += n;
      emitting = true;
      control("emit", { sessionId, count: n, fields }).then(
        () => {
          emitting = false;
          armed.refillAt = emitted + Math.min(batch, count - emitted) - ahead;
          armed.emitMore();
        },
        (error) => report({ error: String(error) }),
      );
    };
    armed.go = () => armed.emitMore();
  } else {
    armed.emitMore = () => {};
  }
  return { armed: run, role };
}

/**
 * In the tab the driver focused: starts run `run` (its emitter, wherever it is) and
 * resolves with the figures of `expected` tabs (this one's among them if it takes
 * part), or rejects after `timeoutMs`.
 */
async function tabsGather({ run, expected, timeoutMs = 60000 }) {
  const gathered = deferred(`figures of ${expected} tabs for ${run}`, timeoutMs);
  tabsPage.gather = { run, expected, deferred: gathered };
  if ((tabsPage.results.get(run)?.length ?? 0) >= expected) gathered.resolve();
  const go = { kind: "go", run };
  tabsPage.bench.postMessage(go);
  tabsOnBench(go);
  try {
    await gathered.promise;
  } finally {
    tabsPage.gather = null;
  }
  const figures = tabsPage.results.get(run);
  tabsPage.results.delete(run);
  const failed = figures.find((f) => f.error);
  if (failed) throw new Error(`${run}: ${failed.role}: ${failed.error}`);
  return figures;
}

/**
 * What one `BroadcastChannel.postMessage` costs in this engine, in µs per event, on
 * the bench's channel (every other tab of the run receives and ignores them): `count`
 * messages shaped as the leader relays an event (`[kind, epoch, leader, n, sessionId,
 * seq, sessions, data]`, `data` the parsed event, as src/web/tabs.rs posts it); the
 * same with `data` the event's JSON text (the two in the order `reverse` says); and
 * the same events `batch` to a message.
 */
function tabsPostCost({ count, batch, bytes, reverse = false }) {
  const sessionId = uid("post");
  const event = (seq) => ({ delta: "x".repeat(bytes), seq, sessionId, type: "block_delta" });
  const shapes = {
    parsed: Array.from({ length: count }, (_, i) => ["noise", 1, 2, i + 1, sessionId, i + 1, [], event(i + 1)]),
    text: Array.from({ length: count }, (_, i) => ["noise", 1, 2, i + 1, sessionId, i + 1, [], JSON.stringify(event(i + 1))]),
  };
  const perEvent = {};
  const order = Object.entries(shapes);
  for (const [shape, messages] of reverse ? order.reverse() : order) {
    const start = now();
    for (const message of messages) tabsPage.bench.postMessage(message);
    perEvent[shape] = ((now() - start) * 1000) / count;
  }
  const batches = [];
  for (let i = 0; i < count; i += batch) batches.push(["noise", shapes.parsed.slice(i, i + batch)]);
  const start = now();
  for (const message of batches) tabsPage.bench.postMessage(message);
  perEvent[`batchesOf${batch}`] = ((now() - start) * 1000) / count;
  return perEvent;
}

/** This tab's role and visibility, for the driver. */
function tabsState() {
  return { leader: tabsIsLeader(), streams: tabsPage.streams.length, ...tabsVisibility() };
}

window.__bench = {
  ready: true,
  userAgent: navigator.userAgent,
  // Which baseline build the page holds (bench/build.mjs), or null.
  baseline: baselineInfo,
  inbound,
  inboundDispatch,
  outbound,
  restore,
  recovery,
  deadStream,
  memory,
  metrics,
  tabsConnect,
  tabsArm,
  tabsGather,
  tabsPostCost,
  tabsState,
};
