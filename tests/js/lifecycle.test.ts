// Page lifecycle (docs/delivery-rules.md, rule 9) and cleanup: every listener the
// package adds is removed by disconnect() and free(). The page is faked with counting
// event targets.
import { describe, it, expect, vi } from "vitest";
import { type DeliveryReport } from "sse-courier";
import { FakeEventSource, BASE, latest, makeConnection, manualFetch, okFetch, useFakePage } from "./fakes";

const page = useFakePage();

function connected() {
  const fetch = okFetch();
  const listener = vi.fn();
  const conn = page.track(makeConnection({ fetch }));
  conn.onMessage(listener);
  conn.connect();
  latest().welcome("conn-1");
  return { conn, fetch, listener };
}

describe("page lifecycle", () => {
  it("listens to visibilitychange, pageshow, pagehide and online once connected", () => {
    connected();
    expect([...page.doc.handlers.keys()]).toEqual(["visibilitychange"]);
    expect([...page.win.handlers.keys()].sort()).toEqual(["online", "pagehide", "pageshow"]);
  });

  it("visible again: checkAndReconnect and _foreground", () => {
    const { listener } = connected();
    latest().fail();
    const streams = FakeEventSource.all.length;
    page.doc.visibilityState = "visible";
    page.doc.fire("visibilitychange");
    expect(FakeEventSource.all.length).toBe(streams + 1);
    expect(listener).toHaveBeenCalledWith({ type: "_foreground" });
  });

  it("hidden: suspend with the tracked sessions", () => {
    const { conn, fetch } = connected();
    conn.trackSeq("s", 3);
    page.doc.visibilityState = "hidden";
    page.doc.fire("visibilitychange");
    expect(fetch).toHaveBeenCalledWith(`${BASE}/api/chat/suspend`, expect.any(Object));
  });

  it("pagehide: suspend", () => {
    const { conn, fetch } = connected();
    conn.trackSeq("s", 3);
    page.win.fire("pagehide");
    expect(fetch).toHaveBeenCalledWith(`${BASE}/api/chat/suspend`, expect.any(Object));
  });

  it("a suspend sent as the page goes away is keepalive; sendSuspend()'s init is exactly the existing client's", () => {
    const { conn, fetch } = connected();
    conn.trackSeq("s", 3);
    conn.sendSuspend();
    page.doc.visibilityState = "hidden";
    page.doc.fire("visibilitychange");
    page.win.fire("pagehide");
    const body = JSON.stringify({ type: "session_suspend", sessions: [{ sessionId: "s", lastSeq: 3 }] });
    const init = { method: "POST", headers: { "Content-Type": "application/json", "X-Connection-ID": "conn-1" }, body };
    expect(fetch.mock.calls).toEqual([
      [`${BASE}/api/chat/suspend`, init],
      [`${BASE}/api/chat/suspend`, { ...init, keepalive: true }],
      [`${BASE}/api/chat/suspend`, { ...init, keepalive: true }],
    ]);
  });

  it("pageshow from the bfcache reconnects a dropped connection; a fresh pageshow does nothing", () => {
    connected();
    latest().fail();
    const streams = FakeEventSource.all.length;
    page.win.fire("pageshow", { persisted: false });
    expect(FakeEventSource.all.length).toBe(streams);
    page.win.fire("pageshow", { persisted: true });
    expect(FakeEventSource.all.length).toBe(streams + 1);
  });
});

describe("cleanup", () => {
  it("disconnect removes every listener it added", () => {
    const { conn } = connected();
    expect(page.doc.count() + page.win.count()).toBe(4);
    conn.disconnect();
    expect(page.doc.count() + page.win.count()).toBe(0);
  });

  it("connect twice adds the page listeners once", () => {
    const { conn } = connected();
    conn.connect();
    expect(page.doc.count() + page.win.count()).toBe(4);
  });

  it("free() closes the stream and removes every listener and handler", () => {
    const { conn } = connected();
    const es = latest();
    conn.free();
    expect(es.readyState).toBe(2);
    expect(es.onmessage).toBeNull();
    expect(es.onerror).toBeNull();
    expect(es.listenerCount("welcome")).toBe(0);
    expect(page.doc.count() + page.win.count()).toBe(0);
  });

  it("free() disarms the host timer, and a POST answered after free() is ignored", async () => {
    const manual = manualFetch();
    const reports: DeliveryReport[] = [];
    const conn = page.track(makeConnection({ fetch: manual.fn as never, postTimeoutMs: 10_000, onDelivery: (r) => reports.push(r) }));
    conn.connect();
    latest().welcome("conn-1");
    conn.send({ type: "send", clientMsgId: "late" });
    // The POST's timeout is the connection's one host timer: free() must clear it, not
    // leave it to fire into a connection that is gone.
    expect(vi.getTimerCount()).toBe(1);
    conn.free();
    expect(vi.getTimerCount()).toBe(0);
    // A 500 would have the send retried by a live connection; the freed one neither
    // retries nor reports it, and arms nothing.
    manual.calls[0].resolve({ ok: false, status: 500 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(manual.calls).toHaveLength(1);
    expect(reports).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

// Everything the platform reports reaches the package through one callback; these pin
// down that it may be re-entered and torn down from inside itself.
describe("re-entrancy", () => {
  class ErrorOnClose extends FakeEventSource {
    override close(): void {
      super.close();
      this.onerror?.();
    }
  }

  function withSource(make: (url: string) => FakeEventSource) {
    const listener = vi.fn();
    const conn = page.track(
      makeConnection({ createEventSource: (url: string) => make(url) as unknown as EventSource }),
    );
    conn.onMessage(listener);
    conn.connect();
    latest().welcome("conn-1");
    return { conn, listener };
  }

  it("a listener may disconnect while an event is dispatched, even when close() reports an error", () => {
    const { conn, listener } = withSource((url) => new ErrorOnClose(url));
    listener.mockImplementation((msg: { type: string }) => {
      if (msg.type === "block_delta") conn.disconnect();
    });
    const es = latest();
    expect(() => es.emit("block_delta", { type: "block_delta", sessionId: "s", seq: 1 })).not.toThrow();
    expect(es.readyState).toBe(2);
    expect(conn.isConnected()).toBe(false);
    expect(conn.send({ type: "send" })).toBe(false);
    // The error close() reported belongs to a stream already let go: no _close, no
    // reconnect.
    expect(listener.mock.calls.map(([m]) => m.type)).toEqual(["_open", "block_delta"]);
    expect(FakeEventSource.all).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a listener may free the connection while an event is dispatched", async () => {
    const { conn, listener } = withSource((url) => new ErrorOnClose(url));
    listener.mockImplementation((msg: { type: string }) => {
      if (msg.type === "block_delta") conn.free();
    });
    const es = latest();
    expect(() => es.emit("block_delta", { type: "block_delta", sessionId: "s", seq: 1 })).not.toThrow();
    expect(es.readyState).toBe(2);
    expect(es.onmessage).toBeNull();
    expect(page.doc.count() + page.win.count()).toBe(0);
    await vi.runAllTimersAsync();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("a listener may send from inside _open: the POST is made at once", () => {
    const fetch = okFetch();
    const conn = page.track(makeConnection({ fetch }));
    conn.onMessage((msg: { type: string }) => {
      if (msg.type === "_open") conn.send({ type: "send", clientMsgId: "from-open" });
    });
    conn.connect();
    latest().welcome("conn-1");
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(JSON.parse(fetch.mock.calls[0][1].body).clientMsgId).toBe("from-open");
  });
});
