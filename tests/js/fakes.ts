// Fakes shaped like the existing client's own test fakes: an EventSource with only
// addEventListener/removeEventListener/close/onmessage/onerror/readyState, and a fetch
// that resolves with plain `{ ok, status? }` objects.
import { vi, beforeEach, afterEach } from "vitest";
import { Connection, type ConnectionConfig, type ConnectionStats, type DeliveryReport } from "sse-courier";

type Handler = (e: MessageEvent) => void;

export class FakeEventSource {
  static all: FakeEventSource[] = [];
  readyState = 0;
  onmessage: ((e: MessageEvent) => void) | null = null;
  onerror: (() => void) | null = null;
  private handlers = new Map<string, Handler[]>();

  constructor(public url: string) {
    FakeEventSource.all.push(this);
  }
  addEventListener(type: string, handler: Handler): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), handler]);
  }
  removeEventListener(type: string, handler: Handler): void {
    this.handlers.set(type, (this.handlers.get(type) ?? []).filter((h) => h !== handler));
  }
  close(): void {
    this.readyState = 2;
  }
  listenerCount(type: string): number {
    return this.handlers.get(type)?.length ?? 0;
  }
  /** Named `welcome` goes to listeners; everything else through onmessage, as the server sends it. */
  emit(type: string, data: unknown): void {
    const event = new MessageEvent(type, { data: typeof data === "string" ? data : JSON.stringify(data) });
    if (type === "welcome") for (const h of this.handlers.get("welcome") ?? []) h(event);
    else this.onmessage?.(event);
  }
  welcome(connectionId: string): void {
    this.emit("welcome", { type: "welcome", protocolVersion: 2, connectionId });
  }
  fail(): void {
    this.onerror?.();
  }
}

export const BASE = "https://localhost:3100";

export function latest(): FakeEventSource {
  return FakeEventSource.all[FakeEventSource.all.length - 1];
}

export function okFetch() {
  return vi.fn().mockResolvedValue({ ok: true });
}

export function makeConnection(overrides: Partial<ConnectionConfig> = {}) {
  const config: ConnectionConfig = {
    baseUrl: BASE,
    fetch: okFetch(),
    createEventSource: (url: string) => new FakeEventSource(url) as unknown as EventSource,
    ...overrides,
  };
  return new Connection(config);
}

/** A fetch whose answers the test settles by hand, per call. */
export function manualFetch() {
  const calls: Array<{ url: string; init: RequestInit; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  const fn = vi.fn((url: string, init: RequestInit) =>
    new Promise((resolve, reject) => calls.push({ url, init, resolve, reject })),
  );
  return { fn, calls, endpoints: () => calls.map((c) => c.url.replace(`${BASE}/api/chat/`, "")) };
}

/** A connection past its welcome ("conn-1"), its POSTs answered by hand, its reports
 * and listener calls recorded. */
export function connectedWithManualFetch(overrides: Partial<ConnectionConfig> = {}) {
  const manual = manualFetch();
  const reports: DeliveryReport[] = [];
  const listener = vi.fn();
  const conn = makeConnection({ fetch: manual.fn as never, onDelivery: (r) => reports.push(r), ...overrides });
  conn.onMessage(listener);
  conn.connect();
  latest().welcome("conn-1");
  return { conn, manual, reports, listener };
}

/** `stats()` of a connection that has seen and done nothing: every counter 0. */
export const noCounts: ConnectionStats = {
  streamsOpened: 0,
  reconnects: 0,
  reconnectPosts: 0,
  reconnectPostFailures: 0,
  duplicatesSkipped: 0,
  malformedEvents: 0,
  stale404s: 0,
  sendRetries: 0,
  postTimeouts: 0,
  lateAnswers: 0,
  staleStreams: 0,
  delivered: 0,
  dropped: 0,
  failed: 0,
  restored: 0,
  expired: 0,
  probesSent: 0,
  probesFailed: 0,
  resyncs: 0,
  acksPosted: 0,
  ackFailures: 0,
  snapshotsApplied: 0,
  uncertain: 0,
  authLosses: 0,
};

/**
 * The page of a test file, fresh for each test: fake timers, a `document` and a window
 * (counting event targets; the window's listener functions stubbed as globals), and the
 * connections handed to `track`, freed after each test before the fake page goes, so
 * that no finalizer later detaches from a page that no longer exists.
 */
export function useFakePage() {
  const made: Array<{ free(): void }> = [];
  const page = {
    doc: new CountingTarget(),
    win: new CountingTarget(),
    track<T extends { free(): void }>(conn: T): T {
      made.push(conn);
      return conn;
    },
  };
  beforeEach(() => {
    FakeEventSource.all = [];
    vi.useFakeTimers();
    page.doc = new CountingTarget();
    page.win = new CountingTarget();
    vi.stubGlobal("document", page.doc);
    vi.stubGlobal("addEventListener", page.win.addEventListener.bind(page.win));
    vi.stubGlobal("removeEventListener", page.win.removeEventListener.bind(page.win));
  });
  afterEach(() => {
    for (const conn of made.splice(0)) {
      try {
        conn.free();
      } catch {
        // freed by the test
      }
    }
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });
  return page;
}

/** A page's `document` or `window` as far as the package touches them: event targets
 * that count their listeners and fire events by hand. */
export class CountingTarget {
  handlers = new Map<string, Set<(e: unknown) => void>>();
  visibilityState = "visible";
  addEventListener(type: string, h: (e: unknown) => void) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type)!.add(h);
  }
  removeEventListener(type: string, h: (e: unknown) => void) {
    this.handlers.get(type)?.delete(h);
  }
  count(): number {
    return [...this.handlers.values()].reduce((n, s) => n + s.size, 0);
  }
  fire(type: string, event: Record<string, unknown> = {}) {
    for (const h of this.handlers.get(type) ?? []) h({ type, ...event });
  }
}

