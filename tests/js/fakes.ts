// Fakes shaped like the existing client's own test fakes: an EventSource with only
// addEventListener/removeEventListener/close/onmessage/onerror/readyState, and a fetch
// that resolves with plain `{ ok, status? }` objects.
import { vi } from "vitest";
import { Connection, type ConnectionConfig, type DeliveryReport } from "sse-courier";

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
