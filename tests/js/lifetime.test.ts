// The lifetime promise: a Connection that is connected, connecting or reconnecting
// stays alive with no reference from the app until disconnect(), like the existing
// client's connection, which its EventSource's handlers keep alive. After
// disconnect() it is collected like any object, leaving no timer or listener behind.
// Runs with --expose-gc (vitest.config.ts); the package's own FinalizationRegistry
// would free a collected connection and close its stream.
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import { CountingTarget, FakeEventSource, latest, makeConnection } from "./fakes";

const { gc, setImmediate: nextTurn } = globalThis as unknown as {
  gc?: () => void;
  setImmediate: (callback: () => void) => void;
};

/** Full collections, with the event loop turned in between: WeakRef targets stay alive
 * until the job that touched them ends, and finalizers run as later tasks. */
async function collectGarbage(): Promise<void> {
  if (!gc) throw new Error("gc() is missing: run node with --expose-gc");
  for (let i = 0; i < 6; i++) {
    await new Promise<void>((resolve) => nextTurn(resolve));
    gc();
  }
  await new Promise<void>((resolve) => nextTurn(resolve));
}

let page: CountingTarget;
let collected: string[];
const registry = new FinalizationRegistry<string>((name) => collected.push(name));

/** Makes a connection in its own frame so that no local of the test holds it; the test
 * keeps only a WeakRef and whatever `use` returns. */
function unreferenced<T>(name: string, use: (conn: ReturnType<typeof makeConnection>) => T) {
  const conn = makeConnection();
  registry.register(conn, name);
  return { ref: new WeakRef(conn), result: use(conn) };
}

beforeEach(() => {
  FakeEventSource.all = [];
  collected = [];
  // Real setImmediate for collectGarbage; fake timers so that none can hide.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  page = new CountingTarget();
  vi.stubGlobal("document", page);
  vi.stubGlobal("addEventListener", page.addEventListener.bind(page));
  vi.stubGlobal("removeEventListener", page.removeEventListener.bind(page));
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("lifetime", () => {
  it("a connected connection the app no longer references keeps its stream and listener", async () => {
    const events: string[] = [];
    const { ref } = unreferenced("connected", (conn) => {
      conn.onMessage((msg) => events.push(msg.type));
      conn.connect();
      latest().welcome("c1");
    });
    await collectGarbage();

    expect(collected).toEqual([]);
    expect(ref.deref()).toBeDefined();
    const stream = latest();
    expect(stream.readyState).not.toBe(2);
    stream.emit("message", { type: "block_delta", sessionId: "s", seq: 1 });
    expect(events).toEqual(["_open", "block_delta"]);
  });

  it("a connection still connecting (no welcome yet) or reconnecting stays alive", async () => {
    const connecting = unreferenced("connecting", (conn) => conn.connect());
    const reconnecting = unreferenced("reconnecting", (conn) => {
      conn.connect();
      latest().welcome("c1");
      latest().fail();
    });
    await collectGarbage();

    expect(collected).toEqual([]);
    expect(connecting.ref.deref()).toBeDefined();
    expect(reconnecting.ref.deref()).toBeDefined();
  });

  it("after disconnect() an unreferenced connection is collected, leaving no timer or listener", async () => {
    const { ref } = unreferenced("disconnected", (conn) => {
      conn.connect();
      latest().welcome("c1");
      latest().readyState = 2; // closed for good: a reconnect timer is armed
      latest().fail();
      expect(vi.getTimerCount()).toBeGreaterThan(0);
      expect(page.count()).toBeGreaterThan(0);
      conn.disconnect();
    });
    expect(vi.getTimerCount()).toBe(0);
    expect(page.count()).toBe(0);
    await collectGarbage();

    expect(collected).toEqual(["disconnected"]);
    expect(ref.deref()).toBeUndefined();
    expect(FakeEventSource.all.every((source) => source.readyState === 2)).toBe(true);
  });

  it("a connection whose stream checkAndReconnect() opened, never connect(), stays alive with it", async () => {
    const events: string[] = [];
    const { ref } = unreferenced("opened by checkAndReconnect", (conn) => {
      conn.onMessage((msg) => events.push(msg.type));
      conn.checkAndReconnect();
      latest().welcome("c1");
    });
    await collectGarbage();

    expect(collected).toEqual([]);
    expect(ref.deref()).toBeDefined();
    latest().emit("message", { type: "block_delta", sessionId: "s", seq: 1 });
    expect(events).toEqual(["_open", "block_delta"]);
  });

  it("a connection never connected is collected as before", async () => {
    unreferenced("idle", () => undefined);
    await collectGarbage();
    expect(collected).toEqual(["idle"]);
  });

  it("free() releases a connected connection at once", () => {
    const events: string[] = [];
    const conn = makeConnection();
    conn.onMessage((msg) => events.push(msg.type));
    conn.connect();
    latest().welcome("c1");
    conn.free();

    expect(latest().readyState).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
    expect(page.count()).toBe(0);
    expect(events).toEqual(["_open"]);
  });
});
