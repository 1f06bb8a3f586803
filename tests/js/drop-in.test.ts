// The existing SseConnection's behaviours, checked through the package's public API
// with the same kind of fakes its own tests use. If one of these fails, swapping
// `SseConnection` for `Connection` would break the existing client.
import { describe, it, expect, vi, beforeEach, afterEach } from "vitest";
import { FakeEventSource, BASE, latest, makeConnection, manualFetch, okFetch } from "./fakes";

beforeEach(() => {
  FakeEventSource.all = [];
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function connected(fetch = okFetch()) {
  const listener = vi.fn();
  const conn = makeConnection({ fetch });
  conn.onMessage(listener);
  conn.connect();
  latest().welcome("conn-abc");
  return { conn, listener, fetch };
}

describe("lifecycle", () => {
  it("connect opens one EventSource on the events URL", () => {
    const conn = makeConnection();
    conn.connect();
    expect(FakeEventSource.all).toHaveLength(1);
    expect(latest().url).toBe(`${BASE}/api/chat/events`);
  });

  it("is connected only after the welcome, with its id, and emits _open", () => {
    const conn = makeConnection();
    const listener = vi.fn();
    conn.onMessage(listener);
    conn.connect();
    expect(conn.isConnected()).toBe(false);
    expect(conn.getConnectionId()).toBeNull();
    latest().welcome("conn-abc");
    expect(conn.isConnected()).toBe(true);
    expect(conn.getConnectionId()).toBe("conn-abc");
    expect(listener).toHaveBeenCalledWith({ type: "_open" });
  });

  it("disconnect closes the EventSource and detaches its handlers", () => {
    const { conn } = connected();
    const es = latest();
    conn.disconnect();
    expect(conn.isConnected()).toBe(false);
    expect(es.readyState).toBe(2);
    expect(es.onmessage).toBeNull();
    expect(es.onerror).toBeNull();
    expect(es.listenerCount("welcome")).toBe(0);
  });

  it("send returns false after disconnect (no stream, no reconnect timer)", () => {
    const { conn } = connected();
    conn.disconnect();
    expect(conn.send({ type: "send", prompt: "x" })).toBe(false);
  });

  it("send returns false before connect()", () => {
    const conn = makeConnection();
    expect(conn.send({ type: "send", prompt: "x" })).toBe(false);
  });

  it("keeps the config reachable and reads config.fetch at each POST", () => {
    const conn = makeConnection();
    conn.connect();
    const replacement = okFetch();
    conn.config.fetch = replacement;
    latest().welcome("conn-abc");
    conn.send({ type: "send", prompt: "x" });
    expect(replacement).toHaveBeenCalledTimes(1);
  });
});

describe("receiving", () => {
  it("dispatches events whatever their MessageEvent type", () => {
    const { listener } = connected();
    latest().emit("block_delta", { type: "block_delta", sessionId: "sess-1", seq: 5, delta: "hello" });
    expect(listener).toHaveBeenCalledWith(expect.objectContaining({ type: "block_delta", delta: "hello" }));
  });

  it("tracks seq numbers from incoming events", () => {
    const { conn } = connected();
    latest().emit("block_delta", { type: "block_delta", sessionId: "sess-1", seq: 42, delta: "x" });
    expect(conn.getLastSeq("sess-1")).toBe(42);
  });

  it("works without a listener", () => {
    const conn = makeConnection();
    conn.connect();
    latest().welcome("conn-abc");
    latest().emit("block_delta", { type: "block_delta", sessionId: "s", seq: 1 });
    expect(conn.getLastSeq("s")).toBe(1);
  });

  it("skips malformed event data without breaking the stream", () => {
    const { listener } = connected();
    latest().emit("message", "not json{");
    latest().emit("message", "[1,2]");
    latest().emit("block_delta", { type: "block_delta", sessionId: "s", seq: 1 });
    // The listener got the welcome's _open and the one good event, nothing of the
    // malformed ones (neither their text nor the array parsed from "[1,2]").
    expect(listener.mock.calls).toEqual([[{ type: "_open" }], [{ type: "block_delta", sessionId: "s", seq: 1 }]]);
  });
});

describe("sending", () => {
  it("POSTs with exactly the existing client's request shape, synchronously", () => {
    const { conn, fetch } = connected();
    conn.send({ type: "send", sessionId: "sess-1", prompt: "hello", clientMsgId: "msg-1" });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch.mock.calls[0]).toHaveLength(2);
    expect(fetch).toHaveBeenCalledWith(`${BASE}/api/chat/send`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Connection-ID": "conn-abc" },
      body: JSON.stringify({ type: "send", sessionId: "sess-1", prompt: "hello", clientMsgId: "msg-1" }),
    });
  });

  it.each([
    ["send", "send"],
    ["stop", "stop"],
    ["interrupt", "interrupt"],
    ["permission_response", "permission"],
    ["set_mode", "mode"],
    ["watch", "watch"],
    ["unwatch", "unwatch"],
    ["switch_session", "switch"],
    ["session_suspend", "suspend"],
    ["session_close", "close"],
    ["reconnect", "reconnect"],
  ])("maps type %s to endpoint %s", (type, endpoint) => {
    const { conn, fetch } = connected();
    expect(conn.send({ type })).toBe(true);
    expect(fetch).toHaveBeenCalledWith(`${BASE}/api/chat/${endpoint}`, expect.any(Object));
  });

  it("returns false for unknown message types", () => {
    const { conn, fetch } = connected();
    expect(conn.send({ type: "unknown_garbage" })).toBe(false);
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe("pending queue", () => {
  it("queues sends before welcome and flushes them on it", () => {
    const fetch = okFetch();
    const conn = makeConnection({ fetch });
    conn.connect();
    expect(conn.send({ type: "send", prompt: "queued", clientMsgId: "q-1" })).toBe(true);
    expect(fetch).not.toHaveBeenCalled();
    latest().welcome("conn-abc");
    expect(fetch).toHaveBeenCalledWith(`${BASE}/api/chat/send`, expect.objectContaining({ method: "POST" }));
  });

  it("drops the oldest past 100 queued sends", () => {
    const conn = makeConnection();
    conn.connect();
    for (let i = 0; i < 101; i++) conn.send({ type: "send", prompt: `msg-${i}`, clientMsgId: `id-${i}` });
    const fetch = okFetch();
    conn.config.fetch = fetch;
    latest().welcome("conn-abc");
    expect(fetch).toHaveBeenCalledTimes(100);
    expect(JSON.parse(fetch.mock.calls[0][1].body).clientMsgId).toBe("id-1");
  });

  it("clearPendingSends empties the queue", () => {
    const fetch = okFetch();
    const conn = makeConnection({ fetch });
    conn.connect();
    conn.send({ type: "send", prompt: "cleared", clientMsgId: "c-1" });
    conn.clearPendingSends();
    latest().welcome("conn-abc");
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe("reconnect", () => {
  it("emits _close on a stream error when connected", () => {
    const { conn, listener } = connected();
    latest().fail();
    expect(listener).toHaveBeenCalledWith({ type: "_close" });
    expect(conn.isConnected()).toBe(false);
  });

  it("POSTs reconnect with tracked sessions on a later welcome", () => {
    const { conn, fetch } = connected();
    conn.trackSeq("sess-1", 10);
    conn.checkAndReconnect(true);
    fetch.mockClear();
    latest().welcome("conn-def");
    expect(fetch).toHaveBeenCalledWith(
      `${BASE}/api/chat/reconnect`,
      expect.objectContaining({
        method: "POST",
        body: JSON.stringify({ type: "reconnect", sessions: [{ sessionId: "sess-1", lastSeq: 10 }] }),
      }),
    );
  });

  it("is connected only once the reconnect POST succeeds", async () => {
    const manual = manualFetch();
    const { conn, listener } = connected(manual.fn as never);
    conn.trackSeq("sess-1", 10);
    conn.checkAndReconnect(true);
    listener.mockClear();
    latest().welcome("conn-def");
    expect(conn.isConnected()).toBe(false);
    expect(listener).not.toHaveBeenCalledWith({ type: "_open" });
    manual.calls[0].resolve({ ok: true });
    await vi.runAllTimersAsync();
    expect(conn.isConnected()).toBe(true);
    expect(listener).toHaveBeenCalledWith({ type: "_open" });
  });

  it("ignores a reconnect POST answered after disconnect()", async () => {
    const manual = manualFetch();
    const { conn, listener } = connected(manual.fn as never);
    conn.trackSeq("sess-1", 10);
    conn.checkAndReconnect(true);
    latest().welcome("conn-def");
    conn.disconnect();
    listener.mockClear();
    manual.calls[0].resolve({ ok: true });
    await vi.runAllTimersAsync();
    expect(conn.isConnected()).toBe(false);
    expect(listener).not.toHaveBeenCalledWith({ type: "_open" });
  });

  it("ignores a reconnect POST answered after a newer welcome", async () => {
    const manual = manualFetch();
    const { conn, listener } = connected(manual.fn as never);
    conn.trackSeq("sess-1", 10);
    conn.checkAndReconnect(true);
    latest().welcome("conn-def");
    latest().welcome("conn-ghi");
    manual.calls[0].resolve({ ok: true });
    await vi.runAllTimersAsync();
    expect(conn.isConnected()).toBe(false);
    expect(conn.getConnectionId()).toBe("conn-ghi");
    listener.mockClear();
    manual.calls[1].resolve({ ok: true });
    await vi.runAllTimersAsync();
    expect(conn.isConnected()).toBe(true);
    expect(listener).toHaveBeenCalledWith({ type: "_open" });
  });

  it("ignores a reconnect POST answered after checkAndReconnect", async () => {
    const manual = manualFetch();
    const { conn } = connected(manual.fn as never);
    conn.trackSeq("sess-1", 10);
    conn.checkAndReconnect(true);
    latest().welcome("conn-def");
    conn.checkAndReconnect(true);
    manual.calls[0].resolve({ ok: true });
    await vi.runAllTimersAsync();
    expect(conn.isConnected()).toBe(false);
  });

  it("flushes queued sends only after the reconnect POST", async () => {
    const manual = manualFetch();
    const { conn } = connected(manual.fn as never);
    conn.trackSeq("sess-1", 10);
    conn.checkAndReconnect(true);
    conn.send({ type: "send", prompt: "queued", clientMsgId: "q-1" });
    latest().welcome("conn-def");
    expect(manual.endpoints()).toEqual(["reconnect"]);
    manual.calls[0].resolve({ ok: true });
    await vi.runAllTimersAsync();
    expect(manual.endpoints()).toEqual(["reconnect", "send"]);
  });

  it.each([
    ["a failed status", () => Promise.resolve({ ok: false, status: 500 })],
    ["a network error", () => Promise.reject(new Error("network error"))],
  ])("stays disconnected when the reconnect POST meets %s", async (_name, answer) => {
    const fetch = vi.fn((url: string) => (url.includes("/reconnect") ? answer() : Promise.resolve({ ok: true })));
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const { conn, listener } = connected(fetch as never);
    conn.trackSeq("sess-1", 10);
    conn.checkAndReconnect(true);
    listener.mockClear();
    latest().welcome("conn-def");
    await vi.runAllTimersAsync();
    expect(conn.isConnected()).toBe(false);
    expect(listener).not.toHaveBeenCalledWith({ type: "_open" });
  });

  it("schedules a delayed new stream after a failed reconnect POST, and queued sends survive", async () => {
    let reconnects = 0;
    const endpoints: string[] = [];
    const fetch = vi.fn((url: string) => {
      const endpoint = url.replace(`${BASE}/api/chat/`, "");
      if (endpoint === "reconnect" && ++reconnects === 1) return Promise.resolve({ ok: false, status: 500 });
      endpoints.push(endpoint);
      return Promise.resolve({ ok: true });
    });
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const { conn } = connected(fetch as never);
    conn.trackSeq("sess-1", 10);
    conn.checkAndReconnect(true);
    conn.send({ type: "send", prompt: "must survive", clientMsgId: "q-1" });
    const before = FakeEventSource.all.length;
    latest().welcome("conn-def");
    await vi.runAllTimersAsync();
    expect(conn.isConnected()).toBe(false);
    expect(FakeEventSource.all.length).toBeGreaterThan(before);
    expect(endpoints).toEqual([]);
    latest().welcome("conn-ghi");
    await vi.runAllTimersAsync();
    expect(conn.isConnected()).toBe(true);
    expect(endpoints).toEqual(["reconnect", "send"]);
  });

  it("dispatches events while the reconnect POST is in flight", () => {
    const manual = manualFetch();
    const { conn, listener } = connected(manual.fn as never);
    conn.trackSeq("sess-1", 10);
    conn.checkAndReconnect(true);
    listener.mockClear();
    latest().welcome("conn-def");
    latest().emit("block_delta", { type: "block_delta", sessionId: "sess-1", seq: 11, delta: "replayed" });
    expect(listener).toHaveBeenCalledWith(expect.objectContaining({ delta: "replayed" }));
  });

  it("does not emit _close from checkAndReconnect when never connected", () => {
    const conn = makeConnection();
    const listener = vi.fn();
    conn.onMessage(listener);
    conn.connect();
    conn.checkAndReconnect(true);
    expect(listener).not.toHaveBeenCalledWith({ type: "_close" });
  });

  it("connects at once on a later welcome when no session is tracked", () => {
    const { conn, listener, fetch } = connected();
    conn.trackSeq("sess-1", 10);
    conn.clearSession("sess-1");
    conn.checkAndReconnect(true);
    fetch.mockClear();
    listener.mockClear();
    latest().welcome("conn-def");
    expect(fetch).not.toHaveBeenCalled();
    expect(conn.isConnected()).toBe(true);
    expect(listener).toHaveBeenCalledWith({ type: "_open" });
  });

  it("sends no reconnect POST on the first welcome", () => {
    const fetch = okFetch();
    const conn = makeConnection({ fetch });
    conn.connect();
    conn.trackSeq("sess-1", 5);
    latest().welcome("conn-abc");
    expect(fetch).not.toHaveBeenCalledWith(`${BASE}/api/chat/reconnect`, expect.any(Object));
  });

  it("checkAndReconnect(false) is a no-op when connected", () => {
    const { conn } = connected();
    const count = FakeEventSource.all.length;
    conn.checkAndReconnect(false);
    conn.checkAndReconnect();
    expect(FakeEventSource.all.length).toBe(count);
  });

  it("reconnects on a clean events URL", () => {
    const { conn } = connected();
    conn.trackSeq("sess-1", 10);
    conn.checkAndReconnect(true);
    expect(latest().url).toBe(`${BASE}/api/chat/events`);
  });
});

describe("sessions and suspend", () => {
  it("trackSeq / getLastSeq / clearSession / getTrackedSessions", () => {
    const conn = makeConnection();
    conn.trackSeq("sess-1", 5);
    conn.trackSeq("sess-2", 2);
    expect(conn.getLastSeq("sess-1")).toBe(5);
    expect(conn.getLastSeq("nonexistent")).toBe(0);
    expect(conn.getTrackedSessions()).toEqual(["sess-1", "sess-2"]);
    conn.clearSession("sess-1");
    expect(conn.getLastSeq("sess-1")).toBe(0);
  });

  it("sendSuspend POSTs suspend with the tracked sessions when connected", () => {
    const { conn, fetch } = connected();
    conn.trackSeq("sess-1", 42);
    conn.sendSuspend();
    expect(fetch).toHaveBeenCalledWith(
      `${BASE}/api/chat/suspend`,
      expect.objectContaining({
        method: "POST",
        body: JSON.stringify({ type: "session_suspend", sessions: [{ sessionId: "sess-1", lastSeq: 42 }] }),
      }),
    );
  });

  it("sendSuspend does nothing with no tracked sessions", () => {
    const { conn, fetch } = connected();
    conn.sendSuspend();
    expect(fetch).not.toHaveBeenCalled();
  });

  it("sendSuspend falls back to sendBeacon when not connected", () => {
    const beacon = vi.fn((_url: string, _data: Blob) => true);
    vi.stubGlobal("navigator", { sendBeacon: beacon });
    try {
      const conn = makeConnection({ suspendUrl: `${BASE}/api/chat/suspend-beacon` });
      conn.connect();
      latest().welcome("conn-abc");
      conn.trackSeq("sess-1", 7);
      latest().fail();
      conn.sendSuspend();
      expect(beacon).toHaveBeenCalledTimes(1);
      expect(beacon.mock.calls[0][0]).toBe(`${BASE}/api/chat/suspend-beacon`);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