/** `Storage`'s methods over a Map, with an optional quota in characters. */
export class FakeStorage {
  private values = new Map<string, string>();
  constructor(private quota = Infinity) {}
  get length() {
    return this.values.size;
  }
  key(index: number) {
    return [...this.values.keys()][index] ?? null;
  }
  getItem(key: string) {
    return this.values.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    const used = [...this.values].reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (used + key.length + value.length > this.quota) {
      throw Object.assign(new Error("the quota has been exceeded"), { name: "QuotaExceededError" });
    }
    this.values.set(key, value);
  }
  removeItem(key: string) {
    this.values.delete(key);
  }
}

/** The Web Locks API (`navigator.locks`) of one browser: exclusive and shared locks by
 * name, granted in request order, released when the callback's promise settles, and
 * `query()`. `{ steal: true }` takes the lock at once from its holders, whose request
 * promises reject with an AbortError. A page that dies loses its locks: `crash()`. A
 * browser that refuses every request (an opaque origin, a sandboxed frame) rejects it
 * with `refusal` when set, never calling back. */
export class FakeLocks {
  refusal: DOMException | undefined = undefined;
  private held: Array<{ name: string; mode: string; stolen: () => void }> = [];
  private waiting: Array<{ name: string; mode: string; grant: () => void }> = [];

  request(name: string, ...args: unknown[]): Promise<unknown> {
    if (this.refusal) return Promise.reject(this.refusal);
    const callback = args[args.length - 1] as (lock: unknown) => unknown;
    const options = (args.length > 1 ? args[0] : {}) as { mode?: string; signal?: AbortSignal; steal?: boolean };
    const mode = options.mode ?? "exclusive";
    if (options.steal && options.signal) return Promise.reject(new DOMException("steal and signal", "NotSupportedError"));
    return new Promise((resolve, reject) => {
      options.signal?.addEventListener("abort", () => {
        const before = this.waiting.length;
        this.waiting = this.waiting.filter((w) => w.grant !== grant);
        if (this.waiting.length < before) reject(new DOMException("aborted", "AbortError"));
      });
      const grant = () => {
        const lock = { name, mode, stolen: () => reject(new DOMException("stolen", "AbortError")) };
        this.held.push(lock);
        Promise.resolve()
          .then(() => callback(lock))
          .then(resolve, reject)
          .finally(() => {
            this.held = this.held.filter((l) => l !== lock);
            this.grantWaiting();
          });
      };
      if (options.steal) {
        for (const lock of this.held.filter((l) => l.name === name)) {
          this.held = this.held.filter((l) => l !== lock);
          lock.stolen();
        }
        grant();
        return;
      }
      this.waiting.push({ name, mode, grant });
      this.grantWaiting();
    });
  }

  async query() {
    return {
      held: this.held.map(({ name, mode }) => ({ name, mode })),
      pending: this.waiting.map(({ name, mode }) => ({ name, mode })),
    };
  }

  heldNames(): string[] {
    return this.held.map((l) => l.name);
  }

  /** The tab holding the locks `name` matches crashed: they are released. */
  crash(name: RegExp) {
    this.held = this.held.filter((l) => !name.test(l.name));
    this.grantWaiting();
  }

  private grantWaiting() {
    for (const request of [...this.waiting]) {
      const holders = this.held.filter((l) => l.name === request.name);
      const earlier = this.waiting.slice(0, this.waiting.indexOf(request)).some((w) => w.name === request.name);
      const free = holders.length === 0 || (request.mode === "shared" && holders.every((l) => l.mode === "shared"));
      if (free && !earlier) {
        this.waiting = this.waiting.filter((w) => w !== request);
        request.grant();
      }
    }
  }
}

/** `BroadcastChannel` of one browser: each instance gets what the other instances of its
 * name post (never its own), structured-cloned, in a later task, in post order; a closed
 * one gets nothing and may not post; a `frozen` one (its page suspended) gets nothing and
 * what it posts reaches nobody. `posted` logs every message of every channel. */
export class FakeBroadcastChannel {
  static open = new Set<FakeBroadcastChannel>();
  static posted: Array<{ name: string; data: unknown }> = [];
  onmessage: ((event: { data: unknown }) => void) | null = null;
  frozen = false;
  private closed = false;

  constructor(public name: string) {
    FakeBroadcastChannel.open.add(this);
  }
  postMessage(data: unknown): void {
    if (this.closed) throw new DOMException("the channel is closed", "InvalidStateError");
    const copy = structuredClone(data);
    FakeBroadcastChannel.posted.push({ name: this.name, data: copy });
    if (this.frozen) return;
    const others = [...FakeBroadcastChannel.open].filter((c) => c !== this && c.name === this.name);
    setTimeout(() => {
      for (const other of others) if (!other.closed && !other.frozen) other.onmessage?.({ data: structuredClone(copy) });
    }, 0);
  }
  close(): void {
    this.closed = true;
    FakeBroadcastChannel.open.delete(this);
  }
  static reset(): void {
    FakeBroadcastChannel.open.clear();
    FakeBroadcastChannel.posted = [];
  }
}

/** One fresh browser for the tabs of a test: no streams yet, one Web Locks fake and
 * the BroadcastChannel fake, emptied; `console.warn` goes into the returned array. */
export function freshBrowserForTabs(): string[] {
  const warnings: string[] = [];
  FakeEventSource.all = [];
  FakeBroadcastChannel.reset();
  vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void warnings.push(args.join(" ")));
  vi.stubGlobal("navigator", { locks: new FakeLocks() });
  vi.stubGlobal("BroadcastChannel", FakeBroadcastChannel);
  return warnings;
}
