// Pages of the persisted outbox for the persist suites: a "page" is a Connection of
// the `sse-courier/persist` entry; a reload is a new Connection on the same store with
// the old page's locks gone (a new FakeLocks), as when the browser unloads the page.
// `usePages()` installs the fakes around each test and frees every page after it.
import { vi, beforeEach, afterEach } from "vitest";
import { Connection, type ConnectionConfig, type DeliveryReport, type PersistOptions } from "sse-courier/persist";
import { FakeEventSource, FakeLocks, FakeStorage, manualFetch, BASE } from "./fakes";

/** The warnings of the current test, and the pages it opened. */
const current = { warnings: [] as string[], pages: [] as Connection[] };

/** Installs, around each test of the calling suite: no streams yet, console.warn
 * recorded, Web Locks and a localStorage fakes; after it, every page freed. */
export function usePages() {
  beforeEach(() => {
    FakeEventSource.all = [];
    current.warnings = [];
    current.pages = [];
    vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => void current.warnings.push(args.join(" ")));
    vi.stubGlobal("navigator", { locks: new FakeLocks() });
    vi.stubGlobal("localStorage", new FakeStorage());
  });
  afterEach(() => {
    for (const page of current.pages) {
      try {
        page.free();
      } catch (_) {}
    }
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });
}

/** What console.warn said in the current test. */
export const warnings = () => current.warnings;

/** The browser closes every page: their locks are gone. */
export const restartBrowser = () => vi.stubGlobal("navigator", { locks: new FakeLocks() });

/** Lets promises, store transactions and lock grants run: at least 5 ms and 50 turns of
 * the event loop, since fake-indexeddb moves a transaction on one turn at a time
 * (setImmediate), and on a loaded machine 5 ms alone can pass within a few turns.
 * (`performance.now`: some tests fix `Date.now`.) */
export async function settle() {
  const until = performance.now() + 5;
  for (let turn = 0; turn < 50 || performance.now() < until; turn++) await new Promise((resolve) => setImmediate(resolve));
}

/** A page with the outbox in `store`: its POSTs answered by hand, its reports kept. */
export function openPage(persist: PersistOptions, overrides: Partial<ConnectionConfig> = {}) {
  const manual = manualFetch();
  const reports: DeliveryReport[] = [];
  const conn = new Connection({
    baseUrl: BASE,
    fetch: manual.fn as never,
    createEventSource: (url: string) => new FakeEventSource(url) as unknown as EventSource,
    onDelivery: (report) => reports.push(report),
    persist,
    ...overrides,
  });
  current.pages.push(conn);
  const stream = () => FakeEventSource.all.find((s) => s.url && streams.get(s) === conn);
  const streams = new Map<FakeEventSource, Connection>();
  const before = FakeEventSource.all.length;
  conn.connect();
  for (const s of FakeEventSource.all.slice(before)) streams.set(s, conn);
  const sent = () => manual.calls.map((c) => JSON.parse(c.init.body as string));
  return { conn, manual, reports, sent, stream };
}

/** A stored record of `message` under `key`, as a page long gone left it. */
export const recordOf = (key: string, message: object) =>
  JSON.stringify({
    version: 1,
    key,
    endpoint: "send",
    order: Date.now() * 1024,
    enqueuedAt: Date.now(),
    stale404s: 0,
    retries: 0,
    owner: "a-page-long-gone",
    body: JSON.stringify(message),
  });

/** Everything in the localStorage fake, each value parsed. */
export const stored = () => {
  const storage = localStorage as unknown as FakeStorage;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < storage.length; i++) {
    const name = storage.key(i)!;
    out[name] = JSON.parse(storage.getItem(name)!);
  }
  return out;
};
